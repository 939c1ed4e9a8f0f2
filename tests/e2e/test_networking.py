"""Networking end to end: moderated speed-dating rounds and partner requests on a real Synapse."""

from __future__ import annotations

import asyncio
import itertools
import re

from tests.catalog import body, markdown, says, stable
from tests.e2e.harness import BotProcess, Member, Received, module_bot

USER_ID = re.compile(r"@[a-z0-9._=\-/+]+:[a-zA-Z0-9.\-]+(?::\d+)?")
ROUND_SECONDS = 16


# A bot with short timers: partner requests wait 4 seconds.
netbot = module_bot("netbot", "\n[networking]\nwait_seconds = 4\nprivate_rooms = true\n")


async def community(owner: Member, others: list[Member], bot: BotProcess) -> str:
    room = await owner.create_room(invite=[bot.user_id, *(m.user_id for m in others)])
    await asyncio.gather(*(member.join(room) for member in others))
    await owner.wait_for_member(room, bot.user_id)
    return room


def groups_of(announcement: Received) -> list[set[str]]:
    """The groups listed in a round announcement ("1. @a & @b")."""
    groups = []
    for line in announcement.body.splitlines():
        if re.match(r"^\d+\. ", line.strip()):
            groups.append(set(USER_ID.findall(line)))
    return groups


async def intro_for(member: Member, group: set[str], community_room: str, after: int) -> Received:
    """The introduction a member gets in a private room: everyone of the group and a conversation starter."""

    def found() -> Received | None:
        for item in member.received[after:]:
            if item.room_id == community_room or not says(item.body, "networking_intro"):
                continue
            if all(user in item.body for user in group):
                return item
        return None

    await member.wait_until(lambda: found() is not None, timeout=45)
    intro = found()
    assert intro is not None
    return intro


async def test_three_moderated_rounds(netbot: BotProcess, member_factory) -> None:
    moderator = await member_factory("netmod")
    people = [await member_factory(f"net{name}") for name in ("anna", "ben", "cem", "dana", "emil")]
    room = await community(moderator, people, netbot)
    anna, ben, cem, dana, emil = people
    for member, organisation, level in (
        (anna, "Stadt Köln", "kommune"),
        (ben, "BMI", "bund"),
        (cem, "Land Hessen", "land"),
        (dana, "Stadt Jena", "kommune"),
    ):
        await member.command(room, f"!profil organisation {organisation}")
        await member.command(room, f"!profil ebene {level}")

    refused = await anna.command(room, "!runde öffnen")
    assert says(refused.body, "core_permission_moderator")
    opened = await moderator.command(room, "!runde öffnen")
    assert says(opened.body, "networking_block_opened")
    assert "🙋" in opened.body

    for member in (anna, ben, cem):
        reply = await member.command(room, "!runde mitmachen")
        assert says(reply.body, "networking_joined")
    # Reacting joins, removing the reaction leaves again; the English alias works too.
    dana_reaction = await dana.react(room, opened.event_id, "🙋")
    await emil.react(room, opened.event_id, "🙋")
    await dana.redact(room, dana_reaction)
    rejoined = await dana.command(room, "!round join")
    assert says(rejoined.body, "networking_joined", "en"), rejoined.body

    not_allowed = await ben.command(room, "!runde start 20s")
    assert says(not_allowed.body, "core_permission_moderator")

    seen_pairs: set[frozenset[str]] = set()
    marks = {member.user_id: len(member.received) for member in [*people, moderator]}
    started = await moderator.command(room, f"!runde start {ROUND_SECONDS}s")
    assert says(started.body, "networking_round_started", number=1), started.body
    groups = groups_of(started)
    assert sorted(len(group) for group in groups) == [2, 3]  # five people: one pair and the trio
    assert set().union(*groups) == {member.user_id for member in people}
    assert set(started.content["m.mentions"]["user_ids"]) == {member.user_id for member in people}

    # A late joiner is placed from the next round on.
    late = await moderator.command(room, "!runde mitmachen")
    assert says(late.body, "networking_joined_next")

    by_id = {member.user_id: member for member in [*people, moderator]}
    for group in groups:
        for user in group:
            await intro_for(by_id[user], group, room, marks[user])
        seen_pairs |= {frozenset(pair) for pair in itertools.combinations(sorted(group), 2)}

    left = markdown("networking_left", duration=markdown("networking_seconds_other", count=8))
    warning = await anna.next_message(
        room_id=room, contains=body("networking_warning", number=1, left=left), timeout=40
    )
    assert anna.user_id in warning.content["m.mentions"]["user_ids"]
    over = await anna.next_message(
        room_id=room, contains=stable("networking_round_over", number=1), timeout=40
    )
    assert says(over.body, "networking_next_hint")

    for number in (2, 3):
        marks = {member.user_id: len(member.received) for member in [*people, moderator]}
        started = await moderator.command(room, f"!runde weiter {ROUND_SECONDS}s")
        assert says(started.body, "networking_round_started", number=number), started.body
        groups = groups_of(started)
        assert sorted(len(group) for group in groups) == [2, 2, 2]
        assert set().union(*groups) == set(by_id)
        for group in groups:
            pair = frozenset(group)
            assert pair not in seen_pairs, f"{sorted(pair)} met twice"
            seen_pairs.add(pair)
        for group in groups:
            for user in group:
                await intro_for(by_id[user], group, room, marks[user])

    closed = await moderator.command(room, "!runde ende")
    rounds, contacts = (
        markdown("networking_rounds_count_other", count=3),
        markdown("networking_contacts_count_other", count=10),
    )
    assert says(closed.body, "networking_block_closed", rounds=rounds, contacts=contacts), closed.body

    mark = len(anna.received)
    sent = await anna.command(room, "!kontakte")
    assert says(sent.body, "networking_contacts_sent")
    listing = await anna.next_message(contains=stable("networking_contacts_header"), after=mark)
    partners = {user for pair in seen_pairs if anna.user_id in pair for user in pair} - {anna.user_id}
    assert listing.room_id != room
    for user in partners:
        assert user in listing.body
    assert "Stadt Köln" not in listing.body  # her own organisation is not listed, the others' are
    assert any(org in listing.body for org in ("BMI", "Land Hessen", "Stadt Jena"))


async def test_partner_requests_pair_and_time_out(netbot: BotProcess, member_factory) -> None:
    first, second, third = [await member_factory(name) for name in ("partnera", "partnerb", "partnerc")]
    room = await community(first, [second, third], netbot)

    waiting = await first.command(room, "!partner")
    assert says(waiting.body, "networking_waiting")
    again = await first.command(room, "!speeddating")
    assert says(again.body, "networking_error_already_waiting")

    mark_first, mark_second = len(first.received), len(second.received)
    found = await second.command(room, "!partner")
    assert says(found.body, "networking_found")
    assert first.user_id in found.body
    told = await first.next_message(
        room_id=room, reply_to=waiting.in_reply_to or None, contains=stable("networking_found_other")
    )
    assert second.user_id in told.body
    pair = {first.user_id, second.user_id}
    await intro_for(first, pair, room, mark_first)
    await intro_for(second, pair, room, mark_second)

    # Cancelling works; a lone request times out with a clear message.
    await third.command(room, "!partner")
    cancelled = await third.command(room, "!partner abbrechen")
    assert says(cancelled.body, "networking_cancelled")
    mark = len(third.received)
    lone = await third.command(room, "!partner")
    assert says(lone.body, "networking_waiting")
    nobody = await third.next_message(
        room_id=room, contains=stable("networking_nobody"), after=mark, timeout=30
    )
    assert nobody.content["m.mentions"] == {"user_ids": [third.user_id]}

    # From a direct chat the search covers every room shared with the bot.
    direct = await third.create_room(invite=[netbot.user_id], direct=True)
    await third.wait_for_member(direct, netbot.user_id)
    across = await third.command(direct, "!partner")
    assert says(across.body, "networking_waiting_rooms"), across.body
    mark_third = len(third.received)
    matched = await first.command(room, "!partner")
    assert third.user_id in matched.body
    await third.next_message(room_id=direct, contains=stable("networking_found_other"), after=mark_third)


async def test_round_timer_survives_a_crash_then_threaded_intros(netbot: BotProcess, member_factory) -> None:
    host, first, second = [await member_factory(name) for name in ("nethost", "netfirst", "netsecond")]
    room = await community(host, [first, second], netbot)
    opened = await host.command(room, "!round open")
    assert says(opened.body, "networking_block_opened", "en")
    for member in (first, second):
        assert says((await member.command(room, "!round join")).body, "networking_joined", "en")
    started = await host.command(room, "!round start 12s")
    assert says(started.body, "networking_round_started", "en", number=1)

    # A crash right after the start: the timers are in the database and fire after the restart.
    netbot.kill()
    config = netbot.config_path.read_text()
    netbot.config_path.write_text(config.replace("private_rooms = true", "private_rooms = false"))
    netbot.start()
    over = await first.next_message(
        room_id=room, contains=stable("networking_round_over", "en", number=1), timeout=60
    )
    assert first.user_id in over.content["m.mentions"]["user_ids"]

    # Without private rooms the introduction is a threaded message under the command, mentioning both.
    mark = len(first.received)
    command_event = await host.say(room, "!round next 30s")
    intro = await first.next_message(
        room_id=room, contains=stable("networking_intro_threaded", "en"), after=mark
    )
    relation = intro.content["m.relates_to"]
    assert relation["rel_type"] == "m.thread"
    assert relation["event_id"] == command_event
    assert set(intro.content["m.mentions"]["user_ids"]) == {first.user_id, second.user_id}
    assert second.user_id in intro.body

    closed = await host.command(room, "!round end")
    rounds = markdown("networking_rounds_count_other", "en", count=2)
    contacts = markdown("networking_contacts_count_one", "en")
    assert says(closed.body, "networking_block_closed", "en", rounds=rounds, contacts=contacts), closed.body

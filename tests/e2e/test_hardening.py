"""Real community rooms are messy: pending invites, hostile input, dying workers. Nothing may stall."""

from __future__ import annotations

import asyncio
import json
import uuid

from tests.conftest import MemberFactory
from tests.e2e.harness import BotProcess, module_bot

hardbot = module_bot("hardbot")


async def test_a_pending_invite_does_not_delay_answers_in_a_community_room(
    bot: BotProcess, member_factory: MemberFactory
) -> None:
    host = await member_factory("ruth")
    never_joins = await member_factory("schlaf")
    never_joins.auto_join = False
    room = await host.create_room(invite=[bot.user_id, never_joins.user_id], encrypted=True)
    await host.wait_for_member(room, bot.user_id)
    # Before the fix every message to an encrypted room waited up to 10 minutes while anyone was invited.
    reply = await host.command(room, "!hilfe", timeout=20)
    assert reply.msgtype == "m.notice"
    assert never_joins.user_id in host.client.rooms[room].invited_users


async def test_a_huge_word_is_quoted_shortened_and_nothing_waits_behind_it(
    bot: BotProcess, member_factory: MemberFactory
) -> None:
    member = await member_factory("poison")
    room = await member.create_room(invite=[bot.user_id])
    await member.wait_for_member(room, bot.user_id)
    huge = "!" + "x" * 33_000
    answer = await member.command(room, huge)
    assert len(answer.body) < 500
    assert "…" in answer.body
    assert (await member.command(room, "!hilfe")).msgtype == "m.notice"


async def test_a_message_refused_for_good_is_marked_failed_and_listed(
    hardbot: BotProcess, member_factory: MemberFactory
) -> None:
    member = await member_factory("kicker")
    room = await member.create_room(invite=[hardbot.user_id])
    await member.wait_for_member(room, hardbot.user_id)
    await member.command(room, "!erinnere mich in 4 Sekunden an den Rauswurf")
    await member.client.room_kick(room, hardbot.user_id)
    # The reminder fires into a room the bot may no longer post to: M_FORBIDDEN, not retried, listed.
    listed = ""
    for _ in range(60):
        listed = hardbot.cli("outbox", "list").stdout
        if "M_FORBIDDEN" in listed:
            break
        await asyncio.sleep(0.5)
    assert "M_FORBIDDEN" in listed
    assert room in listed
    assert "Rauswurf" not in listed, "the operator's list shows no message text"
    log = hardbot.log()
    assert log.count("refused by the homeserver for good") == 1
    # Back in the room, the operator can send it after all.
    await member.invite(room, hardbot.user_id)
    await member.wait_for_member(room, hardbot.user_id)
    retried = hardbot.cli("outbox", "retry")
    assert retried.returncode == 0
    fired = await member.next_message(
        room_id=room, sender=hardbot.user_id, contains="den Rauswurf", timeout=60
    )
    assert fired.msgtype == "m.notice"


async def test_every_command_waiting_for_its_key_runs_in_order_when_it_arrives(
    bot: BotProcess, member_factory: MemberFactory
) -> None:
    member = await member_factory("spaet")
    room = await member.create_room(invite=[bot.user_id], encrypted=True)
    await member.wait_for_member(room, bot.user_id)
    await member.command(room, "!hilfe")  # both sides know each other's devices; an Olm session exists
    olm = member.client.olm
    assert olm is not None
    # A new Megolm session whose key reaches the bot only after the messages (as when a key is delayed on
    # the way): the key message is made now (the ratchet at index 0) and sent later.
    olm.create_outbound_group_session(room)
    session = olm.outbound_group_sessions[room]
    delayed_keys = [
        to_device
        for _, to_device in olm.share_group_session_parallel(
            room, [bot.user_id], ignore_unverified_devices=True
        )
    ]
    session.shared = True  # room_send encrypts with it without sharing it again
    commands = ["!profil organisation Stadt Spät", "!profil themen OZG, KI", "!profil"]
    sent = [await member.say(room, text) for text in commands]
    await asyncio.sleep(1.5)  # the bot has received all three, undecryptable
    for to_device in delayed_keys:
        response = await member.client.send(
            "PUT",
            f"/_matrix/client/v3/sendToDevice/m.room.encrypted/late-{uuid.uuid4().hex}",
            json.dumps(to_device),
            headers={"Authorization": f"Bearer {member.client.access_token}"},
        )
        assert response.status == 200
    replies = [await member.next_message(room_id=room, reply_to=event_id) for event_id in sent]
    positions = [member.received.index(reply) for reply in replies]
    assert positions == sorted(positions), "answered in the order they were sent"
    assert "Stadt Spät" in replies[2].body

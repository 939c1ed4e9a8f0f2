"""Who knows about …? end to end on a real Synapse: findable members are found by a compound or synonym
variant of their topic, the list comes by direct message, an introduction needs the found person's yes (a
plain reply "Ja, gerne!" in the direct chat), a reply "nein" gives the asker only a neutral note, searches
are rate-limited, erasure removes findability."""

from __future__ import annotations

import asyncio
import sqlite3

from tests.catalog import says, stable
from tests.e2e.harness import BotProcess, Member, Received, module_bot

SEARCHES_PER_HOUR = 3
whoknowsbot = module_bot("whoknowsbot", f"\n[whoknows]\nsearches_per_hour = {SEARCHES_PER_HOUR}\n")


async def community(owner: Member, others: list[Member], bot: BotProcess) -> str:
    room = await owner.create_room(invite=[bot.user_id, *(m.user_id for m in others)])
    await asyncio.gather(*(member.join(room) for member in others))
    await owner.wait_for_member(room, bot.user_id)
    for member in others:
        await owner.wait_for_member(room, member.user_id)
    return room


async def direct_message(member: Member, bot: BotProcess, key: str, after: int = 0, **known: str) -> Received:
    """The bot's next message of catalog ``key`` in the member's direct chat with it."""
    direct = await member.direct_room_with(bot.user_id)
    found = await member.next_message(
        room_id=direct, sender=bot.user_id, contains=stable(key, "de", **known), after=after, timeout=45
    )
    assert says(found.body, key, **known), found.body
    return found


def shared_rooms(member: Member, other: Member) -> set[str]:
    return {
        room_id
        for room_id, room in member.client.rooms.items()
        if other.user_id in room.users or other.user_id in room.invited_users
    }


async def test_who_knows_finds_the_findable_and_introduces_only_on_yes(
    whoknowsbot: BotProcess, member_factory
) -> None:
    asker = await member_factory("wkasker")
    anna = await member_factory("wkanna")  # findable: "Onlinezugangsgesetz" (a synonym of OZG)
    bernd = await member_factory("wkbernd")  # knows about OZG but opted out again
    carla = await member_factory("wkcarla")  # findable: "OZG-Leistungen" (another form of the question)
    room = await community(asker, [anna, bernd, carla], whoknowsbot)
    for member, organisation, topics in (
        (asker, "Stadt Musterstadt", "Haushalt"),
        (anna, "Land Hessen", "Onlinezugangsgesetz, Registermodernisierung"),
        (bernd, "Bundesamt", "OZG"),
        (carla, "Kreis Lippe", "OZG-Leistungen, E-Akte"),
    ):
        await member.command(room, f"!profil organisation {organisation}")
        await member.command(room, f"!profil themen {topics}")
    for member in (anna, bernd, carla):
        saved = await member.command(room, "!profil auffindbar ja")
        assert says(saved.body, "whoknows_findable_on")
    opted_out = await bernd.command(room, "!profile findable no")
    assert says(opted_out.body, "whoknows_findable_off", "en")

    # The question in the room; the names only in the direct chat.
    asked = await asker.command(room, "!wer-kennt OZG-Leistung")
    assert says(asked.body, "whoknows_sent_dm")
    results = await direct_message(asker, whoknowsbot, "whoknows_results", topic="OZG-Leistung")
    assert results.room_id != room
    assert carla.localpart in results.body
    assert anna.localpart in results.body
    assert results.body.index(carla.localpart) < results.body.index(anna.localpart)  # exact form first
    assert bernd.localpart not in results.body
    assert bernd.user_id not in results.body
    assert not any(bernd.localpart in m.body for m in asker.messages_from(whoknowsbot.user_id, room))

    # Nr. 1 (Carla) is asked first, says yes by 👍: a chat for both, with both invited and an intro.
    before = shared_rooms(asker, carla)
    mark = len(carla.received)
    await asker.command(room, "!vorstellen 1")
    ask = await direct_message(carla, whoknowsbot, "whoknows_ask", after=mark, topic="OZG-Leistung")
    assert asker.localpart in ask.body
    await direct_message(asker, whoknowsbot, "whoknows_asked", name=carla.localpart, topic="OZG-Leistung")
    assert shared_rooms(asker, carla) == before  # nothing before the yes
    # She answers by replying in the direct chat, as in any chat: unclear first, then "Ja, gerne!".
    unclear = await carla.answer(ask, "vielleicht")
    assert says(unclear.body, "whoknows_reply_unclear"), unclear.body
    assert shared_rooms(asker, carla) == before
    accepted = await carla.answer(ask, "Ja, gerne!")
    assert says(accepted.body, "whoknows_accept_done", name=asker.localpart), accepted.body
    intro = await carla.next_message(
        sender=whoknowsbot.user_id, contains=stable("whoknows_intro", topic="OZG-Leistung"), timeout=90
    )
    assert intro.room_id not in before
    chat = asker.client.rooms.get(intro.room_id)
    assert chat is not None
    assert {asker.user_id, carla.user_id, whoknowsbot.user_id} <= set(chat.users) | set(chat.invited_users)
    await asker.wait_for_member(intro.room_id, asker.user_id)
    await direct_message(asker, whoknowsbot, "whoknows_accepted", name=carla.localpart, topic="OZG-Leistung")

    # Nr. 2 (Anna) replies "nein": the asker gets the neutral note and there is no chat; a later yes by
    # command finds no open request.
    before = shared_rooms(asker, anna)
    mark = len(anna.received)
    await asker.command(room, "!vorstellen 2")
    ask = await direct_message(anna, whoknowsbot, "whoknows_ask", after=mark, topic="OZG-Leistung")
    declined = await anna.answer(ask, "nein")
    assert says(declined.body, "whoknows_decline_done", name=asker.localpart), declined.body
    late = await anna.command(ask.room_id, "!vorstellen ja")
    assert says(late.body, "whoknows_error_no_request"), late.body
    await direct_message(
        asker, whoknowsbot, "whoknows_not_this_time", name=anna.localpart, topic="OZG-Leistung"
    )
    await asyncio.sleep(2)
    assert shared_rooms(asker, anna) == before

    # Bad input says what to type instead.
    unknown = await asker.command(room, "!vorstellen 9")
    assert says(unknown.body, "whoknows_error_number", number="9", count="2", topic="OZG-Leistung")

    # Rate limit: the searches left this hour, then a polite refusal with the time to try again.
    for topic in ("E-Akte", "Onlinezugangsgesetz")[: SEARCHES_PER_HOUR - 1]:
        assert says((await asker.command(room, f"!wer-kennt {topic}")).body, "whoknows_sent_dm")
    limited = await asker.command(room, "!wer-kennt KI")
    assert says(limited.body, "whoknows_error_search_limit")

    # Erasure removes Carla's findability: Bernd's search for her other topic finds nobody.
    await carla.command(room, "!datenschutz löschen")
    assert says((await carla.command(room, "!datenschutz bestätigen")).body, "privacy_forget_done")
    with sqlite3.connect(whoknowsbot.workdir / "bot.db") as connection:
        findable = {row[0] for row in connection.execute("SELECT user_id FROM whoknows_findable")}
    assert findable == {anna.user_id}
    mark = len(bernd.received)
    await bernd.command(room, "!wer-kennt E-Akten")
    await direct_message(bernd, whoknowsbot, "whoknows_none", after=mark, topic="E-Akten")

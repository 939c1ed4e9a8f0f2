"""Things belong to their room: asked from elsewhere, only the room's members see or join them."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from tests.catalog import number_in, says
from tests.conftest import MemberFactory
from tests.e2e.harness import BotProcess

BERLIN = ZoneInfo("Europe/Berlin")


async def test_events_of_other_rooms_are_seen_and_joined_only_by_their_members(
    bot: BotProcess, member_factory: MemberFactory
) -> None:
    host = await member_factory("camphost")
    outsider = await member_factory("outsider")
    room = await host.create_room(invite=[bot.user_id], name="Geheimcamp-Raum")
    await host.wait_for_member(room, bot.user_id)
    tomorrow = (datetime.now(BERLIN) + timedelta(days=1)).strftime("%d.%m.%Y")
    created = await host.command(room, f'!veranstaltung neu "Geheimcamp" {tomorrow}')
    event = number_in(created.body, "sessions_event_created", "event_id", title="Geheimcamp")
    proposed = await host.command(room, '!session vorschlagen "Interna"')
    session = number_in(proposed.body, "sessions_proposed", "session_id", title="Interna")

    elsewhere = await outsider.room_with(bot.user_id, name="Anderswo")
    direct = await outsider.create_room(invite=[bot.user_id], direct=True)
    await outsider.wait_for_member(direct, bot.user_id)
    asks = [
        (elsewhere, f"!programm {event}", "sessions_error_other_room_event", {"event_id": event}),
        (direct, f"!programm {event}", "sessions_error_other_room_event", {"event_id": event}),
        (elsewhere, f"!kalender alle {event}", "sessions_error_other_room_event", {"event_id": event}),
        (direct, f"!session {session}", "sessions_error_other_room_session", {"session_id": session}),
        (elsewhere, f"!anmelden {session}", "sessions_error_other_room_session", {"session_id": session}),
    ]
    for where, text, key, known in asks:
        reply = await outsider.command(where, text)
        assert says(reply.body, key, **known), (text, reply.body)
        assert "Interna" not in reply.body
        assert "Geheimcamp" not in reply.body
    # In a direct chat without a number the member's only visible events count: none here.
    assert "Geheimcamp" not in (await outsider.command(direct, "!programm")).body

    # A member of the room may, from anywhere (the bot asks the homeserver; the join drops its cache).
    await host.invite(room, outsider.user_id)
    await outsider.wait_until(lambda: room in outsider.client.rooms)
    await host.command(room, "!hilfe")  # the bot has seen the join
    agenda = await outsider.command(direct, f"!programm {event}")
    assert "Geheimcamp" in agenda.body
    shown = await outsider.command(elsewhere, f"!session {session}")
    assert "Interna" in shown.body


def in_thread(root: str) -> dict[str, object]:
    return {
        "m.relates_to": {
            "rel_type": "m.thread",
            "event_id": root,
            "is_falling_back": True,
            "m.in_reply_to": {"event_id": root},
        }
    }


async def test_answers_to_a_command_in_a_thread_go_into_the_thread_files_too(
    bot: BotProcess, member_factory: MemberFactory
) -> None:
    host = await member_factory("threader")
    room = await host.create_room(invite=[bot.user_id], name="Thread-Raum")
    await host.wait_for_member(room, bot.user_id)
    tomorrow = (datetime.now(BERLIN) + timedelta(days=1)).strftime("%d.%m.%Y")
    created = await host.command(room, f'!veranstaltung neu "Fadencamp" {tomorrow}')
    event = number_in(created.body, "sessions_event_created", "event_id", title="Fadencamp")
    await host.command(room, f'!veranstaltung runde {event} "Morgens" 10:00-11:00')
    proposed = await host.command(room, '!session vorschlagen "Fäden"')
    session = number_in(proposed.body, "sessions_proposed", "session_id", title="Fäden")
    await host.command(room, f"!session einplanen {session} 1")
    root = await host.say(room, "Fragen zum Fadencamp")

    # A text answer goes into the thread (this worked before) …
    answer = await host.command(room, "!programm", extra=in_thread(root))
    assert answer.content["m.relates_to"]["rel_type"] == "m.thread"
    assert answer.content["m.relates_to"]["event_id"] == root
    # … and so does a file that answers the command.
    mark = len(host.received)
    await host.say(room, "!kalender alle", extra=in_thread(root))
    ics = await host.next_message(room_id=room, sender=bot.user_id, contains=".ics", after=mark)
    assert ics.msgtype == "m.file"
    relation = ics.content.get("m.relates_to") or {}
    assert relation.get("rel_type") == "m.thread", ics.content
    assert relation.get("event_id") == root

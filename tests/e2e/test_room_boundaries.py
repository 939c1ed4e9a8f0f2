"""Things belong to their room: asked from elsewhere, only the room's members see or join them."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from tests.catalog import says
from tests.conftest import MemberFactory
from tests.e2e.harness import BotProcess

BERLIN = ZoneInfo("Europe/Berlin")


def number(pattern: str, text: str) -> int:
    found = re.search(pattern, text)
    assert found, f"{pattern!r} not in {text!r}"
    return int(found.group(1))


async def test_events_of_other_rooms_are_seen_and_joined_only_by_their_members(
    bot: BotProcess, member_factory: MemberFactory
) -> None:
    host = await member_factory("camphost")
    outsider = await member_factory("outsider")
    room = await host.create_room(invite=[bot.user_id], name="Geheimcamp-Raum")
    await host.wait_for_member(room, bot.user_id)
    tomorrow = (datetime.now(BERLIN) + timedelta(days=1)).strftime("%d.%m.%Y")
    created = await host.command(room, f'!veranstaltung neu "Geheimcamp" {tomorrow}')
    event = number(r"Veranstaltung Nr\. (\d+)", created.body)
    proposed = await host.command(room, '!session vorschlagen "Interna"')
    session = number(r"Session (?:Nr|no)\. (\d+)", proposed.body)

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

"""Commands as phones type them: autocapitalised, a space after the prefix, a full stop at the end; options
without dashes; 👍 (Element's quick reaction) to sign up."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.app import build_catalog
from bot.features import discover_features
from tests.catalog import body, says, stable
from tests.conftest import MemberFactory
from tests.e2e.harness import BotProcess

HEADER = build_catalog(discover_features()).translator("de")("help_header", p="!")


def number(pattern: str, text: str) -> int:
    found = re.search(pattern, text)
    assert found, f"{pattern!r} not in {text!r}"
    return int(found.group(1))


@pytest.mark.parametrize("typed", ["! hilfe", "!Hilfe", "!hilfe.", "!Hilfe!"])
async def test_help_as_typed_on_a_phone(bot: BotProcess, member_factory: MemberFactory, typed: str) -> None:
    member = await member_factory("handy")
    room = await member.room_with(bot.user_id)
    reply = await member.command(room, typed)
    assert HEADER in reply.body


async def test_in_a_direct_chat_commands_work_without_the_prefix(
    bot: BotProcess, member_factory: MemberFactory
) -> None:
    member = await member_factory("handydirekt")
    direct = await member.create_room(invite=[bot.user_id], direct=True)
    await member.wait_for_member(direct, bot.user_id)
    reply = await member.command(direct, "Hilfe")
    assert HEADER in reply.body
    hint = await member.command(direct, "Danke dir!")
    assert says(hint.body, "core_direct_hint", p="!")


async def test_options_without_dashes_and_thumbs_up_sign_up(
    bot: BotProcess, member_factory: MemberFactory
) -> None:
    organiser, guest = await member_factory("handyorga"), await member_factory("handygast")
    room = await organiser.create_room(invite=[bot.user_id, guest.user_id], name="Handy-Camp")
    await guest.join(room)
    joined = organiser.client.rooms[room]
    await organiser.wait_until(lambda: bot.user_id in joined.users and guest.user_id in joined.users)
    tomorrow = datetime.now(ZoneInfo("Europe/Berlin")) + timedelta(days=1)
    created = await organiser.command(room, f'!veranstaltung neu "Handy-Camp" {tomorrow:%d.%m.%Y}')
    event = number(r"Veranstaltung Nr\. (\d+)", created.body)
    await organiser.command(room, f'!veranstaltung zeitfenster {event} "Sessionrunde 1" 11:15-12:00')

    # Options without dashes, after a title in phone quotes; the description stays the description.
    proposed = await organiser.command(
        room, "!session vorschlagen „KI im Amt“ plätze 20 thema KI Erfahrungen aus drei Ämtern"
    )
    assert says(proposed.body, "sessions_proposed", title="KI im Amt")
    session = number(r"Session Nr\. (\d+)", proposed.body)
    details = await guest.command(room, f"!session {session}")
    assert body("sessions_details_theme", theme="KI") in details.body
    assert body("sessions_seats", confirmed=0, capacity=20) in details.body
    assert "Erfahrungen aus drei Ämtern" in details.body
    english = await organiser.command(room, '!session propose "Open Data" seats 12 theme AI')
    second = number(r"Session no\. (\d+)", english.body)
    details = await guest.command(room, f"!session {second}")
    assert body("sessions_details_theme", theme="AI") in details.body
    assert body("sessions_seats", confirmed=0, capacity=12) in details.body

    # A wrong value says what to type instead.
    refused = await organiser.command(room, '!session vorschlagen "Titel" plätze zwanzig')
    assert says(
        refused.body, "core_arg_option_not_a_number", option="plätze", value="zwanzig", example="plätze 20"
    )

    # 👍 on the scheduled session's announcement signs up; removing it withdraws.
    announcement = await organiser.command(room, f"!session einplanen {session} 1")
    assert says(announcement.body, "sessions_react_hint")
    assert says(
        (await organiser.command(room, f"!veranstaltung veröffentlichen {event}")).body,
        "sessions_event_published",
    )
    before = len(guest.received)
    reaction = await guest.react(room, announcement.event_id, "👍")
    confirmed = await guest.next_message(
        sender=bot.user_id, contains=stable("sessions_signup_confirmed"), after=before
    )
    assert says(confirmed.body, "sessions_signup_confirmed", title="KI im Amt", session_id=session)
    details = await guest.command(room, f"!session {session}")
    assert body("sessions_seats", confirmed=1, capacity=20) in details.body
    before = len(guest.received)
    await guest.redact(room, reaction)
    left = await guest.next_message(sender=bot.user_id, contains=stable("sessions_withdrawn"), after=before)
    assert says(left.body, "sessions_withdrawn", title="KI im Amt", session_id=session)

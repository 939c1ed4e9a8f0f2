"""Sessions end to end on the real homeserver: events, proposals, sign-ups under concurrency, wait list and
promotion, same-slot switch, ✅ reactions, cancellation, reminders and slot announcements, iCal files.

Reminders and announcements use a bot of their own with a reminder lead of 15 seconds
(``[sessions] reminder_lead_seconds``): the first test plans a session round starting at the next full minute
at least 27 seconds ahead; the last test waits for its reminder and announcement, so the waiting overlaps
with the other tests.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import pytest
from nio import AsyncClient, AsyncClientConfig, RoomSendResponse

from tests.catalog import body, markdown, number_in, says, stable
from tests.e2e.harness import BotProcess, Member, Received, module_bot

BERLIN = ZoneInfo("Europe/Berlin")


async def room_with_bot(owner: Member, bot: BotProcess, members: list[Member], name: str) -> str:
    room_id = await owner.create_room(invite=[bot.user_id, *(m.user_id for m in members)], name=name)
    for member in members:
        await member.join(room_id)
    room = owner.client.rooms[room_id]
    await owner.wait_until(lambda: bot.user_id in room.users and bot.user_id not in room.invited_users)
    await owner.wait_until(lambda: all(m.user_id in room.users for m in members))
    return room_id


def slot_list(*slots: tuple[int, str, time, time]) -> str:
    """The rounds as an error lists them (``1 = Runde 1 (10:00–10:45), …``)."""
    return ", ".join(
        markdown("sessions_slot_ref", number=n, name=name, start=start, end=end)
        for n, name, start, end in slots
    )


def seats(confirmed: int, capacity: int, location: str) -> str:
    """The seats and place of a scheduled session, as the reply to ``!session einplanen`` shows them."""
    return f"{markdown('sessions_seats', confirmed=confirmed, capacity=capacity)} · " + markdown(
        "sessions_location", location=location
    )


def proposed(reply: Received, title: str, language: str = "de") -> int:
    """The number of the session a proposal got."""
    return number_in(reply.body, "sessions_proposed", "session_id", language, title=title)


async def next_file(member: Member, room_id: str, sender: str, after: int) -> Received:
    message = await member.next_message(room_id=room_id, sender=sender, contains=".ics", after=after)
    assert message.msgtype == "m.file", message.content
    return message


async def upload_file(member: Member, room_id: str, filename: str, data: bytes) -> str:
    response, _ = await member.client.upload(
        lambda *_: data, content_type="text/csv", filename=filename, filesize=len(data)
    )
    content = {"msgtype": "m.file", "body": filename, "filename": filename, "url": response.content_uri}  # type: ignore[union-attr]
    return await member.say(room_id, filename, extra=content)


def reply_to(event_id: str) -> dict[str, Any]:
    return {"m.relates_to": {"m.in_reply_to": {"event_id": event_id}}}


def events_of(ics: bytes) -> dict[str, Any]:
    calendar = icalendar.Calendar.from_ical(ics)
    return {str(c.get("summary")): c for c in calendar.walk("VEVENT")}


def local_date(day: datetime) -> str:
    return day.strftime("%d.%m.%Y")


async def event_tomorrow(moderator: Member, room_id: str, title: str) -> int:
    tomorrow = datetime.now(BERLIN) + timedelta(days=1)
    created = await moderator.command(room_id, f'!veranstaltung neu "{title}" {local_date(tomorrow)}')
    return number_in(created.body, "sessions_event_created", "event_id", title=title)


# --- the "soon" event: its reminder and slot announcement are checked by the last test ---


@dataclass
class Soon:
    room: str
    moderator: Member
    erik: Member
    fiona: Member
    first: int  # stays in the soon round: erik is signed up
    moved: int  # scheduled into the soon round, then moved away: fiona's reminder must not fire
    start: datetime


LEAD_SECONDS = 15


soon_bot = module_bot(
    "sessionsbot", f"\n[sessions]\nreminder_lead_seconds = {LEAD_SECONDS}\ncreate_rooms = true\n"
)


@pytest.fixture(scope="module")
async def soon(soon_bot: BotProcess, member_factory) -> Soon:
    bot = soon_bot
    moderator = await member_factory("soonmod")
    erik = await member_factory("erik")
    fiona = await member_factory("fiona")
    room = await room_with_bot(moderator, bot, [erik, fiona], "Gleich-Camp")
    now = datetime.now(BERLIN)
    start = (now + timedelta(seconds=LEAD_SECONDS + 12)).replace(second=0, microsecond=0) + timedelta(
        minutes=1
    )
    end = min(start + timedelta(minutes=20), start.replace(hour=23, minute=59))
    created = await moderator.command(room, f'!veranstaltung neu "Gleich-Camp" {local_date(start)}')
    event = number_in(created.body, "sessions_event_created", "event_id", title="Gleich-Camp")
    # A second round that has begun and ends when "Jetzt" starts (or is far away near midnight): moving there
    # drops the reminder, and signing up there is still possible (a round that is over takes no sign-ups).
    other = (time(0, 0), start.time()) if start.time() >= time(0, 5) else (time(23, 0), time(23, 30))
    reply = await moderator.command(room, f'!veranstaltung runde {event} "Jetzt" {start:%H:%M}-{end:%H:%M}')
    assert says(reply.body, "sessions_slot_added", number=1, event_id=event, name="Jetzt"), reply.body
    reply = await moderator.command(
        room, f'!veranstaltung runde {event} "Anders" {other[0]:%H:%M}-{other[1]:%H:%M}'
    )
    assert says(reply.body, "sessions_slot_added", number=2, event_id=event, name="Anders"), reply.body
    first = proposed(await moderator.command(room, '!session vorschlagen "Sofort"'), "Sofort")
    moved = proposed(await moderator.command(room, '!session vorschlagen "Später"'), "Später")
    # Everybody signs up while both sessions sit in the round that has begun; then they move into the soon
    # round (so the reminder, due at once or within seconds, finds erik signed up) and "Später" moves away.
    assert says(
        (await moderator.command(room, f"!session einplanen {first} 2 Raum Elbe")).body, "sessions_scheduled"
    )
    assert says(
        (await moderator.command(room, f'!session einplanen {moved} "Anders"')).body, "sessions_scheduled"
    )
    published = await moderator.command(room, f"!veranstaltung veröffentlichen {event}")
    assert says(published.body, "sessions_event_published")
    assert says(
        (await erik.command(room, f"!anmelden {first}")).body, "sessions_signup_confirmed", session_id=first
    )
    assert says(
        (await fiona.command(room, f"!anmelden {moved}")).body, "sessions_signup_confirmed", session_id=moved
    )
    assert says(
        (await moderator.command(room, f'!session einplanen {moved} "Jetzt"')).body, "sessions_rescheduled"
    )
    assert says((await moderator.command(room, f"!session einplanen {moved} 2")).body, "sessions_rescheduled")
    assert says((await moderator.command(room, f"!session einplanen {first} 1")).body, "sessions_rescheduled")
    return Soon(room, moderator, erik, fiona, first, moved, start)


async def test_soon_event_is_planned_with_session_rooms(soon: Soon) -> None:
    assert soon.first != soon.moved
    # fiona was told by direct message that her session moved.
    moved = await soon.fiona.next_message(contains=stable("sessions_moved"))
    assert says(moved.body, "sessions_moved", title="Später", session_id=soon.moved)
    # create_rooms: each scheduled session got a room; confirmed members were invited (and joined).
    await soon.erik.wait_until(lambda: any(r.name == "Sofort" for r in soon.erik.client.rooms.values()))
    await soon.fiona.wait_until(lambda: any(r.name == "Später" for r in soon.fiona.client.rooms.values()))
    assert not any(r.name == "Später" for r in soon.erik.client.rooms.values())


# --- the main flow ---


async def test_propose_schedule_publish_signup_waitlist_promotion_switch_cancel(
    bot: BotProcess, member_factory
) -> None:
    mod = await member_factory("camporga")
    anna, bert, carla, dora = [await member_factory(n) for n in ("anna", "bert", "carla", "dora")]
    room = await room_with_bot(mod, bot, [anna, bert, carla, dora], "NExTcamp")

    # No event yet: a clear answer.
    assert says((await anna.command(room, "!programm")).body, "sessions_error_no_event")
    assert says((await anna.command(room, '!session vorschlagen "Zu früh"')).body, "sessions_error_no_event")
    # Bad input when creating.
    past = await mod.command(room, '!veranstaltung neu "Alt" 01.01.2020')
    assert says(past.body, "sessions_error_date_past")
    long_title = await mod.command(room, f'!veranstaltung neu "{"x" * 201}" 01.01.2099')
    assert says(long_title.body, "sessions_error_title_too_long", length=201, max=200)
    refused = await anna.command(room, '!veranstaltung neu "NExTcamp" 01.01.2099')
    assert says(refused.body, "core_permission_moderator")

    tomorrow = datetime.now(BERLIN) + timedelta(days=1)
    created = await mod.command(room, f'!event create "NExTcamp" {local_date(tomorrow)}')
    event = number_in(created.body, "sessions_event_created", "event_id", "en", title="NExTcamp")
    # The English alias answers in English.
    assert says(created.body, "sessions_event_created", "en", event_id=event, title="NExTcamp")
    assert not says(created.body, "sessions_event_created", event_id=event, title="NExTcamp")
    await mod.command(room, f'!veranstaltung programm {event} 09:30 "Begrüßung"')
    await mod.command(room, f'!veranstaltung programm {event} 12:00 "Mittagspause"')
    assert says(
        (await mod.command(room, f'!veranstaltung runde {event} "Sessionrunde 1" 11:15-12:00')).body,
        "sessions_slot_added",
        number=1,
        event_id=event,
        name="Sessionrunde 1",
        start=time(11, 15),
        end=time(12, 0),
    )
    assert says(
        (await mod.command(room, f'!veranstaltung runde {event} "Sessionrunde 2" 13:05-13:50')).body,
        "sessions_slot_added",
        number=2,
        event_id=event,
        name="Sessionrunde 2",
        start=time(13, 5),
        end=time(13, 50),
    )
    overlap = await mod.command(room, f'!veranstaltung runde {event} "Doppelt" 11:30-12:30')
    assert says(
        overlap.body,
        "sessions_error_slot_overlap",
        name="Doppelt",
        other="Sessionrunde 1",
        other_start=time(11, 15),
        other_end=time(12, 0),
    )
    backwards = await mod.command(room, f'!veranstaltung runde {event} "Rückwärts" 15:00-14:00')
    assert says(backwards.body, "sessions_error_end_before_start")
    assert says(
        (await anna.command(room, '!session vorschlagen "Zu früh"')).body, "sessions_error_proposals_closed"
    )

    # Importing a program file: a reply to the file; every problem is listed with its line, nothing is stored.
    broken = await upload_file(mod, room, "programm.csv", b"zeit,punkt\n16:40,Get-together\n25:00,Kaputt\n")
    failed = await mod.command(room, f"!veranstaltung import {event}", extra=reply_to(broken))
    assert says(failed.body, "sessions_import_at_line", line=3)
    assert says(failed.body, "sessions_import_failed")
    good = await upload_file(mod, room, "programm.csv", b"zeit;punkt\n16:40;Get-together\n")
    imported = await mod.command(room, f"!veranstaltung import {event}", extra=reply_to(good))
    items, slots = body("sessions_items_count_one"), body("sessions_slots_count_other", count=0)
    assert body("sessions_import_summary", items=items, slots=slots) in imported.body
    missing = await mod.command(room, f"!veranstaltung import {event}")
    assert says(missing.body, "sessions_error_no_attachment")
    assert says((await mod.command(room, f"!veranstaltung öffnen {event}")).body, "sessions_event_opened")

    # Proposals: the proposer hosts.
    proposal = await anna.command(
        room,
        '!session vorschlagen "KI in der Verwaltung" Erfahrungen aus drei Ämtern'
        " --kapazität 2 --thema Technologie",
    )
    ki = proposed(proposal, "KI in der Verwaltung")
    open_data = proposed(
        await bert.command(room, '!session propose "Open Data" --capacity 5'), "Open Data", "en"
    )
    too_long = await bert.command(room, f'!session vorschlagen "{"y" * 201}"')
    assert says(too_long.body, "sessions_error_title_too_long", length=201, max=200)
    zero = await bert.command(room, '!session vorschlagen "Null" --kapazität 0')
    # The seats option itself refuses a value below 1 and says what to write (bot/options.py).
    assert says(zero.body, "core_arg_option_too_small", value=0, minimum=1), zero.body
    assert says(
        (await bert.command(room, "!session 999999")).body,
        "sessions_error_unknown_session",
        session_id=999999,
    )
    assert says(
        (await bert.command(room, "!anmelden 999999")).body,
        "sessions_error_unknown_session",
        session_id=999999,
    )
    not_yet = await bert.command(room, f"!anmelden {ki}")
    assert says(not_yet.body, "sessions_signup_not_scheduled")

    # Scheduling (moderators only), with a clear answer for an unknown round.
    assert says((await anna.command(room, f"!session einplanen {ki} 1")).body, "core_permission_moderator")
    unknown_slot = await mod.command(room, f"!session einplanen {ki} 7")
    rounds = slot_list(
        (1, "Sessionrunde 1", time(11, 15), time(12, 0)), (2, "Sessionrunde 2", time(13, 5), time(13, 50))
    )
    assert says(unknown_slot.body, "sessions_error_unknown_slot", slot="7", slots=rounds)
    scheduled = await mod.command(room, f"!session einplanen {ki} 1 Raum Spree")
    assert "11:15–12:00" in scheduled.body
    assert says(
        scheduled.body,
        "sessions_scheduled",
        session_id=ki,
        title="KI in der Verwaltung",
        seats=seats(0, 2, "Raum Spree"),
    )
    announcement = await mod.command(room, f'!session einplanen {open_data} "Sessionrunde 1"')
    before = len(mod.received)
    published = await mod.command(room, f"!veranstaltung veröffentlichen {event}")
    assert says(published.body, "sessions_event_published")
    agenda = await mod.next_message(
        room_id=room,
        contains=stable("sessions_agenda_title", title="NExTcamp"),
        sender=bot.user_id,
        after=before,
    )
    assert "Begrüßung" in agenda.body
    assert "KI in der Verwaltung" in agenda.body
    assert body("sessions_seats", confirmed=0, capacity=2) in agenda.body

    # Sign up until full, then the wait list.
    assert says(
        (await bert.command(room, f"!anmelden {ki}")).body, "sessions_signup_confirmed", session_id=ki
    )
    assert says((await carla.command(room, f"!signup {ki}")).body, "sessions_signup_confirmed", "en")
    full = await dora.command(room, f"!anmelden {ki}")
    assert says(full.body, "sessions_signup_waitlisted", position=1)
    again = await dora.command(room, f"!anmelden {ki}")
    assert says(again.body, "sessions_signup_already_waitlisted")
    listing = await dora.command(room, "!programm")
    assert body("sessions_seats", confirmed=2, capacity=2) in listing.body
    assert body("sessions_waitlist", count=1) in listing.body
    # The host is never wait-listed in their own session.
    assert says((await anna.command(room, f"!anmelden {ki}")).body, "sessions_signup_host_confirmed")
    assert says((await anna.command(room, f"!abmelden {ki}")).body, "sessions_withdrawn", session_id=ki)

    # Withdrawal promotes the first on the wait list, who is told in a direct chat.
    before = len(dora.received)
    assert says((await bert.command(room, f"!abmelden {ki}")).body, "sessions_withdrawn", session_id=ki)
    promoted = await dora.next_message(sender=bot.user_id, contains=stable("sessions_promoted"), after=before)
    assert says(promoted.body, "sessions_promoted", title="KI in der Verwaltung", session_id=ki)
    assert "Raum Spree" in promoted.body
    assert promoted.room_id == await dora.direct_room_with(bot.user_id)
    mine = await dora.command(room, "!meine")
    confirmed = markdown("sessions_my_state_confirmed")
    assert says(mine.body, "sessions_my_line", title="KI in der Verwaltung", session_id=ki, details=confirmed)

    # One session per round: asked to switch, then switched with --wechseln.
    conflict = await carla.command(room, f"!anmelden {open_data}")
    assert says(conflict.body, "sessions_signup_slot_conflict")
    switched = await carla.command(room, f"!anmelden {open_data} --wechseln")
    assert says(switched.body, "sessions_signup_switched", other_session_id=ki)
    assert says(switched.body, "sessions_signup_confirmed", title="Open Data", session_id=open_data)
    details = await carla.command(room, f"!session {ki}")
    assert body("sessions_seats", confirmed=1, capacity=2) in details.body

    # ✅ on a session's announcement signs up; removing the reaction withdraws.
    before = len(dora.received)
    reaction = await dora.react(room, announcement.event_id, "✅")
    conflict_dm = await dora.next_message(
        sender=bot.user_id, contains=stable("sessions_signup_slot_conflict"), after=before
    )
    assert says(conflict_dm.body, "sessions_signup_slot_conflict")
    await dora.redact(room, reaction)
    before = len(anna.received)
    reaction = await anna.react(room, announcement.event_id, "✅")
    joined = await anna.next_message(
        sender=bot.user_id, contains=stable("sessions_signup_confirmed"), after=before
    )
    assert says(joined.body, "sessions_signup_confirmed", title="Open Data", session_id=open_data)
    before = len(anna.received)
    await anna.redact(room, reaction)
    left = await anna.next_message(sender=bot.user_id, contains=stable("sessions_withdrawn"), after=before)
    assert says(left.body, "sessions_withdrawn", title="Open Data", session_id=open_data)

    # iCal: the whole event in the room, with correct Europe/Berlin times ...
    before = len(mod.received)
    await mod.say(room, "!kalender alle")
    everything = events_of(await mod.download((await next_file(mod, room, bot.user_id, before)).content))
    entry = everything["KI in der Verwaltung"]
    start = entry.decoded("dtstart")
    assert entry["dtstart"].params["TZID"] == "Europe/Berlin"
    assert (start.hour, start.minute) == (11, 15)
    expected = datetime.combine(tomorrow.date(), time(11, 15), tzinfo=BERLIN)
    assert start.astimezone(UTC) == expected.astimezone(UTC)
    assert entry.decoded("dtend").astimezone(UTC) == (expected + timedelta(minutes=45)).astimezone(UTC)
    assert str(entry["location"]) == "Raum Spree"
    assert set(everything) == {"KI in der Verwaltung", "Open Data"}
    # ... and my sessions in the (encrypted) direct chat.
    direct = await dora.direct_room_with(bot.user_id)
    before = len(dora.received)
    assert says((await dora.command(room, "!kalender")).body, "sessions_calendar_sent_direct")
    personal = events_of(await dora.download((await next_file(dora, direct, bot.user_id, before)).content))
    assert set(personal) == {"KI in der Verwaltung"}

    # Cancelling tells everyone signed up.
    before = len(carla.received)
    cancelled = await bert.command(room, f"!session absagen {open_data}")
    assert says(cancelled.body, "sessions_cancelled", count=1)
    told = await carla.next_message(
        sender=bot.user_id, contains=stable("sessions_cancelled_dm"), after=before
    )
    assert says(told.body, "sessions_cancelled_dm", title="Open Data", session_id=open_data)
    assert says((await carla.command(room, f"!anmelden {open_data}")).body, "sessions_signup_cancelled")
    assert says(
        (await carla.command(room, "!programm")).body,
        "sessions_agenda_session_cancelled",
        session_id=open_data,
    )

    # Capacity: moderators and hosts only, at least 1; raising it promotes from the wait list.
    assert says((await anna.command(room, f"!session kapazität {ki} 0")).body, "sessions_error_capacity")
    assert says((await carla.command(room, f"!session kapazität {ki} 3")).body, "sessions_error_not_host")
    assert says(
        (await anna.command(room, f"!session kapazität {ki} 3")).body,
        "sessions_capacity_set",
        session_id=ki,
        title="KI in der Verwaltung",
        seats=body("sessions_seats_count_other", count=3),
    )


# --- capacity under concurrency ---


async def light_client(bot: BotProcess) -> AsyncClient:
    """A member that only sends (registered with a token, no sync, no encryption): cheap in numbers."""
    localpart = f"crowd{uuid.uuid4().hex[:8]}"
    login = await asyncio.to_thread(bot.synapse.register, localpart, "pw-" + localpart)
    client = AsyncClient(
        bot.synapse.url,
        login["user_id"],
        device_id=login.get("device_id"),
        config=AsyncClientConfig(encryption_enabled=False),
    )
    client.access_token = login["access_token"]
    client.user_id = login["user_id"]
    return client


async def test_hosts_edit_their_session_and_a_new_location_reaches_everyone(
    bot: BotProcess, member_factory
) -> None:
    mod = await member_factory("editorga")
    host, guest = await member_factory("edithost"), await member_factory("editguest")
    room = await room_with_bot(mod, bot, [host, guest], "Edit-Camp")
    event = await event_tomorrow(mod, room, "Edit-Camp")
    await mod.command(room, f'!veranstaltung runde {event} "Runde 1" 10:00-10:45')
    await mod.command(room, f"!veranstaltung öffnen {event}")
    session = proposed(
        await host.command(room, '!session vorschlagen "KI in der Verwltung"'), "KI in der Verwltung"
    )
    await mod.command(room, f"!session einplanen {session} 1 Raum Spree")
    await mod.command(room, f"!veranstaltung veröffentlichen {event}")
    assert says(
        (await guest.command(room, f"!anmelden {session}")).body,
        "sessions_signup_confirmed",
        title="KI in der Verwltung",
        session_id=session,
    )

    fixed = await host.command(room, f"!session bearbeiten {session} titel KI in der Verwaltung")
    title_field = markdown("sessions_field_title")
    assert says(
        fixed.body, "sessions_edited", session_id=session, title="KI in der Verwaltung", field=title_field
    )
    # Only hosts and moderators; a clear answer with what to type for the rest.
    assert says(
        (await guest.command(room, f"!session bearbeiten {session} titel Meins")).body,
        "sessions_error_not_host",
    )
    unknown = await host.command(room, f"!session bearbeiten {session} farbe blau")
    assert says(unknown.body, "core_arg_choice", value="farbe")
    assert "titel" in unknown.body  # the choices come from the command's definition, not from the catalog
    assert says(unknown.body, "core_usage_line", usage=markdown("sessions_edit_usage"))
    too_long = await host.command(room, f"!session bearbeiten {session} thema {'x' * 101}")
    theme_field = markdown("sessions_field_theme")
    assert says(too_long.body, "sessions_error_field_too_long", field=theme_field, max=100, length=101)
    # A new location: everyone signed up hears it by direct message; the host who changed it is told how many.
    before = len(guest.received)
    moved = await host.command(room, f"!session bearbeiten {session} ort Raum Havel <b>2. OG</b>")
    location_field = markdown("sessions_field_location")
    assert says(
        moved.body, "sessions_edited", session_id=session, title="KI in der Verwaltung", field=location_field
    )
    assert says(moved.body, "sessions_edited_told", count=1)
    told = await guest.next_message(
        sender=bot.user_id, contains=stable("sessions_location_changed_dm"), after=before
    )
    assert says(told.body, "sessions_location_changed_dm", title="KI in der Verwaltung", session_id=session)
    assert "Raum Havel" in told.body
    assert "&lt;b&gt;2. OG&lt;/b&gt;" in (told.formatted_body or "")  # user text stays text
    assert told.room_id == await guest.direct_room_with(bot.user_id)
    agenda = await guest.command(room, "!programm")
    assert "KI in der Verwaltung" in agenda.body
    assert "Raum Havel" in agenda.body
    assert "Verwltung" not in agenda.body


async def test_moderators_remove_program_items_and_rounds(bot: BotProcess, member_factory) -> None:
    mod, member = await member_factory("itemorga"), await member_factory("itemguest")
    room = await room_with_bot(mod, bot, [member], "Item-Camp")
    event = await event_tomorrow(mod, room, "Item-Camp")
    for at, label in (
        ("09:30", "Begrüßung"),
        ("12:30", "Mittagspause"),
        ("12:30", "Markt der Möglichkeiten"),
    ):
        await mod.command(room, f'!veranstaltung programm {event} {at} "{label}"')

    refused = await member.command(room, f"!veranstaltung programm-entfernen {event} 09:30")
    assert says(refused.body, "core_permission_moderator")
    several = await mod.command(room, f"!veranstaltung programm-entfernen {event} 12:30")
    assert says(several.body, "sessions_error_several_items")
    assert "Markt der Möglichkeiten" in several.body
    assert says(
        several.body, "sessions_error_several_items", time=time(12, 30), event_id=event, first="Mittagspause"
    )
    nothing = await mod.command(room, f"!veranstaltung programm-entfernen {event} 10:00")
    assert says(nothing.body, "sessions_error_no_item")
    removed = await mod.command(room, f"!event unprogram {event} 12:30 mittag")
    assert says(
        removed.body, "sessions_item_removed", "en", event_id=event, time=time(12, 30), label="Mittagspause"
    )
    agenda = await member.command(room, f"!programm {event}")
    assert "Markt der Möglichkeiten" in agenda.body
    assert "Begrüßung" in agenda.body
    assert "Mittagspause" not in agenda.body

    # Rounds: one with a scheduled session stays until the session moves or is cancelled.
    await mod.command(room, f'!veranstaltung runde {event} "Runde 1" 10:00-10:45')
    await mod.command(room, f'!veranstaltung runde {event} "Runde 2" 11:00-11:45')
    await mod.command(room, f"!veranstaltung öffnen {event}")
    session = proposed(await mod.command(room, '!session vorschlagen "Offene Runde"'), "Offene Runde")
    await mod.command(room, f"!session einplanen {session} 1")
    in_use = await mod.command(room, f"!veranstaltung runde-entfernen {event} 1")
    assert says(in_use.body, "sessions_error_slot_in_use", sessions=session)
    unknown = await mod.command(room, f"!veranstaltung runde-entfernen {event} 7")
    rounds = slot_list((1, "Runde 1", time(10, 0), time(10, 45)), (2, "Runde 2", time(11, 0), time(11, 45)))
    assert says(unknown.body, "sessions_error_unknown_slot_remove", slot="7", event_id=event, slots=rounds)
    removed = await mod.command(room, f"!veranstaltung runde-entfernen {event} runde 2")
    assert says(removed.body, "sessions_slot_removed", number=2, name="Runde 2", event_id=event)
    gone = await mod.command(room, f"!session einplanen {session} 2")
    left = slot_list((1, "Runde 1", time(10, 0), time(10, 45)))
    assert says(gone.body, "sessions_error_unknown_slot", slot="2", slots=left)
    assert "Runde 2" not in gone.body


async def test_fifty_concurrent_signups_fill_exactly_ten_seats(bot: BotProcess, member_factory) -> None:
    rooms_count, per_room, capacity = 10, 5, 10
    mod = await member_factory("crowdmod")
    crowd = list(await asyncio.gather(*(light_client(bot) for _ in range(rooms_count * per_room))))
    # The crowd are members of the event's room (only they may sign up from their other rooms, issue 14).
    home = await mod.create_room(invite=[bot.user_id, *(c.user_id for c in crowd)], name="Crowd-Camp")
    await asyncio.gather(*(c.join(home) for c in crowd))
    home_room = mod.client.rooms[home]
    await mod.wait_until(
        lambda: bot.user_id in home_room.users and bot.user_id not in home_room.invited_users
    )
    created = await mod.command(
        home, f'!veranstaltung neu "Crowd-Camp" {local_date(datetime.now(BERLIN) + timedelta(days=2))}'
    )
    event = number_in(created.body, "sessions_event_created", "event_id", title="Crowd-Camp")
    await mod.command(home, f'!veranstaltung runde {event} "Runde" 10:00-11:00')
    session = proposed(
        await mod.command(home, f'!session vorschlagen "Beliebt" --kapazität {capacity}'), "Beliebt"
    )
    await mod.command(home, f"!session einplanen {session} 1")
    await mod.command(home, f"!veranstaltung veröffentlichen {event}")

    rooms = []
    for index in range(rooms_count):
        people = crowd[index * per_room : (index + 1) * per_room]
        room_id = await mod.create_room(
            invite=[bot.user_id, *(c.user_id for c in people)], name=f"Ecke {index}"
        )
        await asyncio.gather(*(c.join(room_id) for c in people))
        rooms.append((room_id, people))
    for room_id, people in rooms:
        room = mod.client.rooms[room_id]
        await mod.wait_until(
            lambda room=room: bot.user_id in room.users and bot.user_id not in room.invited_users
        )
        await mod.wait_until(lambda room=room, people=people: all(c.user_id in room.users for c in people))

    async def sign_up(client: AsyncClient, room_id: str) -> str:
        response = await client.room_send(
            room_id, "m.room.message", {"msgtype": "m.text", "body": f"!anmelden {session}"}
        )
        assert isinstance(response, RoomSendResponse), response
        return str(response.event_id)

    sent = await asyncio.gather(*(sign_up(c, room_id) for room_id, people in rooms for c in people))
    replies = [await mod.next_message(reply_to=event_id, timeout=90) for event_id in sent]
    confirmed = [
        r for r in replies if says(r.body, "sessions_signup_confirmed", title="Beliebt", session_id=session)
    ]
    waiting = [
        r for r in replies if says(r.body, "sessions_signup_waitlisted", title="Beliebt", session_id=session)
    ]
    assert len(confirmed) == capacity
    assert len(waiting) == len(crowd) - capacity
    places = sorted(number_in(r.body, "sessions_signup_waitlisted", "position") for r in waiting)
    assert places == list(range(1, len(crowd) - capacity + 1))  # in order: no place twice, none lost
    details = await mod.command(home, f"!session {session}")
    assert body("sessions_seats", confirmed=capacity, capacity=capacity) in details.body
    assert body("sessions_waitlist", count=len(crowd) - capacity) in details.body
    await asyncio.gather(*(c.close() for c in crowd))


# --- reminders and the slot announcement of the soon event ---


async def test_reminder_dm_and_slot_announcement(soon_bot: BotProcess, soon: Soon) -> None:
    bot = soon_bot
    reminder = await soon.erik.next_message(
        sender=bot.user_id, contains=stable("sessions_reminder"), timeout=150
    )
    assert says(reminder.body, "sessions_reminder", title="Sofort", session_id=soon.first)
    assert "Raum Elbe" in reminder.body
    assert f"{soon.start:%H:%M}" in reminder.body
    assert reminder.room_id == await soon.erik.direct_room_with(bot.user_id)
    announcement = await soon.moderator.next_message(
        room_id=soon.room, sender=bot.user_id, contains=stable("sessions_slot_announcement"), timeout=150
    )
    assert says(announcement.body, "sessions_slot_announcement", name="Jetzt")
    assert says(announcement.body, "sessions_slot_announcement_line", title="Sofort", session_id=soon.first)
    assert "Später" not in announcement.body
    # The moved session's reminder was removed with the move: fiona got none.
    assert not [m for m in soon.fiona.received if says(m.body, "sessions_reminder")]
    # ✅ on the slot announcement (one session in the round) signs up.
    before = len(soon.fiona.received)
    await soon.fiona.react(soon.room, announcement.event_id, "✅")
    joined = await soon.fiona.next_message(
        sender=bot.user_id, contains=stable("sessions_signup_confirmed"), after=before
    )
    assert says(joined.body, "sessions_signup_confirmed", title="Sofort", session_id=soon.first)

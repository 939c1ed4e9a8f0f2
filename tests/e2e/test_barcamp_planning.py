"""Barcamp planning end to end on the real homeserver, in an encrypted event room: proposals announced,
interest by reaction (and its removal), by command and by a native poll (MSC3381) answered by a member,
locations, `!veranstaltung planen` preview and `übernehmen`, the personal suggestion DM and the one-reaction
sign-up, a host never double-booked, re-planning after a late proposal (the moved members are told, a member
now signed up for two sessions at once with the clash named), and the
refusals (unknown numbers, capacity 0, no time slots, no locations, a proposal that cannot be placed)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from nio import MatrixRoom, RoomSendResponse, UnknownEvent

from tests.catalog import body, number_in, says, stable
from tests.catalog import body as rendered
from tests.e2e.harness import BotProcess, Member, module_bot

BERLIN = ZoneInfo("Europe/Berlin")
POLL_START = "org.matrix.msc3381.poll.start"

planbot = module_bot("planbot", "\n[sessions]\nplan_time_limit_seconds = 3\n")


async def encrypted_room(owner: Member, bot: BotProcess, members: list[Member]) -> str:
    room_id = await owner.create_room(
        invite=[bot.user_id, *(m.user_id for m in members)], encrypted=True, name="Planungscamp"
    )
    for member in members:
        await member.join(room_id)
    room = owner.client.rooms[room_id]
    await owner.wait_until(lambda: bot.user_id in room.users and bot.user_id not in room.invited_users)
    await owner.wait_until(lambda: all(m.user_id in room.users for m in members))
    return room_id


def collect_polls(member: Member) -> list[UnknownEvent]:
    polls: list[UnknownEvent] = []

    async def on_event(room: MatrixRoom, event: UnknownEvent) -> None:
        if event.type == POLL_START:
            polls.append(event)

    member.client.add_event_callback(on_event, UnknownEvent)  # type: ignore[arg-type]
    return polls


async def answer_poll(member: Member, room_id: str, poll_event_id: str, answers: list[str]) -> None:
    content: dict[str, Any] = {
        "m.relates_to": {"rel_type": "m.reference", "event_id": poll_event_id},
        "org.matrix.msc3381.poll.response": {"answers": answers},
    }
    response = await member.client.room_send(
        room_id, "org.matrix.msc3381.poll.response", content, ignore_unverified_devices=True
    )
    assert isinstance(response, RoomSendResponse), response


async def plan(mod: Member, room: str, event: int) -> str:
    """The preview of ``!veranstaltung planen`` (the first reply only says that the bot is planning)."""
    command = await mod.say(room, f"!veranstaltung planen {event}")
    hint = stable("sessions_plan_apply_hint", event_id=event)
    preview = await mod.next_message(room_id=room, reply_to=command, contains=hint, timeout=60)
    return preview.body


def slot_name(details: str) -> str:
    found = re.search(r"(Vormittag|Nachmittag), \d\d:\d\d", details)
    assert found, details
    return found.group(1)


async def test_interest_polls_locations_plan_apply_suggestions_and_replan(
    planbot: BotProcess, member_factory
) -> None:
    bot = planbot
    mod = await member_factory("planorga")
    hanna, kai, mia, anna, bert = [await member_factory(n) for n in ("hanna", "kai", "mia", "annap", "bertp")]
    room = await encrypted_room(mod, bot, [hanna, kai, mia, anna, bert])
    polls = collect_polls(bert)
    day = (datetime.now(BERLIN) + timedelta(days=1)).strftime("%d.%m.%Y")
    created = await mod.command(room, f'!veranstaltung neu "Planungscamp" {day}')
    event = number_in(created.body, "sessions_event_created", "event_id", title="Planungscamp")
    await mod.command(room, f"!veranstaltung öffnen {event}")

    # Proposals are announced as messages of their own: hanna hosts two, kai one.
    announced = {}
    for host, title in ((hanna, "Agile Verwaltung"), (hanna, "Open Data"), (kai, "E-Akte")):
        reply = await host.command(room, f'!session vorschlagen "{title}"')
        assert says(reply.body, "sessions_proposed", title=title), reply.body
        assert says(reply.body, "sessions_interest_react_hint"), reply.body
        announced[title] = reply
    agile, open_data, e_akte = (
        number_in(reply.body, "sessions_proposed", "session_id", title=title)
        for title, reply in announced.items()
    )

    # Bad input before there is anything to plan.
    reply = await mod.command(room, f"!veranstaltung planen {event}")
    assert says(reply.body, "sessions_plan_error_no_slots", event_id=event), reply.body
    for name, times in (("Vormittag", "10:00-11:00"), ("Nachmittag", "14:00-15:00")):
        await mod.command(room, f'!veranstaltung runde {event} "{name}" {times}')
    reply = await mod.command(room, f"!veranstaltung planen {event}")
    assert says(reply.body, "sessions_plan_error_no_locations", event_id=event), reply.body
    reply = await mod.command(room, f'!veranstaltung ort {event} "Raum Spree" 0')
    assert says(reply.body, "sessions_location_error_capacity", event_id=event, capacity=0), reply.body
    reply = await anna.command(room, "!interesse 999")
    assert says(reply.body, "sessions_interest_error_unknown", numbers="999"), reply.body

    # Locations: a room and a virtual room.
    reply = await mod.command(room, f'!veranstaltung ort {event} "Raum Spree" 20')
    assert says(
        reply.body,
        "sessions_location_added",
        event_id=event,
        number=1,
        seats=body("sessions_seats_count_other", count=20),
    ), reply.body
    reply = await mod.command(room, f'!veranstaltung ort {event} "Online" 50 https://meet.example.org/camp')
    assert says(
        reply.body,
        "sessions_location_added",
        event_id=event,
        number=2,
        seats=body("sessions_seats_count_other", count=50),
    ), reply.body
    reply = await mod.command(room, f"!veranstaltung orte {event}")
    assert all(part in reply.body for part in ("Raum Spree", "meet.example.org")), reply.body

    # Interest: anna by reaction and by command; a second reaction taken back leaves one.
    await anna.react(room, announced["Agile Verwaltung"].event_id, "👍")
    star = await anna.react(room, announced["Open Data"].event_id, "⭐")
    await anna.redact(room, star)
    reply = await anna.command(room, f"!interesse {e_akte}")
    assert says(reply.body, "sessions_interest_marked"), reply.body
    reply = await anna.command(room, "!interesse")
    assert all(title in reply.body for title in ("Agile Verwaltung", "E-Akte")), reply.body
    assert "Open Data" not in reply.body, reply.body

    # A poll; bert answers, then changes his mind (the latest answer counts).
    reply = await mod.command(room, f"!veranstaltung umfrage {event}")
    assert says(reply.body, "sessions_poll_posted", event_id=event, polls=1), reply.body
    await bert.wait_until(lambda: bool(polls))
    poll = polls[0]
    answers = poll.source["content"]["org.matrix.msc3381.poll.start"]["answers"]
    assert len(answers) == 3
    assert "m.poll" in poll.source["content"]
    await answer_poll(bert, room, poll.event_id, [f"session-{e_akte}"])
    await answer_poll(bert, room, poll.event_id, [f"session-{open_data}"])
    for session_id, count in ((agile, 1), (open_data, 1), (e_akte, 1)):
        reply = await bert.command(room, f"!session {session_id}")
        assert says(reply.body, "sessions_interest_count", count=count), reply.body
        assert not any(person.user_id in reply.body for person in (anna, bert)), reply.body
    reply = await bert.command(room, "!vorschläge")
    assert says(reply.body, "sessions_proposals_line", session_id=e_akte, title="E-Akte", count=1), reply.body
    reply = await mod.command(room, f"!veranstaltung interesse {event}")
    assert says(reply.body, "sessions_interest_ranking_title", title="Planungscamp"), reply.body

    # Preview, then übernehmen.
    preview = await plan(mod, room, event)
    assert says(preview, "sessions_plan_totals", placed=3, total=3, conflicts=0), preview
    before = len(anna.received)
    reply = await mod.command(room, f"!veranstaltung planen {event} übernehmen", timeout=60)
    assert says(reply.body, "sessions_plan_applied", event_id=event, scheduled=3, moved=0), reply.body

    # A host is never in two sessions at once.
    slot_of = {}
    for session_id in (agile, open_data, e_akte):
        slot_of[session_id] = slot_name((await mod.command(room, f"!session {session_id}")).body)
    assert slot_of[agile] != slot_of[open_data]
    assert slot_of[e_akte] != slot_of[agile]  # anna wants both

    # anna's personal suggestion; one 👍 signs her up for both sessions.
    direct = await anna.direct_room_with(bot.user_id)
    suggestion = await anna.next_message(
        room_id=direct, contains=stable("sessions_plan_suggestion_dm", title="Planungscamp"), after=before
    )
    assert all(title in suggestion.body for title in ("Agile Verwaltung", "E-Akte")), suggestion.body
    after = len(anna.received)
    await anna.react(direct, suggestion.event_id, "👍")
    confirmed = await anna.next_message(
        room_id=direct, contains=stable("sessions_signup_confirmed"), after=after
    )
    assert all(title in confirmed.body for title in ("Agile Verwaltung", "E-Akte")), confirmed.body

    # A late proposal whose host cannot make the time slot "Agile Verwaltung" is in: the other slot is full,
    # so a scheduled session (E-Akte: hanna hosts both others) must move, and its members are told.
    reply = await mia.command(room, '!session vorschlagen "Barrierefreiheit"')
    late = number_in(reply.body, "sessions_proposed", "session_id", title="Barrierefreiheit")
    reply = await mia.command(room, f"!session verhindert {late} {slot_of[agile]}")
    assert says(reply.body, "sessions_unavailable_set", session_id=late), reply.body
    before = len(anna.received)
    preview = await plan(mod, room, event)
    assert says(preview, "sessions_plan_totals", placed=4, total=4), preview
    reply = await mod.command(room, f"!veranstaltung planen {event} übernehmen", timeout=60)
    assert says(reply.body, "sessions_plan_applied", event_id=event), reply.body
    assert not says(reply.body, "sessions_plan_applied", event_id=event, moved=0), reply.body
    # E-Akte now runs at the same time as Agile Verwaltung, and anna is signed up for both: the summary
    # counts her, and her move message names the clash and how to keep one.
    assert says(
        reply.body, "sessions_moved_clashes_told", people=rendered("sessions_people_count_one", count=1)
    ), reply.body
    moved = await anna.next_message(room_id=direct, contains=stable("sessions_moved"), after=before)
    assert "E-Akte" in moved.body, moved.body
    assert says(
        moved.body, "sessions_moved_clash", session_id=e_akte, other_id=agile, other_title="Agile Verwaltung"
    ), moved.body
    told = await kai.next_message(contains=stable("sessions_moved"))
    assert "E-Akte" in told.body, told.body
    assert not says(told.body, "sessions_moved_clash"), told.body

    # A proposal that cannot be placed says which and why.
    await mia.command(room, f"!session verhindert {late} 1 2")
    preview = await plan(mod, room, event)
    assert says(preview, "sessions_plan_unplaced", session_id=late, title="Barrierefreiheit"), preview

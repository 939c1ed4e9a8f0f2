"""A barcamp day's afternoon end to end: results of sessions and repeats of crowded ones.

Results: a session in a time slot that ends at the next full minute; at its end the host gets a direct
message asking for results, answers it by replying (one line per point) and with ``!ergebnis``; the results
show under ``!session``, in ``!ergebnisse``, in the monthly digest's preview and in the iCal description.
Repeats (an event tomorrow, so nothing depends on the clock): a session with 2 seats gets a wait list of 1
(50 %), the host is offered a repeat in a free location by direct message, answers "ja", and the wait-listed
member takes the seat in the repeat (at that location) with 👍. Bad input throughout: unknown numbers,
strangers, too long, unscheduled.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

import icalendar

from tests.catalog import body, esc, number_in, says, stable
from tests.e2e.harness import BotProcess, module_bot
from tests.e2e.test_sessions import BERLIN, event_tomorrow, local_date, proposed, room_with_bot

results_bot = module_bot("resultsbot", '\n[bot]\nmoderators = []\n\n[digest]\nscope = "room"\n')


def reply_to(event_id: str) -> dict[str, Any]:
    return {"m.relates_to": {"m.in_reply_to": {"event_id": event_id}}}


async def slot_ending_soon() -> tuple[datetime, datetime]:
    """A time slot that has begun and ends at a full minute 20–80 seconds ahead (never across midnight)."""
    now = datetime.now(BERLIN)
    if now.hour == 23 and now.minute >= 57:
        await asyncio.sleep((60 - now.minute) * 60 - now.second + 5)
        now = datetime.now(BERLIN)
    start = now.replace(second=0, microsecond=0)
    end = start + timedelta(minutes=1 if now.second < 40 else 2)
    return start, end


async def test_results_dm_reply_command_session_summary_digest_ical(
    results_bot: BotProcess, member_factory: Any
) -> None:
    bot = results_bot
    mod = await member_factory("rmod")
    hanna, ines = await member_factory("hanna"), await member_factory("ines")
    room = await room_with_bot(mod, bot, [hanna, ines], "Ergebnis-Camp")
    start, end = await slot_ending_soon()
    created = await mod.command(room, f'!veranstaltung neu "Ergebnis-Camp" {local_date(start)}')
    event = number_in(created.body, "sessions_event_created", "event_id", title="Ergebnis-Camp")
    await mod.command(room, f'!veranstaltung runde {event} "Jetzt" {start:%H:%M}-{end:%H:%M}')
    assert says((await mod.command(room, f"!veranstaltung öffnen {event}")).body, "sessions_event_opened")
    held = proposed(await hanna.command(room, '!session vorschlagen "Offene Daten"'), "Offene Daten")
    idea = proposed(await hanna.command(room, '!session vorschlagen "Nur eine Idee"'), "Nur eine Idee")
    assert says(
        (await mod.command(room, f"!session einplanen {held} 1 Raum Elbe")).body, "sessions_scheduled"
    )

    # Bad input while the session runs: a stranger, an unknown number, an unscheduled session, too long.
    refused = await ines.command(room, f"!ergebnis {held} Mein Punkt")
    assert says(refused.body, "sessions_results_error_not_host", session_id=held)
    unknown = await hanna.command(room, "!ergebnis 999 Punkt")
    assert says(unknown.body, "sessions_error_unknown_session", session_id=999)
    unscheduled = await hanna.command(room, f"!ergebnis {idea} Punkt")
    assert says(unscheduled.body, "sessions_results_error_unscheduled", session_id=idea)
    too_long = await hanna.command(room, f"!ergebnis {held} {'x' * 301}")
    assert says(too_long.body, "sessions_results_error_too_long", session_id=held, max=300, length=301)
    english = await ines.command(room, f"!result {held} My point")
    assert says(english.body, "sessions_results_error_not_host", "en", session_id=held)

    # At the session's end: the direct message to the host; the answer by reply, one line per entry.
    asked = await hanna.next_message(
        sender=bot.user_id, contains=stable("sessions_results_request_dm"), timeout=150
    )
    assert "Offene Daten" in asked.body
    direct = await hanna.direct_room_with(bot.user_id)
    assert asked.room_id == direct
    answer = await hanna.say(
        direct, "1. Wir gründen eine AG\n2. https://example.org/protokoll", extra=reply_to(asked.event_id)
    )
    saved = await hanna.next_message(room_id=direct, reply_to=answer)
    assert says(
        saved.body,
        "sessions_results_saved",
        session_id=held,
        entries=body("sessions_entries_count_other", count=2),
    )
    # More by command anywhere; the fourth key point is one too many.
    added = await hanna.command(room, f"!ergebnis {held} Datenatlas <b>wird</b> gepflegt @room")
    assert says(
        added.body,
        "sessions_results_saved",
        session_id=held,
        entries=body("sessions_entries_count_other", count=3),
    )
    assert "<b>" not in (added.formatted_body or "")
    assert added.content["m.mentions"] == {"user_ids": []}
    assert says((await hanna.command(room, f"!ergebnis {held} Dritter Punkt")).body, "sessions_results_saved")
    full = await hanna.command(room, f"!ergebnis {held} Vierter Punkt")
    assert says(full.body, "sessions_results_error_full", session_id=held, max=3)
    removed = await mod.command(room, f"!ergebnis {held} löschen 4")  # moderators may, too
    assert says(
        removed.body,
        "sessions_results_cleared",
        session_id=held,
        entries=body("sessions_entries_count_other", count=3),
    )
    gone = await hanna.command(room, f"!ergebnis {held} löschen 9")
    assert says(gone.body, "sessions_results_error_unknown_entry", session_id=held, index=9, count=3)

    details = await ines.command(room, f"!session {held}")
    assert says(details.body, "sessions_results_heading")
    assert "Wir gründen eine AG" in details.body
    assert "https://example.org/protokoll" in details.body
    assert "Dritter Punkt" not in details.body

    summary = await ines.command(room, "!ergebnisse")
    assert says(summary.body, "sessions_results_summary_title", title="Ergebnis-Camp")
    assert "Offene Daten" in summary.body
    assert "Datenatlas" in summary.body
    assert "Nur eine Idee" not in summary.body  # not held
    by_title = await ines.command(room, "!results Ergebnis-Camp")
    assert says(by_title.body, "sessions_results_summary_title", "en", title="Ergebnis-Camp")
    nowhere = await ines.command(room, "!ergebnisse Gibt es nicht")
    assert says(nowhere.body, "sessions_results_error_unknown_event", title="Gibt es nicht")

    # The monthly digest (preview of this month) has the section with the link.
    before = len(mod.received)
    sent = await mod.command(room, f"!digest vorschau {datetime.now(BERLIN):%Y-%m}")
    assert says(sent.body, "digest_preview_sent")
    preview = await mod.next_message(
        sender=bot.user_id, contains=stable("digest_results_heading"), after=before, timeout=60
    )
    assert "Offene Daten" in preview.body
    assert "Wir gründen eine AG" in preview.body
    assert 'href="https://example.org/protokoll"' in (preview.formatted_body or "")

    # The iCal description lists the results.
    before = len(ines.received)
    await ines.say(room, "!kalender alle")
    file = await ines.next_message(room_id=room, sender=bot.user_id, contains=".ics", after=before)
    calendar = icalendar.Calendar.from_ical(await ines.download(file.content))
    entry = next(c for c in calendar.walk("VEVENT") if str(c.get("summary")) == "Offene Daten")
    description = str(entry.get("description"))
    assert "Wir gründen eine AG" in description
    assert "https://example.org/protokoll" in description


async def test_crowded_session_repeat_offer_yes_and_seat_by_reaction(
    results_bot: BotProcess, member_factory: Any
) -> None:
    bot = results_bot
    mod = await member_factory("wmod")
    lena, olga, paul, quinn = [await member_factory(n) for n in ("lena", "olga", "paul", "quinn")]
    room = await room_with_bot(mod, bot, [lena, olga, paul, quinn], "Wiederholungs-Camp")
    event = await event_tomorrow(mod, room, "Wiederholungs-Camp")
    for name, hours in (("Zeitfenster 1", "10:00-10:45"), ("Zeitfenster 2", "11:00-11:45")):
        await mod.command(room, f'!veranstaltung runde {event} "{name}" {hours}')
    # Locations: the repeat gets the smallest free one that seats the session (Kammer, not the Saal).
    for location in ('"Saal" 40', '"Kammer" 3'):
        assert says(
            (await mod.command(room, f"!veranstaltung ort {event} {location}")).body,
            "sessions_location_added",
        )
    assert says((await mod.command(room, f"!veranstaltung öffnen {event}")).body, "sessions_event_opened")
    popular = proposed(await lena.command(room, '!session vorschlagen "Beliebt" --plätze 2'), "Beliebt")
    other = proposed(await olga.command(room, '!session vorschlagen "Anderes"'), "Anderes")
    await mod.command(room, f"!session einplanen {popular} 1")
    await mod.command(room, f"!veranstaltung veröffentlichen {event}")

    # Bad input: a stranger, an unscheduled session.
    refused = await olga.command(room, f"!session wiederholen {popular}")
    assert says(refused.body, "sessions_repeat_error_not_host", session_id=popular)
    unscheduled = await olga.command(room, f"!session wiederholen {other}")
    assert says(unscheduled.body, "sessions_repeat_error_unscheduled", session_id=other)

    assert says((await olga.command(room, f"!anmelden {popular}")).body, "sessions_signup_confirmed")
    assert says((await paul.command(room, f"!anmelden {popular}")).body, "sessions_signup_confirmed")
    waiting = await quinn.command(room, f"!anmelden {popular}")
    assert says(waiting.body, "sessions_signup_waitlisted", session_id=popular, position=1)

    # 1 waiting of 2 seats is 50 %: the host is offered a repeat, and says yes by replying.
    offer = await lena.next_message(sender=bot.user_id, contains=stable("sessions_repeat_offer_dm"))
    assert says(offer.body, "sessions_repeat_offer_dm", session_id=popular, waiting=1, capacity=2, first=2)
    assert says(offer.body, "sessions_repeat_slot_at", location="Kammer", capacity=3), offer.body
    puzzled = await lena.say(offer.room_id, "vielleicht", extra=reply_to(offer.event_id))
    unclear = await lena.next_message(room_id=offer.room_id, reply_to=puzzled)
    assert says(unclear.body, "sessions_repeat_error_answer", session_id=popular)
    yes = await lena.say(offer.room_id, "ja", extra=reply_to(offer.event_id))
    created = await lena.next_message(room_id=offer.room_id, reply_to=yes)
    assert says(
        created.body,
        "sessions_repeat_created",
        session_id=popular,
        offered=body("sessions_people_count_one", count=1),
    )
    offered = body("sessions_people_count_one", count=1)
    repeat = number_in(
        created.body, "sessions_repeat_created", "repeat_id", session_id=popular, offered=offered
    )
    assert repeat != popular
    again = await lena.command(room, f"!session wiederholen {popular}")
    assert says(again.body, "sessions_repeat_error_already", session_id=popular, repeat_id=repeat)

    # The wait-listed member is offered the seat and takes it with 👍; the first wait list lets go of them.
    seat = await quinn.next_message(sender=bot.user_id, contains=stable("sessions_repeat_seat_dm"))
    assert says(seat.body, "sessions_repeat_seat_dm", title=esc("Beliebt"), session_id=repeat)
    assert says(seat.body, "sessions_where", location="Kammer"), seat.body
    before = len(quinn.received)
    await quinn.react(seat.room_id, seat.event_id, "👍")
    taken = await quinn.next_message(
        sender=bot.user_id, contains=stable("sessions_signup_confirmed"), after=before
    )
    assert says(taken.body, "sessions_signup_confirmed", session_id=repeat)
    original = await quinn.command(room, f"!session {popular}")
    assert not says(original.body, "sessions_waitlist", count=1)
    repeated = await quinn.command(room, f"!session {repeat}")
    assert says(repeated.body, "sessions_details_slot", name="Zeitfenster 2")
    assert "Kammer" in repeated.body, repeated.body

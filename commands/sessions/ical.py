"""iCalendar export of an event's scheduled sessions (RFC 5545, built with the ``icalendar`` package).

Times are written with ``TZID`` (the event's zone, normally Europe/Berlin) plus a matching ``VTIMEZONE``, so
calendar apps show the local times of the event whatever their own zone is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event

from bot.i18n import Translate

from .results_format import ResultEntry, results_plain
from .rules import EventView, SessionStatus, SessionView, SlotView

PRODID = "-//NExT community-bot//sessions//DE"
UID_DOMAIN = "community-bot"


def session_uid(session_id: int) -> str:
    """Stable per session, so re-importing an updated file updates the entry instead of duplicating it."""
    return f"session-{session_id}@{UID_DOMAIN}"


def calendar_ics(
    event: EventView,
    slots: Sequence[SlotView],
    sessions: Sequence[SessionView],
    *,
    tz: str | None = None,
    generated_at: datetime | None = None,
    t: Translate | None = None,
    results: Mapping[int, Sequence[ResultEntry]] | None = None,
) -> bytes:
    """One VEVENT per scheduled session of ``event`` (cancelled and unscheduled ones are left out).

    ``tz`` overrides the event's time zone; ``generated_at`` (an aware datetime) is the DTSTAMP and defaults
    to now; with ``t`` the description starts with the hosts.
    """
    zone = ZoneInfo(tz or event.tz)
    stamp = (generated_at or datetime.now(UTC)).astimezone(UTC)
    slot_by_id = {slot.id: slot for slot in slots}

    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", event.title)
    calendar.add("x-wr-timezone", zone.key)

    for session in sorted(sessions, key=lambda s: s.id):
        slot = slot_by_id.get(session.slot_id) if session.slot_id is not None else None
        if slot is None or session.status != SessionStatus.SCHEDULED:
            continue
        entry = Event()
        entry.add("uid", session_uid(session.id))
        entry.add("dtstamp", stamp)
        entry.add("dtstart", datetime.combine(event.day, slot.start, tzinfo=zone))
        entry.add("dtend", datetime.combine(event.day, slot.end, tzinfo=zone))
        entry.add("summary", session.title)
        description = _description(session, t, (results or {}).get(session.id, ()))
        if description:
            entry.add("description", description)
        if session.location:
            entry.add("location", session.location.strip())
        if session.theme:
            entry.add("categories", [session.theme])
        entry.add("status", "CONFIRMED")
        calendar.add_component(entry)

    # The zone's rules for the event's whole year: both DST transitions, still a small VTIMEZONE.
    year = event.day.year
    calendar.add_missing_timezones(first_date=date(year, 1, 1), last_date=date(year + 1, 1, 1))
    ics: bytes = calendar.to_ical()
    return ics


def _description(session: SessionView, t: Translate | None, results: Sequence[ResultEntry] = ()) -> str:
    parts = []
    if t is not None and session.hosts:
        parts.append(t("sessions_ical_hosts", hosts=", ".join(session.hosts)))
    if session.description.strip():
        parts.append(session.description.strip())
    if t is not None and results:
        parts.append(results_plain(results, t))
    return "\n\n".join(parts)

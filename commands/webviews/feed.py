"""A member's subscribed calendar (``/cal/<token>.ics``): their sessions, and with scope "all" every session
of the published events in their rooms.

Correct for calendar apps: the UID of a session is the one the .ics download uses (stable), ``SEQUENCE`` and
``LAST-MODIFIED`` grow when a session's time, place, title or status changes (tracked per session in
``calendar_entry_versions``), cancelled sessions stay as ``STATUS:CANCELLED``, wait-listed ones are
``TENTATIVE`` and marked in the title, times carry ``TZID`` with a ``VTIMEZONE``. ``DTSTAMP`` is the entry's
last change, so an unchanged calendar is byte-identical and its ETag stays the same.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import Translate
from commands.sessions import queries
from commands.sessions.ical import PRODID, UID_DOMAIN, session_uid
from commands.sessions.results_format import results_plain
from commands.sessions.results_service import load_results
from commands.sessions.rules import EventStatus, SessionStatus, SessionView, SignupState
from storage.sessions import BarcampSession, SessionEvent, SessionHost, SessionSignup
from storage.webviews import CalendarEntryVersion, CalendarFeed

if TYPE_CHECKING:
    from bot.app import App

HOSTED, SIGNED_UP, WAITLISTED, LISTED = "host", "confirmed", "waitlisted", "listed"


@dataclass(frozen=True)
class Entry:
    event: SessionEvent
    session: SessionView
    start: datetime
    end: datetime
    role: str
    results: str = ""  # the session's results as plain text (commands.sessions.results_format)


@dataclass(frozen=True)
class ProgramEntry:
    """A program item (welcome, lunch break) of an event in the "all" calendar."""

    event: SessionEvent
    label: str
    start: datetime
    end: datetime

    @property
    def uid(self) -> str:
        # Time and text identify an item (items have no id of their own); a changed item is a new entry.
        digest = hashlib.sha256(self.label.encode()).hexdigest()[:12]
        return f"program-{self.event.id}-{self.start:%H%M}-{digest}@{UID_DOMAIN}"


# A program item has a start only: it lasts until the next item or session round, at most an hour.
PROGRAM_ITEM_DEFAULT = timedelta(minutes=30)
PROGRAM_ITEM_LONGEST = timedelta(hours=1)


def program_entries(event: SessionEvent, data: queries.EventData) -> list[ProgramEntry]:
    zone = ZoneInfo(event.timezone)
    starts = sorted(
        [datetime.combine(event.day, item.time, tzinfo=zone) for item in data.items]
        + [datetime.combine(event.day, slot.start, tzinfo=zone) for slot in data.slot_views]
    )
    entries = []
    for item in data.items:
        start = datetime.combine(event.day, item.time, tzinfo=zone)
        later = [moment for moment in starts if moment > start]
        end = min(later[0], start + PROGRAM_ITEM_LONGEST) if later else start + PROGRAM_ITEM_DEFAULT
        entries.append(ProgramEntry(event, item.label, start, end))
    return entries


def display_names(app: App, room_id: str, user_ids: tuple[str, ...]) -> list[str]:
    """Hosts by their display name in the event room (the localpart when they have none)."""
    room = app.matrix.client.rooms.get(room_id)
    names = []
    for user_id in user_ids:
        user = room.users.get(user_id) if room is not None else None
        name = getattr(user, "display_name", None) if user is not None else None
        names.append(name or user_id.split(":", 1)[0].lstrip("@"))
    return names


def member_rooms(app: App, user_id: str) -> set[str]:
    return {room_id for room_id, room in app.matrix.client.rooms.items() if user_id in room.users}


async def _entries(app: App, db: AsyncSession, feed: CalendarFeed) -> tuple[list[Entry], list[ProgramEntry]]:
    user_id = feed.user_id
    roles: dict[int, str] = {}
    for session_id, state in await db.execute(
        select(SessionSignup.session_id, SessionSignup.state).where(SessionSignup.user_id == user_id)
    ):
        roles[session_id] = SIGNED_UP if state == SignupState.CONFIRMED else WAITLISTED
    hosted = await db.execute(select(SessionHost.session_id).where(SessionHost.user_id == user_id))
    for (session_id,) in hosted:
        roles[session_id] = HOSTED

    event_ids = set(
        (await db.scalars(select(BarcampSession.event_id).where(BarcampSession.id.in_(list(roles))))).all()
    )
    if feed.scope == "all":
        rooms = member_rooms(app, user_id)
        event_ids |= set(
            (
                await db.scalars(
                    select(SessionEvent.id).where(
                        SessionEvent.room_id.in_(rooms),
                        SessionEvent.status.in_((EventStatus.PUBLISHED, EventStatus.OVER)),
                    )
                )
            ).all()
        )
    entries = []
    program: list[ProgramEntry] = []
    t = await queries.translator_for(app, db, user_id)
    for event_id in sorted(event_ids):
        event = await db.get(SessionEvent, event_id)
        if event is None:
            continue
        data = await queries.load_event_data(db, event)
        if feed.scope == "all":
            program.extend(program_entries(event, data))
        slots = {slot.id: slot for slot in data.slot_views}
        results = await load_results(db, [s.id for s in data.sessions])
        zone = ZoneInfo(event.timezone)
        for session in data.sessions:
            slot = slots.get(session.slot_id) if session.slot_id is not None else None
            if slot is None or session.status not in (SessionStatus.SCHEDULED, SessionStatus.CANCELLED):
                continue
            role = roles.get(session.id, LISTED if feed.scope == "all" else "")
            if not role:
                continue
            start = datetime.combine(event.day, slot.start, tzinfo=zone)
            end = datetime.combine(event.day, slot.end, tzinfo=zone)
            summary = results_plain(results.get(session.id, ()), t)
            entries.append(Entry(event, session, start, end, role, summary))
    return entries, program


def fingerprint(entry: Entry) -> str:
    s = entry.session
    parts: tuple[str, ...] = (
        entry.start.isoformat(),
        entry.end.isoformat(),
        s.location or "",
        s.status,
        s.title,
    )
    if entry.results:  # only then: entries without results keep the fingerprint they had before
        parts += (entry.results,)
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


async def _versions(app: App, db: AsyncSession, entries: list[Entry]) -> dict[int, CalendarEntryVersion]:
    """The stored version of every entry; a changed fingerprint raises SEQUENCE and LAST-MODIFIED."""
    ids = [e.session.id for e in entries]
    rows = {
        row.session_id: row
        for row in (
            await db.scalars(select(CalendarEntryVersion).where(CalendarEntryVersion.session_id.in_(ids)))
        ).all()
    }
    now = datetime.now(UTC).replace(microsecond=0)
    for entry in entries:
        mark = fingerprint(entry)
        row = rows.get(entry.session.id)
        if row is None:
            row = rows[entry.session.id] = CalendarEntryVersion(
                session_id=entry.session.id, fingerprint=mark, sequence=0, modified_at=now
            )
            db.add(row)
        elif row.fingerprint != mark:
            row.fingerprint, row.sequence, row.modified_at = mark, row.sequence + 1, now
    return rows


async def build_feed(app: App, feed: CalendarFeed) -> bytes:
    """The member's calendar as iCalendar bytes (deterministic for unchanged data)."""
    # One writer at a time for the version rows (two calendar apps polling at once).
    async with app.locks.for_key("webviews-calendar-versions"), app.db.session() as db:
        t = await queries.translator_for(app, db, feed.user_id)
        entries, program = await _entries(app, db, feed)
        versions = await _versions(app, db, entries)
    return render(app, entries, versions, t, program)


def render(
    app: App,
    entries: list[Entry],
    versions: dict[int, CalendarEntryVersion],
    t: Translate,
    program: list[ProgramEntry] | None = None,
) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", t("webviews_feed_name"))
    calendar.add("x-wr-timezone", app.settings.bot.timezone)
    calendar.add("x-published-ttl", timedelta(hours=1))
    calendar.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    years: set[int] = {datetime.now(UTC).year}
    for entry in sorted(entries, key=lambda e: (e.start, e.session.id)):
        session, version = entry.session, versions[entry.session.id]
        years.add(entry.start.year)
        item = Event()
        item.add("uid", session_uid(session.id))
        item.add("dtstamp", version.modified_at)
        item.add("last-modified", version.modified_at)
        item.add("sequence", version.sequence)
        item.add("dtstart", entry.start)
        item.add("dtend", entry.end)
        title = session.title
        if entry.role == WAITLISTED:
            title = t("webviews_feed_waitlisted", title=title)
        item.add("summary", title)
        lines = []
        if session.hosts:
            hosts = ", ".join(display_names(app, entry.event.room_id, session.hosts))
            lines.append(t("webviews_feed_hosts", hosts=hosts))
        role_key = {HOSTED: "webviews_feed_role_host", WAITLISTED: "webviews_feed_role_waitlisted"}
        if entry.role in role_key:
            lines.append(t(role_key[entry.role]))
        lines.append(t("webviews_feed_event", title=entry.event.title, session_id=session.id))
        if session.description.strip():
            lines.append(session.description.strip())
        if entry.results:
            lines.append(entry.results)
        item.add("description", "\n\n".join(lines))
        if session.location:
            item.add("location", session.location.strip())
        if session.status == SessionStatus.CANCELLED:
            item.add("status", "CANCELLED")
        elif entry.role == WAITLISTED:
            item.add("status", "TENTATIVE")
        else:
            item.add("status", "CONFIRMED")
        calendar.add_component(item)
    for part in sorted(program or [], key=lambda p: (p.start, p.label)):
        years.add(part.start.year)
        item = Event()
        item.add("uid", part.uid)
        # Deterministic for unchanged data (ETag): stamped with the event's creation.
        item.add("dtstamp", part.event.created_at.replace(microsecond=0))
        item.add("sequence", 0)
        item.add("dtstart", part.start)
        item.add("dtend", part.end)
        item.add("summary", part.label)
        item.add("description", t("webviews_feed_program_item", title=part.event.title))
        item.add("status", "CONFIRMED")
        item.add("transp", "TRANSPARENT")
        calendar.add_component(item)
    calendar.add_missing_timezones(first_date=date(min(years), 1, 1), last_date=date(max(years) + 1, 1, 1))
    if not calendar.walk("VTIMEZONE"):
        # No entry yet: still say which zone the calendar lives in.
        from icalendar import Timezone

        calendar.add_component(
            Timezone.from_tzid(
                app.settings.bot.timezone,
                first_date=date(min(years), 1, 1),
                last_date=date(max(years) + 1, 1, 1),
            )
        )
    ics: bytes = calendar.to_ical()
    return ics

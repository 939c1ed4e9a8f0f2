"""Markdown texts of the sessions feature: the day's agenda (paginated), session details, "my sessions".

All user-supplied values (titles, descriptions, labels, locations, hosts) go through ``bot.format.esc``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, time

from bot.format import esc, neutralize
from bot.i18n import Translate
from bot.sender import pill

from .rules import (
    EventView,
    ProgramItemView,
    SessionStatus,
    SessionView,
    SignupState,
    SignupView,
    SlotView,
)

FormatDate = Callable[[date, str], str]
"""``format_date(day, language)`` → "Mo, 15.05.2025" / "Mon, 15 May 2025" (``timephrases.format_date``)."""

DETAIL_SEPARATOR = " · "
# Header line plus the blank line after it.
PAGE_HEADER_LINES = 2
MIN_PAGE_LINES = PAGE_HEADER_LINES + 2
# Only plain http(s) links become clickable; anything else is shown as escaped text.
_SAFE_URL = re.compile(r"https?://[^\s<>\"'`\\]+")


def format_date_local(day: date, t: Translate) -> str:
    """Fallback date formatter driven by the catalog (weekday and month names per language)."""
    weekdays = t("sessions_weekdays").split(",")
    months = t("sessions_months").split(",")
    return t("sessions_date", d=day, weekday=weekdays[day.weekday()], month=months[day.month - 1])


def _date_text(day: date, t: Translate, format_date: FormatDate | None) -> str:
    return format_date(day, t.language) if format_date is not None else format_date_local(day, t)


def location_markdown(location: str) -> str:
    """A room label as escaped text; a plain http(s) link as an autolink so it stays clickable."""
    stripped = location.strip()
    if _SAFE_URL.fullmatch(stripped):
        return f"<{neutralize(stripped)}>"
    return esc(stripped)


def seats_text(session: SessionView, t: Translate) -> str:
    if session.capacity is None:
        return t("sessions_seats_unlimited", confirmed=session.confirmed)
    return t("sessions_seats", confirmed=session.confirmed, capacity=session.capacity)


def _occupancy_parts(session: SessionView, t: Translate) -> list[str]:
    parts = [seats_text(session, t)]
    if session.waitlisted > 0:
        parts.append(t("sessions_waitlist", count=session.waitlisted))
    return parts


def _session_details_parts(session: SessionView, t: Translate) -> list[str]:
    parts = _occupancy_parts(session, t)
    if session.location:
        parts.append(t("sessions_location", location=location_markdown(session.location)))
    if session.hosts:
        parts.append(t("sessions_hosts", hosts=_hosts_text(session)))
    return parts


def _hosts_text(session: SessionView) -> str:
    """Hosts as pills named by their display name, when known; else their Matrix IDs as text."""
    if len(session.host_names) == len(session.hosts) and session.hosts:
        return ", ".join(
            pill(host, name) for host, name in zip(session.hosts, session.host_names, strict=True)
        )
    return ", ".join(esc(host) for host in session.hosts)


def _session_line(session: SessionView, t: Translate, interest: Mapping[int, int] | None = None) -> str:
    if session.status == SessionStatus.CANCELLED:
        return t("sessions_agenda_session_cancelled", title=esc(session.title), session_id=session.id)
    parts = _session_details_parts(session, t)
    if interest is not None and session.status == SessionStatus.PROPOSED:
        parts.append(t("sessions_interest_count", count=interest.get(session.id, 0)))
    details = DETAIL_SEPARATOR.join(parts)
    return t("sessions_agenda_session", title=esc(session.title), session_id=session.id, details=details)


@dataclass(frozen=True)
class _Unit:
    """Lines that must stay on one page.

    ``group`` identifies the block (consecutive program items, one slot); a blank line separates different
    blocks. ``continuation`` is repeated at the top of a page when a block continues there.
    """

    lines: tuple[str, ...]
    group: int
    continuation: tuple[str, ...] = ()


def _agenda_units(
    program_items: Sequence[ProgramItemView],
    slots: Sequence[SlotView],
    sessions: Sequence[SessionView],
    t: Translate,
    interest: Mapping[int, int] | None = None,
) -> list[_Unit]:
    slot_ids = {slot.id for slot in slots}
    by_slot: dict[int, list[SessionView]] = {}
    unscheduled: list[SessionView] = []
    for session in sorted(sessions, key=lambda s: s.id):
        if session.slot_id is not None and session.slot_id in slot_ids:
            by_slot.setdefault(session.slot_id, []).append(session)
        elif session.status != SessionStatus.CANCELLED:
            unscheduled.append(session)

    # A program item that only names a slot at its start ("11:15 Sessionrunde 1") is shown by the slot.
    slot_starts = {(slot.start, slot.name.strip().casefold()) for slot in slots}
    items = [i for i in program_items if (i.time, i.label.strip().casefold()) not in slot_starts]
    # Program items before slots at the same time: "11:15 Begrüßung" then the slot starting at 11:15.
    timeline: list[tuple[tuple[time, int, time, int], ProgramItemView | SlotView]] = [
        ((item.time, 0, item.time, index), item) for index, item in enumerate(items)
    ]
    timeline += [((slot.start, 1, slot.end, slot.id), slot) for slot in slots]
    timeline.sort(key=lambda entry: entry[0])

    units: list[_Unit] = []
    group = 0
    previous_was_item = False
    for _, entry in timeline:
        if isinstance(entry, ProgramItemView):
            if not previous_was_item:
                group += 1
            units.append(_Unit((t("sessions_agenda_item", time=entry.time, label=esc(entry.label)),), group))
            previous_was_item = True
            continue
        previous_was_item = False
        group += 1
        header = t("sessions_agenda_slot", start=entry.start, end=entry.end, name=esc(entry.name))
        units.extend(_block_units(header, by_slot.get(entry.id, []), group, t))
    if unscheduled:
        group += 1
        units.extend(_block_units(t("sessions_agenda_unscheduled"), unscheduled, group, t, interest))
    return units


def _block_units(
    header: str,
    sessions: Sequence[SessionView],
    group: int,
    t: Translate,
    interest: Mapping[int, int] | None = None,
) -> list[_Unit]:
    if not sessions:
        return [_Unit((header, t("sessions_agenda_slot_empty")), group)]
    lines = [_session_line(session, t, interest) for session in sessions]
    continuation = (t("sessions_agenda_continued", header=header),)
    first = _Unit((header, lines[0]), group)
    return [first, *(_Unit((line,), group, continuation) for line in lines[1:])]


def _paginate(units: Sequence[_Unit], budget: int) -> list[list[str]]:
    pages: list[list[str]] = []
    page: list[str] = []
    last_group: int | None = None
    for unit in units:
        if page:
            separator = [""] if unit.group != last_group else []
            if len(page) + len(separator) + len(unit.lines) <= budget:
                page.extend(separator)
                page.extend(unit.lines)
                last_group = unit.group
                continue
            pages.append(page)
        # A block continuing on a new page gets its header again, as long as that still fits.
        lead = list(unit.continuation) if len(unit.continuation) + len(unit.lines) <= budget else []
        page = lead + list(unit.lines)
        last_group = unit.group
    if page:
        pages.append(page)
    return pages


def agenda_pages(
    event: EventView,
    program_items: Sequence[ProgramItemView],
    slots: Sequence[SlotView],
    sessions: Sequence[SessionView],
    t: Translate,
    *,
    max_lines: int = 40,
    format_date: FormatDate | None = None,
    interest: Mapping[int, int] | None = None,
) -> list[str]:
    """The day's program as Markdown messages of at most ``max_lines`` lines each.

    Program items and slots appear in time order; each slot lists its sessions with seats, wait list,
    location and hosts. A slot's header is never separated from its first session; a slot continuing on the
    next page repeats its header there. Sessions without a slot follow at the end; cancelled ones are marked.
    ``interest`` (session id → members interested) adds the interest count to each proposal.
    """
    if max_lines < MIN_PAGE_LINES:
        raise ValueError(f"max_lines must be at least {MIN_PAGE_LINES}")
    title = esc(event.title)
    day = _date_text(event.day, t, format_date)
    units = _agenda_units(program_items, slots, sessions, t, interest)
    if not units:
        return [t("sessions_agenda_title", title=title, date=day) + "\n\n" + t("sessions_agenda_empty")]
    bodies = _paginate(units, max_lines - PAGE_HEADER_LINES)
    if len(bodies) == 1:
        return [t("sessions_agenda_title", title=title, date=day) + "\n\n" + "\n".join(bodies[0])]
    return [
        t("sessions_agenda_title_paged", title=title, date=day, page=number, pages=len(bodies))
        + "\n\n"
        + "\n".join(body)
        for number, body in enumerate(bodies, start=1)
    ]


def session_details(session: SessionView, slot: SlotView | None, t: Translate) -> str:
    """Everything about one session, with the command to sign up."""
    lines = [t("sessions_details_title", title=esc(session.title), session_id=session.id)]
    if session.status == SessionStatus.CANCELLED:
        lines.append(t("sessions_details_cancelled"))
    elif slot is not None and session.slot_id == slot.id:
        lines.append(t("sessions_details_slot", name=esc(slot.name), start=slot.start, end=slot.end))
    else:
        lines.append(t("sessions_details_unscheduled"))
    if session.location:
        lines.append(t("sessions_location", location=location_markdown(session.location)))
    if session.hosts:
        lines.append(t("sessions_details_hosts", hosts=_hosts_text(session)))
    if session.theme:
        lines.append(t("sessions_details_theme", theme=esc(session.theme)))
    if session.status != SessionStatus.CANCELLED:
        lines.append(DETAIL_SEPARATOR.join(_occupancy_parts(session, t)))
    text = "\n".join(lines)
    if session.description.strip():
        text += "\n\n" + esc(session.description.strip())
    if session.status == SessionStatus.SCHEDULED and session.slot_id is not None:
        text += "\n\n" + t("sessions_details_signup_hint", session_id=session.id)
    return text


def my_sessions(
    event: EventView,
    slots: Sequence[SlotView],
    sessions: Sequence[SessionView],
    signups: Sequence[SignupView],
    t: Translate,
    *,
    hosted_session_ids: Collection[int] = frozenset(),
    format_date: FormatDate | None = None,
) -> str:
    """A member's sessions of one event in time order: hosted, confirmed and wait-listed ones.

    ``signups`` are the member's own sign-ups; ``sessions`` must contain the sessions they refer to.
    """
    header = t("sessions_my_title", title=esc(event.title), date=_date_text(event.day, t, format_date))
    slot_by_id = {slot.id: slot for slot in slots}
    signup_by_session = {signup.session_id: signup for signup in signups}
    mine = [s for s in sessions if s.id in signup_by_session or s.id in hosted_session_ids]
    if not mine:
        return header + "\n\n" + t("sessions_my_empty")

    def order(session: SessionView) -> tuple[int, object, int]:
        slot = slot_by_id.get(session.slot_id) if session.slot_id is not None else None
        return (0, slot.start, session.id) if slot is not None else (1, "", session.id)

    lines = []
    for session in sorted(mine, key=order):
        slot = slot_by_id.get(session.slot_id) if session.slot_id is not None else None
        when = (
            t("sessions_my_when", start=slot.start, end=slot.end)
            if slot is not None
            else t("sessions_my_when_unscheduled")
        )
        signup = signup_by_session.get(session.id)
        if session.status == SessionStatus.CANCELLED:
            state = t("sessions_my_state_cancelled")
        elif session.id in hosted_session_ids:
            state = t("sessions_my_state_host")
        elif signup is not None and signup.state == SignupState.WAITLISTED:
            state = t("sessions_my_state_waitlisted", position=signup.position or "?")
        else:
            state = t("sessions_my_state_confirmed")
        details = [state]
        if session.location and session.status != SessionStatus.CANCELLED:
            details.append(t("sessions_location", location=location_markdown(session.location)))
        lines.append(
            t(
                "sessions_my_line",
                when=when,
                title=esc(session.title),
                session_id=session.id,
                details=DETAIL_SEPARATOR.join(details),
            )
        )
    return header + "\n\n" + "\n".join(lines)

"""Sessions: barcamp events with program, session rounds, proposals, sign-ups with wait lists, agenda, iCal.

Moderators create an event in the community room (``!veranstaltung neu``), add program items and session
rounds, open proposals, schedule sessions into rounds and publish the agenda. Members propose sessions,
sign up (``!anmelden``, or ✅ on a session's announcement), withdraw, list their sessions and download
an .ics file. Reminders go out by direct message before each session; each round's start is announced in the
event room. See docs/sessions.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.context import CommandContext, ReactionContext
from bot.format import esc
from bot.framework import (
    Arg,
    Choice,
    ClockArg,
    ClockRangeArg,
    CommandError,
    DateArg,
    Feature,
    Flag,
    Int,
    Permission,
    Quoted,
    Text,
    Word,
)
from bot.i18n import Translate
from storage.sessions import (
    BarcampSession,
    ProgramItem,
    SessionEvent,
    SessionHost,
    SessionSignup,
    SessionSlot,
)
from timephrases import format_date

from . import service
from .agenda import agenda_pages, location_markdown, my_sessions, seats_text, session_details
from .program_import import parse_program
from .rules import (
    MAX_TITLE_LENGTH,
    EventStatus,
    Problem,
    SessionStatus,
    SessionView,
    SignupState,
    SlotView,
    find_slot_overlap,
    render,
    validate_capacity,
    validate_event_date,
    validate_slot_times,
    validate_title,
    with_prefix,
)
from .service import NUMBER_KEYS, SESSION_KIND, SLOT_KIND, Change

if TYPE_CHECKING:
    from bot.app import App

feature = Feature(
    "sessions", messages=Path(__file__).with_name("messages.toml"), title_key="sessions_title", order=30
)

MAX_DESCRIPTION = 2000
MAX_THEME = 100
MAX_LOCATION = 500
MAX_IMPORT_PROBLEMS = 15
SIGNUP_KEYS = ("✅", "✔️")

# The service module cannot import ``feature`` (this package imports it first), so its jobs register here.
feature.job("sessions.reminder")(service.fire_session_reminder)
feature.job("sessions.round_announcement")(service.announce_slot)


def tr(ctx: CommandContext) -> Translate:
    return with_prefix(ctx.t, ctx.prefix)


def fail(problem: Problem) -> CommandError:
    """A pure-logic problem as a command error (the router escapes string parameters)."""
    params: dict[str, Any] = dict(problem.params)
    return CommandError(problem.key, **params)


# --- lookups ----------------------------------------------------------------------------------------------


async def room_event(db: AsyncSession, room_id: str) -> SessionEvent | None:
    """The room's current event: the earliest one that is not over."""
    events = (
        await db.scalars(
            select(SessionEvent)
            .where(SessionEvent.room_id == room_id)
            .order_by(SessionEvent.day, SessionEvent.id)
        )
    ).all()
    return next((e for e in events if not service.is_over(e)), None)


async def get_event(db: AsyncSession, event_id: int) -> SessionEvent:
    event = await db.get(SessionEvent, event_id)
    if event is None:
        raise CommandError("sessions_error_unknown_event", event_id=event_id)
    return event


async def get_session(db: AsyncSession, session_id: int) -> BarcampSession:
    row = await db.get(BarcampSession, session_id)
    if row is None:
        raise CommandError("sessions_error_unknown_session", session_id=session_id)
    return row


async def events_for(ctx: CommandContext, db: AsyncSession, event_id: int | None) -> list[SessionEvent]:
    """The events a member command is about: the given one, the room's, or (in a direct chat) the member's."""
    if event_id is not None:
        return [await get_event(db, event_id)]
    here = await room_event(db, ctx.room_id)
    if here is not None:
        return [here]
    if not ctx.is_direct:
        raise CommandError("sessions_error_no_event")
    active = [
        e
        for e in (await db.scalars(select(SessionEvent).order_by(SessionEvent.day))).all()
        if not service.is_over(e)
    ]
    mine_ids = set(
        (
            await db.scalars(
                select(BarcampSession.event_id)
                .outerjoin(SessionSignup, SessionSignup.session_id == BarcampSession.id)
                .outerjoin(SessionHost, SessionHost.session_id == BarcampSession.id)
                .where(or_(SessionSignup.user_id == ctx.sender, SessionHost.user_id == ctx.sender))
            )
        ).all()
    )
    mine = [e for e in active if e.id in mine_ids]
    if mine:
        return mine
    if len(active) == 1:
        return active
    if not active:
        raise CommandError("sessions_error_no_event")
    raise CommandError("sessions_error_which_event", events=", ".join(f"{e.id} ({e.title})" for e in active))


def is_event_moderator(ctx: CommandContext, event: SessionEvent) -> bool:
    """Moderators of the event's room (commands typed there) and configured moderators/admins."""
    settings = ctx.app.settings.bot
    if ctx.sender in settings.admins or ctx.sender in settings.moderators:
        return True
    return ctx.is_moderator and ctx.room_id == event.room_id


def require_event_moderator(ctx: CommandContext, event: SessionEvent) -> None:
    if not is_event_moderator(ctx, event):
        raise CommandError("sessions_error_wrong_room", event_id=event.id)


def require_not_over(event: SessionEvent) -> None:
    if service.is_over(event):
        raise CommandError("sessions_error_event_over", event_id=event.id, title=event.title)


async def slot_of(db: AsyncSession, row: BarcampSession) -> SessionSlot | None:
    return await db.get(SessionSlot, row.slot_id) if row.slot_id is not None else None


def pick_slot(slots: Sequence[SessionSlot], given: str) -> SessionSlot | None:
    """A round given by its number (``2``, ``#2``) or its name (any case)."""
    wanted = given.strip().lstrip("#").casefold()
    return next(
        (s for s in slots if (wanted.isdigit() and s.number == int(wanted)) or s.name.casefold() == wanted),
        None,
    )


def slot_list(slots: list[SessionSlot], t: Translate) -> str:
    return ", ".join(
        t("sessions_slot_ref", number=s.number, name=esc(s.name), start=s.start, end=s.end)
        for s in sorted(slots, key=lambda s: s.number)
    )


# --- moderators: events -----------------------------------------------------------------------------------

event_group = feature.group(
    de="veranstaltung",
    en="event",
    aliases=("barcamp",),
    help="sessions_event",
    permission=Permission.MODERATOR,
)


@event_group.subcommand(
    de="neu",
    en="create",
    aliases=("anlegen", "new"),
    help="sessions_event_create",
    args=[Arg("title", Quoted()), Arg("day", DateArg())],
)
async def create_event(ctx: CommandContext, title: str, day: date) -> None:
    if ctx.is_direct:
        raise CommandError("sessions_error_event_in_direct")
    problem = validate_title(title) or validate_event_date(
        day, service.event_today(None, ctx.app.settings.bot.timezone)
    )
    if problem:
        raise fail(problem)
    space_id = await _parent_space(ctx)
    async with ctx.app.db.session() as db:
        event = SessionEvent(
            room_id=ctx.room_id,
            space_id=space_id,
            title=title.strip(),
            day=day,
            timezone=ctx.app.settings.bot.timezone,
            status=EventStatus.DRAFT,
            proposals_open=False,
            created_by=ctx.sender,
        )
        db.add(event)
    t = tr(ctx)
    await ctx.reply(
        t(
            "sessions_event_created",
            event_id=event.id,
            title=esc(event.title),
            date=format_date(day, ctx.language),
        )
    )


async def _parent_space(ctx: CommandContext) -> str | None:
    """The space the community room belongs to (its ``m.space.parent``), where session rooms are created."""
    try:
        response = await ctx.app.matrix.client.room_get_state(ctx.room_id)
    except Exception:  # only a nicety: session rooms are created without a space then
        return None
    for event in getattr(response, "events", None) or []:
        if event.get("type") == "m.space.parent" and event.get("content", {}).get("via"):
            return str(event.get("state_key")) or None
    return None


@event_group.subcommand(
    de="programm",
    en="program",
    aliases=("punkt", "item"),
    help="sessions_event_program",
    args=[Arg("event_id", Int(minimum=1)), Arg("at", ClockArg()), Arg("label", Text(max_length=1000))],
)
async def add_program_item(ctx: CommandContext, event_id: int, at: time, label: str) -> None:
    label = " ".join(label.split())
    if len(label) > MAX_TITLE_LENGTH:
        raise CommandError("sessions_error_label_long", length=len(label), max=MAX_TITLE_LENGTH)
    async with ctx.app.db.session() as db:
        event = await get_event(db, event_id)
        require_event_moderator(ctx, event)
        require_not_over(event)
        db.add(ProgramItem(event_id=event.id, at=at, label=label))
    await ctx.reply(tr(ctx)("sessions_item_added", event_id=event_id, time=at, label=esc(label)))


@event_group.subcommand(
    de="programm-entfernen",
    en="unprogram",
    aliases=("punkt-entfernen", "programm-löschen", "programm-loeschen", "remove-item"),
    help="sessions_event_unprogram",
    args=[
        Arg("event_id", Int(minimum=1)),
        Arg("at", ClockArg()),
        Arg("label", Text(max_length=1000, allow_empty=True), required=False, default=""),
    ],
)
async def remove_program_item(ctx: CommandContext, event_id: int, at: time, label: str) -> None:
    wanted = " ".join(label.split()).casefold()
    async with ctx.app.db.session() as db:
        event = await get_event(db, event_id)
        require_event_moderator(ctx, event)
        require_not_over(event)
        at_that_time = (
            await db.scalars(
                select(ProgramItem)
                .where(ProgramItem.event_id == event.id, ProgramItem.at == at)
                .order_by(ProgramItem.id)
            )
        ).all()
        matching = [item for item in at_that_time if item.label.casefold().startswith(wanted)]
        if not matching:
            raise CommandError("sessions_error_no_item", event_id=event_id, time=at)
        if len(matching) > 1:
            raise CommandError(
                "sessions_error_several_items",
                event_id=event_id,
                time=at,
                labels=", ".join(f"„{item.label}“" for item in matching),
                first=matching[0].label.split()[0],
            )
        removed = matching[0].label
        await db.delete(matching[0])
    await ctx.reply(tr(ctx)("sessions_item_removed", event_id=event_id, time=at, label=esc(removed)))


@event_group.subcommand(
    de="runde",
    en="slot",
    aliases=("round", "sessionrunde"),
    help="sessions_event_slot",
    args=[Arg("event_id", Int(minimum=1)), Arg("name", Quoted()), Arg("times", ClockRangeArg())],
)
async def add_slot(ctx: CommandContext, event_id: int, name: str, times: tuple[time, time]) -> None:
    start, end = times
    name = " ".join(name.split())
    if len(name) > MAX_TITLE_LENGTH:
        raise CommandError("sessions_error_label_long", length=len(name), max=MAX_TITLE_LENGTH)
    problem = validate_slot_times(start, end)
    if problem:
        raise fail(problem)
    async with ctx.app.db.session() as db:
        event = await get_event(db, event_id)
        require_event_moderator(ctx, event)
        require_not_over(event)
        existing = (await db.scalars(select(SessionSlot).where(SessionSlot.event_id == event.id))).all()
        overlap = find_slot_overlap(SlotView(0, name, start, end), [service.slot_view(s) for s in existing])
        if overlap:
            raise fail(overlap)
        slot = await _add_slot(db, event, name, start, end)
        due = slot.announce_due_at
    service.schedule_slot(ctx.app, slot.id, due)
    await ctx.reply(
        tr(ctx)(
            "sessions_slot_added", event_id=event_id, number=slot.number, name=esc(name), start=start, end=end
        )
    )


@event_group.subcommand(
    de="runde-entfernen",
    en="unslot",
    aliases=("runde-löschen", "runde-loeschen", "remove-slot"),
    help="sessions_event_unslot",
    args=[Arg("event_id", Int(minimum=1)), Arg("slot", Text(max_length=MAX_TITLE_LENGTH))],
)
async def remove_slot(ctx: CommandContext, event_id: int, slot: str) -> None:
    t = tr(ctx)
    app = ctx.app
    async with app.db.session() as db:
        event = await get_event(db, event_id)
        require_event_moderator(ctx, event)
        require_not_over(event)
    async with service.event_lock(app, event_id), app.db.session() as db:
        slots = list((await db.scalars(select(SessionSlot).where(SessionSlot.event_id == event_id))).all())
        target = pick_slot(slots, slot)
        if target is None:
            if not slots:
                raise CommandError("sessions_error_no_slots", event_id=event_id)
            raise CommandError(
                "sessions_error_unknown_slot_remove", event_id=event_id, slot=slot, slots=slot_list(slots, t)
            )
        in_use = (
            await db.scalars(
                select(BarcampSession.id)
                .where(BarcampSession.slot_id == target.id, BarcampSession.status == SessionStatus.SCHEDULED)
                .order_by(BarcampSession.id)
            )
        ).all()
        if in_use:
            raise CommandError(
                "sessions_error_slot_in_use",
                number=target.number,
                sessions=", ".join(map(str, in_use)),
            )
        await db.delete(target)
    app.jobs.cancel(service.slot_job_id(target.id))
    await ctx.reply(
        t(
            "sessions_slot_removed",
            event_id=event_id,
            number=target.number,
            name=esc(target.name),
            start=target.start,
            end=target.end,
        )
    )


async def _add_slot(db: AsyncSession, event: SessionEvent, name: str, start: time, end: time) -> SessionSlot:
    number = (
        await db.scalar(select(func.max(SessionSlot.number)).where(SessionSlot.event_id == event.id))
    ) or 0
    slot = SessionSlot(event_id=event.id, number=number + 1, name=name, start=start, end=end)
    begins = datetime.combine(event.day, start, tzinfo=ZoneInfo(event.timezone)).astimezone(UTC)
    slot.announce_due_at = begins if begins > datetime.now(UTC) else None
    db.add(slot)
    await db.flush()
    return slot


@event_group.subcommand(
    de="öffnen",
    en="open",
    aliases=("oeffnen",),
    help="sessions_event_open",
    args=[Arg("event_id", Int(minimum=1))],
)
async def open_event(ctx: CommandContext, event_id: int) -> None:
    async with ctx.app.db.session() as db:
        event = await get_event(db, event_id)
        require_event_moderator(ctx, event)
        require_not_over(event)
        event.proposals_open = True
        if event.status == EventStatus.DRAFT:
            event.status = EventStatus.OPEN
        title = event.title
    await ctx.reply(tr(ctx)("sessions_event_opened", event_id=event_id, title=esc(title)))


@event_group.subcommand(
    de="schließen",
    en="close",
    aliases=("schliessen",),
    help="sessions_event_close",
    args=[Arg("event_id", Int(minimum=1))],
)
async def close_event(ctx: CommandContext, event_id: int) -> None:
    async with ctx.app.db.session() as db:
        event = await get_event(db, event_id)
        require_event_moderator(ctx, event)
        require_not_over(event)
        event.proposals_open = False
        if event.status == EventStatus.OPEN:
            event.status = EventStatus.DRAFT
        title, status = event.title, event.status
    key = "sessions_event_closed_published" if status == EventStatus.PUBLISHED else "sessions_event_closed"
    await ctx.reply(tr(ctx)(key, event_id=event_id, title=esc(title)))


@event_group.subcommand(
    de="veröffentlichen",
    en="publish",
    aliases=("veroeffentlichen",),
    help="sessions_event_publish",
    args=[Arg("event_id", Int(minimum=1))],
)
async def publish_event(ctx: CommandContext, event_id: int) -> None:
    async with ctx.app.db.session() as db:
        event = await get_event(db, event_id)
        require_event_moderator(ctx, event)
        require_not_over(event)
        event.status = EventStatus.PUBLISHED
        data = await service.load_event_data(db, event)
        language = await service._room_language(ctx.app, db, event.room_id)
    room_t = with_prefix(ctx.app.catalog.translator(language), ctx.prefix)
    pages = agenda_pages(
        data.view,
        data.items,
        data.slot_views,
        data.sessions,
        room_t,
        max_lines=ctx.app.settings.sessions.agenda_page_lines,
        format_date=format_date,
    )
    await ctx.reply(tr(ctx)("sessions_event_published", event_id=event_id, title=esc(event.title)))
    for page in pages:
        await ctx.app.sender.send(page, room_id=event.room_id)
    await ctx.app.sender.send(room_t("sessions_publish_hint"), room_id=event.room_id)


@event_group.subcommand(
    de="import",
    en="import",
    aliases=("importieren",),
    help="sessions_event_import",
    args=[Arg("event_id", Int(minimum=1))],
)
async def import_program(ctx: CommandContext, event_id: int) -> None:
    t = tr(ctx)
    async with ctx.app.db.session() as db:
        event = await get_event(db, event_id)
        require_event_moderator(ctx, event)
        require_not_over(event)
    attachment = await ctx.attachment()
    if attachment is None:
        raise CommandError("sessions_error_no_attachment", event_id=event_id)
    filename, data = attachment
    parsed = parse_program(data, filename)
    problems = list(parsed.problems)
    async with ctx.app.db.session() as db:
        event = await get_event(db, event_id)
        existing = (await db.scalars(select(SessionSlot).where(SessionSlot.event_id == event.id))).all()
        views = [service.slot_view(s) for s in existing]
        for imported in parsed.slots:
            overlap = find_slot_overlap(imported.as_view(0), views)
            if overlap:
                problems.append(Problem(overlap.key, overlap.params, imported.line))
        if problems:
            lines = [t("sessions_import_failed", filename=esc(filename), count=len(problems))]
            lines += [f"- {render(p, t)}" for p in problems[:MAX_IMPORT_PROBLEMS]]
            if len(problems) > MAX_IMPORT_PROBLEMS:
                lines.append(t("sessions_import_more", count=len(problems) - MAX_IMPORT_PROBLEMS))
            await ctx.reply("\n".join(lines))
            return
        for item in parsed.items:
            db.add(ProgramItem(event_id=event.id, at=item.time, label=item.label))
        new_slots = [await _add_slot(db, event, s.name, s.start, s.end) for s in parsed.slots]
        jobs = [(s.id, s.announce_due_at) for s in new_slots]
    for slot_id, due in jobs:
        service.schedule_slot(ctx.app, slot_id, due)
    await ctx.reply(
        t(
            "sessions_import_done",
            event_id=event_id,
            summary=t("sessions_import_summary", items=len(parsed.items), slots=len(parsed.slots)),
        )
    )


# --- sessions ---------------------------------------------------------------------------------------------


async def show_session(ctx: CommandContext, session_id: int) -> None:
    async with ctx.app.db.session() as db:
        row = await get_session(db, session_id)
        view = (await service.session_views(db, [row]))[0]
        slot = await slot_of(db, row)
    await ctx.reply(
        session_details(view, service.slot_view(slot) if slot else None, tr(ctx))
        + _react_hint(ctx, view.status),
        track=(SESSION_KIND, session_id),
    )


def _react_hint(ctx: CommandContext, status: str) -> str:
    return "\n" + tr(ctx)("sessions_react_hint") if status == SessionStatus.SCHEDULED else ""


session_cmd = feature.command(
    de="session",
    en="session",
    aliases=("sitzung",),
    help="sessions_session",
    args=[Arg("session_id", Int(minimum=1))],
)(show_session)


@session_cmd.subcommand(
    de="vorschlagen",
    en="propose",
    aliases=("vorschlag", "neu", "new"),
    help="sessions_propose",
    args=[
        Arg("title", Quoted()),
        Arg("description", Text(max_length=MAX_DESCRIPTION, allow_empty=True), required=False, default=""),
    ],
    flags=[
        Flag("capacity", ("kapazität", "kapazitaet", "capacity", "plätze", "seats"), Int()),
        Flag("theme", ("thema", "theme", "säule"), Quoted(max_length=MAX_THEME)),
    ],
)
async def propose(
    ctx: CommandContext, title: str, description: str, capacity: int | None, theme: str | None
) -> None:
    problem = validate_title(title) or (validate_capacity(capacity) if capacity is not None else None)
    if problem:
        raise fail(problem)
    async with ctx.app.db.session() as db:
        event = await room_event(db, ctx.room_id)
        if event is None:
            raise CommandError("sessions_error_no_event")
        if not event.proposals_open and not is_event_moderator(ctx, event):
            raise CommandError("sessions_error_proposals_closed", title=event.title)
        row = BarcampSession(
            event_id=event.id,
            title=title.strip(),
            description=description.strip(),
            theme=theme.strip() if theme else None,
            capacity=capacity if capacity is not None else ctx.app.settings.sessions.default_capacity,
            status=SessionStatus.PROPOSED,
        )
        row.hosts.append(SessionHost(user_id=ctx.sender))
        db.add(row)
        await db.flush()
        session_id = row.id
    await ctx.reply(tr(ctx)("sessions_proposed", session_id=session_id, title=esc(title.strip())))


@session_cmd.subcommand(
    de="einplanen",
    en="schedule",
    aliases=("planen", "verschieben", "move"),
    help="sessions_schedule",
    permission=Permission.MODERATOR,
    args=[
        Arg("session_id", Int(minimum=1)),
        Arg("slot", Quoted()),
        Arg("location", Text(max_length=MAX_LOCATION, allow_empty=True), required=False, default=""),
    ],
)
async def schedule(ctx: CommandContext, session_id: int, slot: str, location: str) -> None:
    t = tr(ctx)
    app = ctx.app
    async with app.db.session() as db:
        row = await get_session(db, session_id)
        event = await get_event(db, row.event_id)
        require_event_moderator(ctx, event)
        require_not_over(event)
        event_id = event.id
    moved_from: int | None = None
    async with service.event_lock(app, event_id), app.db.session() as db:
        row = await get_session(db, session_id)
        event = await get_event(db, row.event_id)
        if row.status == SessionStatus.CANCELLED:
            raise CommandError("sessions_error_cancelled", session_id=session_id, title=row.title)
        slots = list((await db.scalars(select(SessionSlot).where(SessionSlot.event_id == event.id))).all())
        if not slots:
            raise CommandError("sessions_error_no_slots", event_id=event.id)
        target = pick_slot(slots, slot)
        if target is None:
            raise CommandError("sessions_error_unknown_slot", slot=slot, slots=slot_list(slots, t))
        if row.status == SessionStatus.SCHEDULED and row.slot_id is not None and row.slot_id != target.id:
            moved_from = row.slot_id
        row.slot_id = target.id
        row.status = SessionStatus.SCHEDULED
        if location.strip():
            row.location = location.strip()
        due = service.reminder_due(app, event, target)
        row.reminder_due_at = due
        row.reminder_sent_at = None
        if moved_from is not None:
            for user_id in await service.hosts_and_signed_up(db, row):
                if user_id == ctx.sender:
                    continue
                ut = await service.translator_for(app, db, user_id)
                db.add(
                    app.sender.prepare(
                        ut(
                            "sessions_moved",
                            title=esc(row.title),
                            session_id=row.id,
                            when=service.when_text(event, target, ut),
                            where=service.where_text(row, ut),
                        ),
                        to_user=user_id,
                    )
                )
        people = sorted(
            {h.user_id for h in row.hosts}
            | {s.user_id for s in await service.signups_of(db, row.id) if s.state == SignupState.CONFIRMED}
        )
        needs_room = app.settings.sessions.create_rooms and row.matrix_room_id is None
        view = (await service.session_views(db, [row]))[0]
        space_id = event.space_id
        when = service.when_text(event, target, t)
        title = row.title
    service.schedule_reminder(app, session_id, due)
    app.sender.wake()
    if needs_room:
        await _create_session_room(ctx, session_id, title, people, space_id)
    key = "sessions_rescheduled" if moved_from is not None else "sessions_scheduled"
    await ctx.reply(
        t(key, session_id=session_id, title=esc(title), when=when, seats=_seats(view, t))
        + _react_hint(ctx, SessionStatus.SCHEDULED),
        track=(SESSION_KIND, session_id),
    )


def _seats(view: SessionView, t: Translate) -> str:
    parts = [seats_text(view, t)]
    if view.location:
        parts.append(t("sessions_location", location=location_markdown(view.location)))
    return " · ".join(parts)


async def _create_session_room(
    ctx: CommandContext, session_id: int, title: str, people: list[str], space_id: str | None
) -> None:
    app = ctx.app
    try:
        room_id = await app.matrix.create_room(
            title, [p for p in people if p != app.matrix.user_id], space_id=space_id
        )
    except Exception as exc:
        service.log.warning("could not create a room for session %s: %s", session_id, exc)
        return
    async with app.db.session() as db:
        row = await db.get(BarcampSession, session_id)
        if row is not None:
            row.matrix_room_id = room_id


async def _require_manager(ctx: CommandContext, db: AsyncSession, row: BarcampSession) -> SessionEvent:
    event = await get_event(db, row.event_id)
    if not (is_event_moderator(ctx, event) or any(h.user_id == ctx.sender for h in row.hosts)):
        raise CommandError("sessions_error_not_host", session_id=row.id)
    return event


@session_cmd.subcommand(
    de="kapazität",
    en="capacity",
    aliases=("kapazitaet", "plätze", "plaetze", "seats"),
    help="sessions_capacity",
    args=[Arg("session_id", Int(minimum=1)), Arg("capacity", Int())],
)
async def set_capacity(ctx: CommandContext, session_id: int, capacity: int) -> None:
    problem = validate_capacity(capacity)
    if problem:
        raise fail(problem)
    async with ctx.app.db.session() as db:
        row = await get_session(db, session_id)
        event = await _require_manager(ctx, db, row)
        require_not_over(event)
        title = row.title
    change = Change()
    confirmed, _ = await service.change_capacity(ctx.app, session_id, capacity, change)
    await service.invite_all(ctx.app, change.invite)
    t = tr(ctx)
    text = t(
        "sessions_capacity_set",
        session_id=session_id,
        title=esc(title),
        capacity=capacity,
        confirmed=confirmed,
    )
    if change.promoted:
        text += "\n" + t("sessions_capacity_promoted", count=len(change.promoted))
    if confirmed > capacity:
        text += "\n" + t("sessions_capacity_over", confirmed=confirmed, capacity=capacity)
    await ctx.reply(text)


# Fields a host may change after proposing; the keys are the column names.
EDITABLE_FIELDS = {
    "title": ("titel", "name"),
    "description": ("beschreibung", "text", "desc"),
    "theme": ("thema", "säule", "saeule"),
    "location": ("ort", "raum", "room", "where", "wo"),
}
FIELD_LIMITS = {"description": MAX_DESCRIPTION, "theme": MAX_THEME, "location": MAX_LOCATION}


@session_cmd.subcommand(
    de="bearbeiten",
    en="edit",
    aliases=("ändern", "aendern", "change"),
    help="sessions_edit",
    args=[
        Arg("session_id", Int(minimum=1)),
        Arg("field", Choice(EDITABLE_FIELDS)),
        Arg("value", Text(max_length=MAX_DESCRIPTION, allow_empty=True), required=False, default=""),
    ],
)
async def edit_session(ctx: CommandContext, session_id: int, field: str, value: str) -> None:
    t = tr(ctx)
    value = value.strip()
    problem = validate_title(value) if field == "title" else None
    if problem:
        raise fail(problem)
    limit = FIELD_LIMITS.get(field)
    if limit is not None and len(value) > limit:
        raise CommandError(
            "sessions_error_field_too_long", field=t(f"sessions_field_{field}"), max=limit, length=len(value)
        )
    app = ctx.app
    async with app.db.session() as db:
        row = await get_session(db, session_id)
        event = await _require_manager(ctx, db, row)
        require_not_over(event)
        if row.status == SessionStatus.CANCELLED:
            raise CommandError("sessions_error_cancelled", session_id=session_id, title=row.title)
        old_location = service.session_location(row.location, row.matrix_room_id)
        setattr(row, field, value if value or field in ("title", "description") else None)
        told: list[str] = []
        # Only a location edit can change where the session takes place.
        new_location = service.session_location(row.location, row.matrix_room_id)
        if row.status == SessionStatus.SCHEDULED and new_location != old_location:
            told = [p for p in await service.hosts_and_signed_up(db, row) if p != ctx.sender]
            for user_id in told:
                ut = await service.translator_for(app, db, user_id)
                where = service.where_text(row, ut)
                key = "sessions_location_changed_dm" if where else "sessions_location_removed_dm"
                db.add(
                    app.sender.prepare(
                        ut(key, title=esc(row.title), session_id=row.id, where=where), to_user=user_id
                    )
                )
        title = row.title
    app.sender.wake()
    key = "sessions_edited" if value else "sessions_edited_removed"
    text = t(key, session_id=session_id, title=esc(title), field=t(f"sessions_field_{field}"))
    if told:
        text += "\n" + t("sessions_edited_told", count=len(told))
    await ctx.reply(text)


@session_cmd.subcommand(
    de="absagen",
    en="cancel",
    aliases=("streichen", "löschen", "delete"),
    help="sessions_cancel",
    args=[Arg("session_id", Int(minimum=1))],
)
async def cancel(ctx: CommandContext, session_id: int) -> None:
    app = ctx.app
    async with app.db.session() as db:
        row = await get_session(db, session_id)
        event = await _require_manager(ctx, db, row)
        event_id = event.id
    async with service.event_lock(app, event_id), app.db.session() as db:
        row = await get_session(db, session_id)
        if row.status == SessionStatus.CANCELLED:
            raise CommandError("sessions_error_cancelled", session_id=session_id, title=row.title)
        event = await get_event(db, event_id)
        slot = await slot_of(db, row)
        row.status = SessionStatus.CANCELLED
        row.reminder_due_at = None
        told = [p for p in await service.hosts_and_signed_up(db, row) if p != ctx.sender]
        for user_id in told:
            ut = await service.translator_for(app, db, user_id)
            when = (
                service.when_text(event, slot, ut) if slot is not None else ut("sessions_my_when_unscheduled")
            )
            db.add(
                app.sender.prepare(
                    ut("sessions_cancelled_dm", title=esc(row.title), session_id=row.id, when=when),
                    to_user=user_id,
                )
            )
        title = row.title
    app.jobs.cancel(service.reminder_job_id(session_id))
    app.sender.wake()
    await ctx.reply(tr(ctx)("sessions_cancelled", session_id=session_id, title=esc(title), count=len(told)))


# --- members ----------------------------------------------------------------------------------------------


@feature.command(
    de="programm",
    en="agenda",
    aliases=("zeitplan", "program"),
    help="sessions_agenda_cmd",
    args=[Arg("event_id", Int(minimum=1), required=False)],
)
async def agenda(ctx: CommandContext, event_id: int | None) -> None:
    async with ctx.app.db.session() as db:
        events = await events_for(ctx, db, event_id)
        if len(events) > 1:
            raise CommandError(
                "sessions_error_which_event", events=", ".join(f"{e.id} ({e.title})" for e in events)
            )
        data = await service.load_event_data(db, events[0])
    t = tr(ctx)
    pages = agenda_pages(
        data.view,
        data.items,
        data.slot_views,
        data.sessions,
        t,
        max_lines=ctx.app.settings.sessions.agenda_page_lines,
        format_date=format_date,
    )
    for page in pages:
        await ctx.reply(page)


@feature.command(
    de="anmelden",
    en="signup",
    aliases=("sign-up", "teilnehmen", "join-session"),
    help="sessions_signup",
    args=[Arg("session_id", Int(minimum=1))],
    flags=[Flag("switch", ("wechseln", "switch", "tauschen"))],
)
async def signup(ctx: CommandContext, session_id: int, switch: bool) -> None:
    change = await service.sign_up(ctx.app, session_id, ctx.sender, switch=switch, t=tr(ctx))
    if change.decision is None:
        raise CommandError("sessions_error_unknown_session", session_id=session_id)
    await service.invite_all(ctx.app, change.invite)
    await ctx.reply(change.text)


@feature.command(
    de="abmelden",
    en="withdraw",
    aliases=("austragen", "leave-session"),
    help="sessions_withdraw",
    args=[Arg("session_id", Int(minimum=1))],
)
async def withdraw_cmd(ctx: CommandContext, session_id: int) -> None:
    change = await service.withdraw(ctx.app, session_id, ctx.sender, tr(ctx))
    if change.unknown_session:
        raise CommandError("sessions_error_unknown_session", session_id=session_id)
    await service.invite_all(ctx.app, change.invite)
    await ctx.reply(change.text)


async def _mine_text(ctx: CommandContext, db: AsyncSession, event: SessionEvent) -> str:
    data = await service.load_event_data(db, event)
    ids = [s.id for s in data.sessions]
    signups = (
        await db.scalars(
            select(SessionSignup).where(
                SessionSignup.session_id.in_(ids), SessionSignup.user_id == ctx.sender
            )
        )
    ).all()
    hosted = set(
        (
            await db.scalars(
                select(SessionHost.session_id).where(
                    SessionHost.session_id.in_(ids), SessionHost.user_id == ctx.sender
                )
            )
        ).all()
    )
    return my_sessions(
        data.view,
        data.slot_views,
        data.sessions,
        [service.signup_view(s) for s in signups],
        tr(ctx),
        hosted_session_ids=hosted,
        format_date=format_date,
    )


@feature.command(de="meine", en="mysessions", aliases=("meine-sessions", "my-sessions"), help="sessions_mine")
async def mine(ctx: CommandContext) -> None:
    async with ctx.app.db.session() as db:
        events = await events_for(ctx, db, None)
        texts = [await _mine_text(ctx, db, event) for event in events]
    await ctx.reply("\n\n".join(texts))


@feature.command(
    de="kalender",
    en="ical",
    aliases=("calendar", "ics"),
    help="sessions_calendar",
    args=[Arg("scope", Word(), required=False, default=""), Arg("event_id", Int(minimum=1), required=False)],
)
async def calendar(ctx: CommandContext, scope: str, event_id: int | None) -> None:
    everything = scope.casefold() in ("alle", "all", "alles", "everything")
    if scope and not everything:
        if scope.lstrip("#").isdigit() and event_id is None:
            event_id = int(scope.lstrip("#"))
        else:
            raise CommandError("sessions_error_calendar_scope", value=scope, show_usage=True)
    t = tr(ctx)
    files: list[tuple[str, bytes]] = []
    async with ctx.app.db.session() as db:
        events = await events_for(ctx, db, event_id)
        for event in events:
            data = await service.load_event_data(db, event)
            sessions = data.sessions
            if not everything:
                ids = [s.id for s in sessions]
                signed = set(
                    (
                        await db.scalars(
                            select(SessionSignup.session_id).where(
                                SessionSignup.session_id.in_(ids),
                                SessionSignup.user_id == ctx.sender,
                                SessionSignup.state == SignupState.CONFIRMED,
                            )
                        )
                    ).all()
                )
                sessions = [s for s in sessions if s.id in signed or ctx.sender in s.hosts]
            if not any(s.status == SessionStatus.SCHEDULED and s.slot_id is not None for s in sessions):
                continue
            from .ical import calendar_ics  # icalendar is loaded when the first calendar is asked for

            ics = calendar_ics(data.view, data.slot_views, sessions, t=t)
            files.append((f"{_slug(event.title)}-{event.day.isoformat()}.ics", ics))
    if not files:
        await ctx.answer("sessions_calendar_empty" if not everything else "sessions_calendar_empty_all")
        return
    to_room = everything or ctx.is_direct
    for filename, ics in files:
        if to_room:
            await ctx.app.sender.send_file(
                ics, filename=filename, mimetype="text/calendar", room_id=ctx.room_id
            )
        else:
            await ctx.app.sender.send_file(
                ics, filename=filename, mimetype="text/calendar", to_user=ctx.sender
            )
    if not to_room:
        await ctx.answer("sessions_calendar_sent_direct")


def _slug(title: str) -> str:
    import re

    slug = re.sub(r"[^A-Za-z0-9]+", "-", title).strip("-").lower()
    return slug[:40] or "barcamp"


# --- reactions --------------------------------------------------------------------------------------------


async def _react_change(reaction: ReactionContext, session_id: int) -> None:
    app = reaction.app
    t = with_prefix(reaction.t, app.settings.bot.command_prefix)
    if reaction.added:
        change = await service.sign_up(app, session_id, reaction.sender, switch=False, t=t)
        text = change.text
    else:
        async with app.db.session() as db:
            has = await db.scalar(
                select(SessionSignup.id).where(
                    SessionSignup.session_id == session_id, SessionSignup.user_id == reaction.sender
                )
            )
        if has is None:
            return
        change = await service.withdraw(app, session_id, reaction.sender, t)
        text = change.text
    await service.invite_all(app, change.invite)
    if text:
        await app.sender.send(text, to_user=reaction.sender)


@feature.on_reaction(SESSION_KIND, SIGNUP_KEYS)
async def react_to_session(reaction: ReactionContext) -> None:
    if reaction.ref_id is not None:
        await _react_change(reaction, reaction.ref_id)


@feature.on_reaction(SLOT_KIND, (*SIGNUP_KEYS, *NUMBER_KEYS))
async def react_to_slot(reaction: ReactionContext) -> None:
    if reaction.ref_id is None:
        return
    async with reaction.app.db.session() as db:
        ids = list(
            (
                await db.scalars(
                    select(BarcampSession.id)
                    .where(
                        BarcampSession.slot_id == reaction.ref_id,
                        BarcampSession.status == SessionStatus.SCHEDULED,
                    )
                    .order_by(BarcampSession.id)
                )
            ).all()
        )
    numbers = [k.replace("\ufe0f", "") for k in NUMBER_KEYS]
    if reaction.key in numbers:
        index = numbers.index(reaction.key)
    elif len(ids) == 1:
        index = 0
    else:
        return
    if index < len(ids):
        await _react_change(reaction, ids[index])


# --- start, privacy ---------------------------------------------------------------------------------------


@feature.on_start
async def reschedule_missing(app: App) -> None:
    await service.reschedule_missing(app)


@feature.privacy_export
async def export_sessions(app: App, user_id: str) -> dict[str, Any]:
    async with app.db.session() as db:
        signups = (await db.scalars(select(SessionSignup).where(SessionSignup.user_id == user_id))).all()
        hosted_ids = (
            await db.scalars(select(SessionHost.session_id).where(SessionHost.user_id == user_id))
        ).all()
        hosted = (await db.scalars(select(BarcampSession).where(BarcampSession.id.in_(hosted_ids)))).all()
        events = (await db.scalars(select(SessionEvent).where(SessionEvent.created_by == user_id))).all()
    return {
        "session_signups": [
            {
                "session_id": s.session_id,
                "state": s.state,
                "position": s.position,
                "created_at": s.created_at.isoformat(),
                "confirmed_at": s.confirmed_at.isoformat() if s.confirmed_at else None,
            }
            for s in signups
        ],
        "sessions_hosted": [
            {
                "id": r.id,
                "event_id": r.event_id,
                "title": r.title,
                "description": r.description,
                "theme": r.theme,
                "status": r.status,
                "created_at": r.created_at.isoformat(),
            }
            for r in hosted
        ],
        "events_created": [{"id": e.id, "title": e.title, "day": e.day.isoformat()} for e in events],
    }


@feature.privacy_erase
async def erase_sessions(app: App, user_id: str) -> int:
    """Withdraw every sign-up (the next in line moves up), drop host entries and host-less proposals."""
    async with app.db.session() as db:
        session_ids = (
            await db.scalars(select(SessionSignup.session_id).where(SessionSignup.user_id == user_id))
        ).all()
    t = with_prefix(app.catalog.translator(app.settings.bot.language), app.settings.bot.command_prefix)
    count = 0
    for session_id in session_ids:
        change = await service.withdraw(app, session_id, user_id, t)
        await service.invite_all(app, change.invite)
        count += 1
    async with app.db.session() as db:
        hosted_ids = (
            await db.scalars(select(SessionHost.session_id).where(SessionHost.user_id == user_id))
        ).all()
        result = await db.execute(delete(SessionHost).where(SessionHost.user_id == user_id))
        count += int(getattr(result, "rowcount", 0) or 0)
        for session_id in hosted_ids:
            row = await db.get(BarcampSession, session_id)
            if row is not None and row.status == SessionStatus.PROPOSED:
                await db.refresh(row, ["hosts"])
                if not row.hosts:
                    await db.delete(row)
                    count += 1
        events = (await db.scalars(select(SessionEvent).where(SessionEvent.created_by == user_id))).all()
        for event in events:
            event.created_by = ""
    return count

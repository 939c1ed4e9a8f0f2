"""Commands on one session: show, propose, schedule (or move), capacity, edit, cancel."""

from __future__ import annotations

from bot.context import CommandContext
from bot.format import esc
from bot.framework import (
    Arg,
    Choice,
    CommandError,
    Flag,
    Int,
    Permission,
    Quoted,
    Text,
)
from bot.i18n import Translate, plural
from storage.sessions import (
    BarcampSession,
    SessionEvent,
    SessionHost,
)

from .agenda import location_markdown, seats_text, session_details
from .feature import (
    MAX_DESCRIPTION,
    MAX_LOCATION,
    MAX_THEME,
    SESSION_KIND,
    fail,
    feature,
    sessions_settings,
    tr,
)
from .interest_commands import announce_proposal, interest_line
from .jobs import reminder_job_id
from .lookups import (
    check_session_event_moderator,
    get_event,
    get_session,
    is_event_moderator,
    require_manager,
    require_not_over,
    require_visible_session,
    room_event,
    slot_of,
    with_host_names,
)
from .planning import after_scheduling, location_of, schedule_session, tell_location_changed
from .queries import (
    hosts_and_signed_up,
    session_views,
    slot_view,
    translator_for,
    when_text,
)
from .rules import (
    SessionStatus,
    SessionView,
    validate_capacity,
    validate_title,
)
from .service import Change, change_capacity, event_lock, invite_all

# isort: split
from .results_format import results_block
from .results_jobs import cancel_results
from .results_service import load_results

# --- sessions ---------------------------------------------------------------------------------------------


async def show_session(ctx: CommandContext, session_id: int) -> None:
    async with ctx.app.db.session() as db:
        row = await get_session(db, session_id)
        await require_visible_session(ctx, db, row)
        view = (await session_views(db, [row]))[0]
        slot = await slot_of(db, row)
        results = results_block((await load_results(db, [session_id])).get(session_id, []), tr(ctx))
        event = await db.get(SessionEvent, row.event_id)
    view = with_host_names(ctx, [view], event.room_id if event else ctx.room_id)[0]
    await ctx.reply(
        session_details(view, slot_view(slot) if slot else None, tr(ctx))
        + await interest_line(ctx, session_id)
        + ("\n\n" + results if results else "")
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
        Flag(
            "capacity",
            ("plätze", "kapazität", "seats", "capacity", "plaetze", "kapazitaet"),
            Int(minimum=1),
            "20",
        ),
        Flag("theme", ("thema", "theme", "säule"), Quoted(max_length=MAX_THEME), "KI"),
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
            capacity=capacity if capacity is not None else sessions_settings(ctx.app).default_capacity,
            status=SessionStatus.PROPOSED,
        )
        row.hosts.append(SessionHost(user_id=ctx.sender))
        db.add(row)
        await db.flush()
        session_id = row.id
        event_room, proposals_open = event.room_id, event.proposals_open
    await announce_proposal(ctx, session_id, title.strip(), event_room, proposals_open)


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
    event_id = await check_session_event_moderator(ctx, session_id)
    scheduled = await schedule_session(ctx.app, event_id, session_id, slot, location, by=ctx.sender, t=t)
    await after_scheduling(ctx.app, session_id, scheduled)
    ctx.app.sender.wake()
    key = "sessions_rescheduled" if scheduled.moved else "sessions_scheduled"
    seats = _seats(scheduled.view, t)
    await ctx.reply(
        t(key, session_id=session_id, title=esc(scheduled.title), when=scheduled.when, seats=seats)
        + _clashes_text(scheduled.clashes, t)
        + _react_hint(ctx, SessionStatus.SCHEDULED),
        track=(SESSION_KIND, session_id),
    )


def _clashes_text(clashes: int, t: Translate) -> str:
    return (
        "\n" + t("sessions_moved_clashes_told", people=plural(t, "sessions_people_count", clashes))
        if clashes
        else ""
    )


def _seats(view: SessionView, t: Translate) -> str:
    parts = [seats_text(view, t)]
    if view.location:
        parts.append(t("sessions_location", location=location_markdown(view.location)))
    return " · ".join(parts)


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
        event = await require_manager(ctx, db, row)
        require_not_over(event)
        title = row.title
    change = Change()
    confirmed, _ = await change_capacity(ctx.app, session_id, capacity, change)
    await invite_all(ctx.app, change.invite)
    t = tr(ctx)
    text = t(
        "sessions_capacity_set",
        session_id=session_id,
        title=esc(title),
        seats=plural(t, "sessions_seats_count", capacity),
        confirmed=confirmed,
    )
    if change.promoted:
        text += "\n" + plural(t, "sessions_capacity_promoted", len(change.promoted))
    if confirmed > capacity:
        text += "\n" + t(
            "sessions_capacity_over", confirmed=confirmed, seats=plural(t, "sessions_seats_count", capacity)
        )
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
        event = await require_manager(ctx, db, row)
        require_not_over(event)
        if row.status == SessionStatus.CANCELLED:
            raise CommandError("sessions_error_cancelled", session_id=session_id, title=row.title)
        old_location = location_of(row)
        setattr(row, field, value if value or field in ("title", "description") else None)
        # Only a location edit can change where the session takes place.
        moved = row.status == SessionStatus.SCHEDULED and location_of(row) != old_location
        told = await tell_location_changed(app, db, row, by=ctx.sender) if moved else []
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
        event = await require_manager(ctx, db, row)
        event_id = event.id
    async with event_lock(app, event_id), app.db.session() as db:
        row = await get_session(db, session_id)
        if row.status == SessionStatus.CANCELLED:
            raise CommandError("sessions_error_cancelled", session_id=session_id, title=row.title)
        event = await get_event(db, event_id)
        slot = await slot_of(db, row)
        row.status = SessionStatus.CANCELLED
        row.reminder_due_at = None
        told = [p for p in await hosts_and_signed_up(db, row) if p != ctx.sender]
        for user_id in told:
            ut = await translator_for(app, db, user_id)
            when = when_text(event, slot, ut) if slot is not None else ut("sessions_my_when_unscheduled")
            db.add(
                app.sender.prepare(
                    ut("sessions_cancelled_dm", title=esc(row.title), session_id=row.id, when=when),
                    to_user=user_id,
                )
            )
        title = row.title
    app.jobs.cancel(reminder_job_id(session_id))
    cancel_results(app, session_id)
    app.sender.wake()
    await ctx.reply(tr(ctx)("sessions_cancelled", session_id=session_id, title=esc(title), count=len(told)))

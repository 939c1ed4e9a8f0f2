"""Member commands: the agenda, sign up and withdraw, my sessions, calendar files."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.context import CommandContext
from bot.framework import (
    Arg,
    CommandError,
    Flag,
    Int,
    Text,
    Word,
    fold,
)
from bot.i18n import Translate
from storage.sessions import (
    SessionEvent,
    SessionHost,
    SessionSignup,
)
from timephrases import format_date

from .agenda import agenda_pages, my_sessions
from .feature import feature, sessions_settings, tr
from .lookups import check_session_visible, events_for, with_host_names
from .queries import load_event_data, signup_view
from .rules import (
    SessionStatus,
    SignupState,
)
from .service import invite_all, sign_up, withdraw

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
        data = await load_event_data(db, events[0])
    interest = {s.id: data.interest[s.id] for s in data.sessions if s.status == SessionStatus.PROPOSED}
    t = tr(ctx)
    pages = agenda_pages(
        data.view,
        data.items,
        data.slot_views,
        with_host_names(ctx, data.sessions, events[0].room_id),
        t,
        max_lines=sessions_settings(ctx.app).agenda_page_lines,
        format_date=format_date,
        interest=interest,
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
    await check_session_visible(ctx, session_id)
    change = await sign_up(ctx.app, session_id, ctx.sender, switch=switch, t=tr(ctx))
    if change.decision is None:
        raise CommandError("sessions_error_unknown_session", session_id=session_id)
    await invite_all(ctx.app, change.invite)
    await ctx.reply(change.text)


@feature.command(
    de="abmelden",
    en="withdraw",
    aliases=("austragen", "leave-session"),
    help="sessions_withdraw",
    args=[Arg("session_id", Int(minimum=1))],
)
async def withdraw_cmd(ctx: CommandContext, session_id: int) -> None:
    change = await withdraw(ctx.app, session_id, ctx.sender, tr(ctx))
    if change.unknown_session:
        raise CommandError("sessions_error_unknown_session", session_id=session_id)
    await invite_all(ctx.app, change.invite)
    await ctx.reply(change.text)


async def _mine_text(ctx: CommandContext, db: AsyncSession, event: SessionEvent) -> str:
    data = await load_event_data(db, event)
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
        with_host_names(ctx, data.sessions, event.room_id),
        [signup_view(s) for s in signups],
        tr(ctx),
        hosted_session_ids=hosted,
        format_date=format_date,
    )


# `!meine sessions`, `!meine anmeldungen`, `!meine termine` …: the words members guess (issue 15).
MINE_WORDS = frozenset(
    fold(word)
    for word in ("sessions", "session", "anmeldungen", "anmeldung", "termine", "termin", "veranstaltungen",
                 "barcamp", "barcamps", "signups", "events", "schedule", "plan")
)  # fmt: skip


@feature.command(
    de="meine", en="mysessions", aliases=("meine-sessions", "my-sessions", "my", "mine"),
    help="sessions_mine", args=[Arg("what", Text(max_length=60, allow_empty=True), required=False)],
)  # fmt: skip
async def mine(ctx: CommandContext, what: str | None = None) -> None:
    word = fold((what or "").strip().split(None, 1)[0]) if (what or "").strip() else ""
    if word and word not in MINE_WORDS:
        # `!meine erinnerungen`, `!meine kontakte`: the member's own list of another command.
        other = ctx.app.router.commands.get(word)
        if other is None or other.handler is None or other.args:
            raise CommandError("sessions_error_mine", value=what or "", show_usage=True)
        await ctx.app.router.run_command(ctx, other, "")
        return
    async with ctx.app.db.session() as db:
        events = await events_for(ctx, db, None)
        texts = [await _mine_text(ctx, db, event) for event in events]
    await ctx.reply("\n\n".join(texts))


@feature.command(
    de="kalender",
    en="calendar",
    aliases=("ical", "ics"),
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
    async with ctx.app.db.session() as db:
        events = await events_for(ctx, db, event_id)
        member = None if everything else ctx.sender
        files = [f for event in events if (f := await _calendar_file(db, event, member, tr(ctx))) is not None]
    if not files:
        await ctx.answer("sessions_calendar_empty" if not everything else "sessions_calendar_empty_all")
        return
    to_room = everything or ctx.is_direct
    for filename, ics in files:
        if to_room:
            await ctx.send_file(ics, filename=filename, mimetype="text/calendar")
        else:
            await ctx.app.sender.send_file(
                ics, filename=filename, mimetype="text/calendar", to_user=ctx.sender
            )
    if not to_room:
        await ctx.answer("sessions_calendar_sent_direct")


async def _calendar_file(
    db: AsyncSession, event: SessionEvent, member: str | None, t: Translate
) -> tuple[str, bytes] | None:
    """The event's .ics file (filename, content): its scheduled sessions, or only those ``member`` hosts or
    is confirmed for; None when there are none."""
    data = await load_event_data(db, event)
    sessions = data.sessions
    if member is not None:
        ids = [s.id for s in sessions]
        signed = set(
            (
                await db.scalars(
                    select(SessionSignup.session_id).where(
                        SessionSignup.session_id.in_(ids),
                        SessionSignup.user_id == member,
                        SessionSignup.state == SignupState.CONFIRMED,
                    )
                )
            ).all()
        )
        sessions = [s for s in sessions if s.id in signed or member in s.hosts]
    if not any(s.status == SessionStatus.SCHEDULED and s.slot_id is not None for s in sessions):
        return None
    from .ical import calendar_ics  # icalendar is loaded when the first calendar is asked for
    from .results_service import load_results

    results = await load_results(db, [s.id for s in sessions])
    return f"{_slug(event.title)}-{event.day.isoformat()}.ics", calendar_ics(
        data.view, data.slot_views, sessions, t=t, results=results
    )


def _slug(title: str) -> str:
    import re

    slug = re.sub(r"[^A-Za-z0-9]+", "-", title).strip("-").lower()
    return slug[:40] or "barcamp"

"""Moderator commands on an event: create, program items, session rounds, open/close, publish, import."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.context import CommandContext
from bot.format import esc
from bot.framework import (
    Arg,
    ClockArg,
    ClockRangeArg,
    CommandError,
    DateArg,
    Int,
    Quoted,
    Text,
)
from bot.i18n import plural
from storage.sessions import (
    ProgramItem,
    SessionEvent,
    SessionSlot,
)
from timephrases import format_date

from . import planning
from .agenda import agenda_pages
from .feature import MAX_IMPORT_PROBLEMS, event_group, fail, sessions_settings, tr
from .jobs import schedule_slot, slot_job_id
from .lookups import check_managed_event, get_event, managed_event, with_host_names
from .program_import import parse_program
from .queries import event_today, load_event_data, room_language, slot_view
from .rules import (
    MAX_TITLE_LENGTH,
    EventStatus,
    Problem,
    SlotView,
    find_slot_overlap,
    render,
    validate_event_date,
    validate_slot_times,
    validate_title,
    with_prefix,
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
        day, event_today(None, ctx.app.settings.bot.timezone)
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
    async with managed_event(ctx, event_id) as (db, event):
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
    async with managed_event(ctx, event_id) as (db, event):
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
    de="zeitfenster",
    en="slot",
    aliases=("runde", "round", "sessionrunde", "timeslot", "time-slot"),
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
    async with managed_event(ctx, event_id) as (db, event):
        existing = (await db.scalars(select(SessionSlot).where(SessionSlot.event_id == event.id))).all()
        overlap = find_slot_overlap(SlotView(0, name, start, end), [slot_view(s) for s in existing])
        if overlap:
            raise fail(overlap)
        slot = await add_numbered_slot(db, event, name, start, end)
        due = slot.announce_due_at
    schedule_slot(ctx.app, slot.id, due)
    await ctx.reply(
        tr(ctx)(
            "sessions_slot_added", event_id=event_id, number=slot.number, name=esc(name), start=start, end=end
        )
    )


@event_group.subcommand(
    de="zeitfenster-entfernen",
    en="unslot",
    aliases=(
        "zeitfenster-löschen",
        "zeitfenster-loeschen",
        "runde-entfernen",
        "runde-löschen",
        "runde-loeschen",
        "remove-slot",
    ),
    help="sessions_event_unslot",
    args=[Arg("event_id", Int(minimum=1)), Arg("slot", Text(max_length=MAX_TITLE_LENGTH))],
)
async def remove_slot(ctx: CommandContext, event_id: int, slot: str) -> None:
    t = tr(ctx)
    app = ctx.app
    await check_managed_event(ctx, event_id)
    target = await planning.remove_slot(app, event_id, slot, t)
    app.jobs.cancel(slot_job_id(target.id))
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


async def add_numbered_slot(
    db: AsyncSession, event: SessionEvent, name: str, start: time, end: time
) -> SessionSlot:
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
    async with managed_event(ctx, event_id) as (_db, event):
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
    async with managed_event(ctx, event_id) as (_db, event):
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
    async with managed_event(ctx, event_id) as (db, event):
        event.status = EventStatus.PUBLISHED
        data = await load_event_data(db, event)
        language = await room_language(ctx.app, db, event.room_id)
    room_t = with_prefix(ctx.app.catalog.translator(language), ctx.prefix)
    pages = agenda_pages(
        data.view,
        data.items,
        data.slot_views,
        with_host_names(ctx, data.sessions, event.room_id),
        room_t,
        max_lines=sessions_settings(ctx.app).agenda_page_lines,
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
    await check_managed_event(ctx, event_id)
    attachment = await ctx.attachment()
    if attachment is None:
        raise CommandError("sessions_error_no_attachment", event_id=event_id)
    filename, data = attachment
    # Off the event loop: parsing a file of up to [bot] max_file_kb takes up to a second (docs/decisions.md).
    parsed = await asyncio.to_thread(parse_program, data, filename)
    problems = list(parsed.problems)
    async with ctx.app.db.session() as db:
        event = await get_event(db, event_id)
        existing = (await db.scalars(select(SessionSlot).where(SessionSlot.event_id == event.id))).all()
        views = [slot_view(s) for s in existing]
        for imported in parsed.slots:
            overlap = find_slot_overlap(imported.as_view(0), views)
            if overlap:
                problems.append(Problem(overlap.key, overlap.params, imported.line))
        if problems:
            lines = [
                t(
                    "sessions_import_failed",
                    filename=esc(filename),
                    problems=plural(t, "sessions_problems_count", len(problems)),
                )
            ]
            lines += [f"- {render(p, t)}" for p in problems[:MAX_IMPORT_PROBLEMS]]
            if len(problems) > MAX_IMPORT_PROBLEMS:
                lines.append(t("sessions_import_more", count=len(problems) - MAX_IMPORT_PROBLEMS))
            await ctx.reply("\n".join(lines))
            return
        for item in parsed.items:
            db.add(ProgramItem(event_id=event.id, at=item.time, label=item.label))
        new_slots = [await add_numbered_slot(db, event, s.name, s.start, s.end) for s in parsed.slots]
        jobs = [(s.id, s.announce_due_at) for s in new_slots]
    for slot_id, due in jobs:
        schedule_slot(ctx.app, slot_id, due)
    await ctx.reply(
        t(
            "sessions_import_done",
            event_id=event_id,
            summary=t(
                "sessions_import_summary",
                items=plural(t, "sessions_items_count", len(parsed.items)),
                slots=plural(t, "sessions_slots_count", len(parsed.slots)),
            ),
        )
    )

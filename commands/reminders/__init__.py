"""Reminders: ``!erinnere mich in 10 Minuten an …``, list, cancel, 👍 to subscribe, recurring ones."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import Field
from sqlalchemy import delete, or_, select, update

from bot.config import Section, section
from bot.context import CommandContext, ReactionContext
from bot.format import esc
from bot.framework import Arg, CommandError, Feature, Int, Permission, Text
from bot.sender import pill
from storage.db import claimed
from storage.models import Reminder, ReminderSubscriber
from timephrases import (
    Recurrence,
    describe_recurrence,
    format_datetime,
    format_when,
    parse_recurring,
    split_time_and_text,
)

from .service import create_under_cap, new_reminder

if TYPE_CHECKING:
    from bot.app import App


class RemindersConfig(Section):
    # Open (scheduled) reminders one member may own at a time; moderators' room reminders count too.
    max_open_per_member: int = Field(default=25, ge=1)


feature = Feature(
    "reminders",
    messages=Path(__file__).with_name("messages.toml"),
    title_key="reminders_title",
    order=20,
    settings=RemindersConfig,
)

MAX_TEXT = 1000
ROOM_WORDS = {"raum", "room", "hier", "here", "alle", "everyone"}
SELF_WORDS = {"mich", "me"}
SUBSCRIBE_KEYS = ("👍",)


def job_id(reminder_id: int) -> str:
    return f"reminder:{reminder_id}"


def describe(reminder: Reminder, language: str, tz_name: str, *, in_sentence: bool = False) -> str:
    """When the reminder fires; ``in_sentence`` with the prepositions ("am Mo, 15.05.2025, um 09:30")."""
    from zoneinfo import ZoneInfo

    if reminder.recurrence:
        return describe_recurrence(
            Recurrence(cron=dict(reminder.recurrence), kind=reminder.recurrence.get("_kind", "")), language
        )
    assert reminder.due_at is not None
    if in_sentence:
        return format_when(reminder.due_at, language, ZoneInfo(tz_name))
    return format_datetime(reminder.due_at, language, ZoneInfo(tz_name))


@feature.command(
    de="erinnere",
    en="remind",
    aliases=("erinnerung-neu", "erinner"),
    help="reminders_remind",
    args=[Arg("rest", Text(max_length=MAX_TEXT + 200))],
)
async def remind(ctx: CommandContext, rest: str) -> None:
    words = rest.split(None, 1)
    target = "member"
    if words and words[0].casefold() in ROOM_WORDS:
        ctx.require(Permission.MODERATOR)
        target = "room"
        rest = words[1] if len(words) > 1 else ""
    recurring = parse_recurring(rest.removeprefix("mich ").removeprefix("me "), language=ctx.language)
    if recurring is not None:
        ctx.require(Permission.MODERATOR)
        recurrence, text = recurring
        await _create(ctx, text, None, recurrence, target="room")
        return
    parsed = split_time_and_text(rest, now=ctx.now_local(), tz=ctx.tz, language=ctx.language)
    if parsed is None:
        raise CommandError("reminders_error_time", show_usage=True)
    when, text = parsed
    if when <= ctx.received_at:
        raise CommandError("reminders_error_past", when=format_datetime(when, ctx.language, ctx.tz))
    await _create(ctx, text, when, None, target=target)


async def _create(
    ctx: CommandContext, text: str, when: datetime | None, recurrence: Recurrence | None, *, target: str
) -> None:
    text = text.strip()
    if not text:
        raise CommandError("reminders_error_empty", show_usage=True)
    if len(text) > MAX_TEXT:
        raise CommandError("reminders_error_long", max=MAX_TEXT)
    cron = {**recurrence.cron, "_kind": recurrence.kind} if recurrence else None
    cap = section(ctx.app.settings, "reminders", RemindersConfig).max_open_per_member
    reminder = new_reminder(
        owner_id=ctx.sender,
        room_id=ctx.room_id,
        target=target,
        text=text,
        language=ctx.language,
        timezone=ctx.timezone,
        due_at=when,
        recurrence=cron,
        now=datetime.now(UTC),
    )
    async with ctx.app.locks.for_key("reminders-owner", ctx.sender):
        created = await create_under_cap(ctx.app.db, reminder, cap)
    if created is None:
        raise CommandError("reminders_error_cap", max=cap)
    reminder.id = created
    key = "reminders_created_room" if target == "room" else "reminders_created"
    try:
        await ctx.reply(
            ctx.t(
                key,
                id=reminder.id,
                when=describe(reminder, ctx.language, ctx.timezone, in_sentence=True),
                text=esc(text),
                p=ctx.prefix,
            ),
            track=("reminder", reminder.id),
        )
    finally:
        # Scheduled after the commit (a job that runs at once must find its row) and after the reply is on
        # its way: APScheduler 3 writes its job store synchronously, which in the event loop would hold the
        # reply for as long. The scheduler is thread-safe (it wakes itself through the loop). A crash before
        # this line is repaired at the next start (reschedule_missing).
        await asyncio.to_thread(schedule, ctx.app, reminder)


def schedule(app: App, reminder: Reminder) -> None:
    if reminder.recurrence:
        cron = {k: v for k, v in reminder.recurrence.items() if not k.startswith("_")}
        app.jobs.cron(job_id(reminder.id), fire_reminder, cron, reminder.timezone, reminder.id)
    else:
        assert reminder.due_at is not None
        app.jobs.at(job_id(reminder.id), fire_reminder, reminder.due_at, reminder.id)


@feature.job("reminders.fire")
async def fire_reminder(app: App, reminder_id: int, *, scheduled_for: datetime) -> None:
    """Scheduled job: post the reminder exactly once (the status change and the message commit together)."""
    late = app.jobs.is_late(scheduled_for)
    async with app.db.session() as session:
        reminder = await session.get(Reminder, reminder_id)
        if reminder is None or reminder.status != "scheduled":
            return
        if reminder.recurrence:
            if reminder.last_fired_at is not None and reminder.last_fired_at >= scheduled_for:
                return
            reminder.last_fired_at = scheduled_for
        else:
            if not await claimed(
                session,
                update(Reminder)
                .where(Reminder.id == reminder_id, Reminder.status == "scheduled")
                .values(status="missed" if late else "sent", last_fired_at=datetime.now(UTC)),
            ):
                return
        t = app.catalog.translator(reminder.language)
        people = (
            []
            if reminder.target == "room"
            else [reminder.owner_id, *(s.user_id for s in reminder.subscribers)]
        )
        when = format_datetime(scheduled_for, reminder.language, _zone(reminder.timezone))
        key = (
            "reminders_missed"
            if late
            else ("reminders_fire_room" if reminder.target == "room" else "reminders_fire")
        )
        markdown = t(
            key, text=esc(reminder.text), people=", ".join(pill(p) for p in people), when=when, id=reminder.id
        )
        session.add(app.sender.prepare(markdown, room_id=reminder.room_id, mentions=tuple(people)))
    app.sender.wake()


def _zone(name: str) -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)


@feature.on_start
async def reschedule_missing(app: App) -> None:
    """The database is the truth: re-create jobs lost in a crash (a running job is gone from the store)."""
    async with app.db.session() as session:
        pending = (await session.scalars(select(Reminder).where(Reminder.status == "scheduled"))).all()
    for reminder in pending:
        if not app.jobs.exists(job_id(reminder.id)):
            schedule(app, reminder)


@feature.command(de="erinnerungen", en="reminders", help="reminders_list")
async def list_reminders(ctx: CommandContext) -> None:
    async with ctx.app.db.session() as session:
        rows = (
            await session.scalars(
                select(Reminder)
                .outerjoin(ReminderSubscriber)
                .where(
                    Reminder.status == "scheduled",
                    or_(Reminder.owner_id == ctx.sender, ReminderSubscriber.user_id == ctx.sender),
                )
                .order_by(Reminder.due_at, Reminder.id)
                .distinct()
            )
        ).all()
    if not rows:
        await ctx.answer("reminders_list_empty")
        return
    lines = [ctx.t("reminders_list_header", count=len(rows))]
    for reminder in rows:
        lines.append(
            ctx.t(
                "reminders_list_item",
                id=reminder.id,
                when=describe(reminder, ctx.language, ctx.timezone),
                text=esc(reminder.text[:120]),
            )
        )
    lines.append(ctx.t("reminders_list_footer", p=ctx.prefix))
    await ctx.reply("\n".join(lines))


@feature.command(
    de="erinnerung", en="reminder", help="reminders_group",
    args=[Arg("rest", Text(max_length=MAX_TEXT + 200, allow_empty=True), required=False)],
)  # fmt: skip
async def reminder_word(ctx: CommandContext, rest: str | None = None) -> None:
    """``!erinnerung morgen 9 Uhr …`` creates a reminder like ``!erinnere``; alone it lists them."""
    if rest and rest.strip() and remind.handler is not None:
        await remind.handler(ctx, rest=rest)
    elif list_reminders.handler is not None:
        await list_reminders.handler(ctx)


async def cancel_reminder(ctx: CommandContext, reminder_id: int) -> None:
    async with ctx.app.db.session() as session:
        reminder = await session.get(Reminder, reminder_id)
        if reminder is None or reminder.status != "scheduled":
            raise CommandError("reminders_error_unknown", id=reminder_id)
        may_cancel = reminder.owner_id == ctx.sender or (
            reminder.target == "room" and reminder.room_id == ctx.room_id and ctx.is_moderator
        )
        if not may_cancel:
            if any(s.user_id == ctx.sender for s in reminder.subscribers):
                await session.execute(
                    delete(ReminderSubscriber).where(
                        ReminderSubscriber.reminder_id == reminder_id,
                        ReminderSubscriber.user_id == ctx.sender,
                    )
                )
                await ctx.answer("reminders_unsubscribed", id=reminder_id)
                return
            raise CommandError("reminders_error_not_yours", id=reminder_id)
        reminder.status = "cancelled"
    ctx.app.jobs.cancel(job_id(reminder_id))
    await ctx.answer("reminders_cancelled", id=reminder_id, text=esc(reminder.text[:120]))


# `!erinnerung löschen 3` and `!erinnerungen löschen 3` (the list's own word) both cancel.
for _group in (reminder_word, list_reminders):
    _group.subcommand(
        de="löschen", en="cancel", aliases=("delete", "entfernen", "stornieren", "loeschen"),
        help="reminders_cancel", args=[Arg("reminder_id", Int(minimum=1))],
    )(cancel_reminder)  # fmt: skip


@feature.on_reaction("reminder", SUBSCRIBE_KEYS)
async def subscribe(reaction: ReactionContext) -> None:
    if reaction.ref_id is None:
        return
    async with reaction.app.db.session() as session:
        reminder = await session.get(Reminder, reaction.ref_id)
        if reminder is None or reminder.status != "scheduled" or reminder.owner_id == reaction.sender:
            return
        existing = await session.get(ReminderSubscriber, (reaction.ref_id, reaction.sender))
        if reaction.added and existing is None:
            session.add(ReminderSubscriber(reminder_id=reaction.ref_id, user_id=reaction.sender))
        elif not reaction.added and existing is not None:
            await session.delete(existing)


@feature.privacy_export
async def export_reminders(app: App, user_id: str) -> dict[str, Any]:
    async with app.db.session() as session:
        own = (await session.scalars(select(Reminder).where(Reminder.owner_id == user_id))).all()
        subscribed = (
            await session.scalars(select(ReminderSubscriber).where(ReminderSubscriber.user_id == user_id))
        ).all()
    return {
        "reminders": [
            {
                "id": r.id,
                "room_id": r.room_id,
                "text": r.text,
                "due_at": r.due_at.isoformat() if r.due_at else None,
                "recurrence": r.recurrence,
                "status": r.status,
                "created_at": r.created_at.isoformat(),
            }
            for r in own
        ],
        "reminder_subscriptions": [s.reminder_id for s in subscribed],
    }


@feature.privacy_erase
async def erase_reminders(app: App, user_id: str) -> int:
    async with app.db.session() as session:
        own = (await session.scalars(select(Reminder).where(Reminder.owner_id == user_id))).all()
        for reminder in own:
            await session.delete(reminder)
        result = await session.execute(
            delete(ReminderSubscriber).where(ReminderSubscriber.user_id == user_id)
        )
    for reminder in own:
        app.jobs.cancel(job_id(reminder.id))
    return len(own) + int(getattr(result, "rowcount", 0) or 0)

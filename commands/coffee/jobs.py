"""The run schedule (a weekly cron, only in run weeks), catching up a run missed while the bot was down,
and the report to the admins. The run itself is in ``runs``; follow-ups in ``follow_up``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select

from commands.coffee.rules import due_run, is_run_week
from commands.coffee.status import GroupStatus, RunTrigger
from commands.digest.timing import cron_fields
from storage.coffee import CoffeeGroup

if TYPE_CHECKING:
    from bot.app import App
from .feature import RUN_JOB_ID, coffee_settings, feature, follow_up_job, log
from .follow_up import follow_up, reschedule_ask_again
from .introductions import introduce
from .runs import NewGroup, RunResult, start_run


@feature.job("coffee.run")
async def scheduled_run(app: App, *, scheduled_for: datetime) -> None:
    """Scheduled job (weekly): pair in run weeks only (``every_weeks`` from ``anchor``)."""
    config = coffee_settings(app)
    if not is_run_week(
        scheduled_for.astimezone(app.settings.bot.tz).date(), config.every_weeks, config.anchor
    ):
        return
    await run_and_introduce(
        app, scheduled_for, trigger=RunTrigger.SCHEDULE, late=app.jobs.is_late(scheduled_for)
    )


async def run_and_introduce(
    app: App,
    scheduled_for: datetime,
    *,
    trigger: RunTrigger,
    late: bool = False,
    started_by: str | None = None,
) -> RunResult | None:
    result = await start_run(app, scheduled_for, trigger=trigger, late=late, started_by=started_by)
    if result is None:
        return None
    app.in_background(introduce(app, result.groups), name=f"coffee run {result.run_id} intros")
    if trigger == RunTrigger.SCHEDULE:
        await _report(app, result)
    return result


async def _report(app: App, result: RunResult) -> None:
    """Scheduled runs are reported to the ``[bot] admins`` by direct message (numbers only); a run without
    anyone taking part is only logged (an installation that does not use NExT-Kaffee hears nothing of it)."""
    if not result.groups and not result.unpaired:
        return
    for admin in app.settings.bot.admins:
        t = app.catalog.translator(app.settings.bot.language)
        key = "coffee_report_late" if result.late else "coffee_report"
        await app.sender.send(t(key, groups=len(result.groups), unpaired=result.unpaired), to_user=admin)


async def catch_up(app: App) -> None:
    """Run the latest scheduled run of the last ``catch_up_days`` if it has not happened (marked late)."""
    config = coffee_settings(app)
    now = datetime.now(UTC)
    due = due_run(
        config.schedule,
        app.settings.bot.tz,
        config.every_weeks,
        config.anchor,
        now,
        timedelta(days=config.catch_up_days),
    )
    if due is not None:
        await run_and_introduce(app, due, trigger=RunTrigger.SCHEDULE, late=app.jobs.is_late(due))


@feature.on_start
async def schedule_coffee(app: App) -> None:
    """Register the weekly job (stable id; config changes apply at start), re-create follow-up and ask-again
    jobs that a crash lost, and catch up on a missed run."""
    config = coffee_settings(app)
    app.jobs.cron(RUN_JOB_ID, scheduled_run, cron_fields(config.schedule), app.settings.bot.timezone)
    async with app.db.session() as session:
        groups = (
            await session.scalars(select(CoffeeGroup).where(CoffeeGroup.status != GroupStatus.CLOSED))
        ).all()
    close_after = timedelta(seconds=config.close_after_seconds)
    pending = [
        NewGroup(g.id, tuple(g.members), g.language, g.room_id) for g in groups if g.introduced_at is None
    ]
    if pending:  # the bot stopped between a run and its introductions
        app.in_background(introduce(app, pending), name="coffee pending intros")
    for group in groups:
        if not app.jobs.exists(follow_up_job(group.id)):
            asked = group.asked_at or datetime.now(UTC)
            when = group.follow_up_at if group.status == GroupStatus.OPEN else asked + close_after
            app.jobs.at(follow_up_job(group.id), follow_up, max(when, datetime.now(UTC)), group.id)
    await reschedule_ask_again(app)
    missing = [room for room in config.rooms if room not in app.matrix.client.rooms]
    if missing:
        log.warning("the bot is not (yet) in these [coffee] rooms; invite it: %s", ", ".join(missing))
    await catch_up(app)

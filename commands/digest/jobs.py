"""The monthly digest job, its retries, and posting a digest that became due while the bot was down."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from commands.digest.compose import (
    previous_month,
)
from commands.digest.timing import cron_fields, due_run
from storage.models import BotState

if TYPE_CHECKING:
    from bot.app import App
from .feature import (
    INSTALLED_KEY,
    JOB_ID,
    MAX_ATTEMPTS,
    RETRY_AFTER,
    RETRY_JOB_ID,
    digest_settings,
    feature,
    log,
)
from .publishing import publish_digest

# --- schedule -----------------------------------------------------------------------------------------------


@feature.job("digest.monthly")
async def run_monthly_digest(app: App, *, scheduled_for: datetime) -> None:
    """Scheduled job: post the digest of the month before ``scheduled_for`` to every configured room."""
    month = previous_month(scheduled_for.astimezone(app.settings.bot.tz).date())
    await _post_configured(app, month, late=app.jobs.is_late(scheduled_for))


@feature.job("digest.retry")
async def retry_due_digest(app: App, attempt: int, *, scheduled_for: datetime) -> None:
    """One-off job after a failed post (homeserver trouble): post what is still due."""
    await post_due_digest(app, attempt=attempt)


async def post_due_digest(app: App, *, attempt: int = 0) -> None:
    """Post this month's digest where it is due (the scheduled time has passed) and not yet posted."""
    tz = app.settings.bot.tz
    due = due_run(digest_settings(app).schedule, tz, datetime.now(UTC))
    if due is None:
        return
    installed = await installed_at(app)
    if installed is not None and due < installed:
        # A fresh installation: that digest was due before the bot existed, it is not "late".
        log.info("not posting the digest due %s: the bot was installed only at %s", due, installed)
        return
    month = previous_month(due.astimezone(tz).date())
    await _post_configured(app, month, late=app.jobs.is_late(due), attempt=attempt)


async def installed_at(app: App) -> datetime | None:
    """When this installation was created (migration digest_0002); None for one older than that."""
    async with app.db.session() as session:
        row = await session.get(BotState, INSTALLED_KEY)
    return datetime.fromisoformat(row.value) if row is not None else None


async def _post_configured(app: App, month: date, *, late: bool, attempt: int = 0) -> None:
    failed = False
    for room_id in digest_settings(app).rooms:
        try:
            await publish_digest(app, room_id, month, trigger="schedule", late=late)
        except Exception:
            failed = True
            log.exception("posting the digest of %s to %s failed (attempt %s)", month, room_id, attempt + 1)
    if failed and attempt + 1 < MAX_ATTEMPTS:
        # Rooms that were posted are skipped on the retry (their digest_posts row exists).
        app.jobs.at(RETRY_JOB_ID, retry_due_digest, datetime.now(UTC) + RETRY_AFTER, attempt + 1)


@feature.on_start
async def schedule_digest(app: App) -> None:
    """Register the monthly job (stable id; config changes apply at start) and catch up on a missed run."""
    config = digest_settings(app)
    if not config.rooms:
        app.jobs.cancel(JOB_ID)
        return
    app.jobs.cron(JOB_ID, run_monthly_digest, cron_fields(config.schedule), app.settings.bot.timezone)
    missing = [room for room in config.rooms if room not in app.matrix.client.rooms]
    if missing:
        log.warning("the bot is not (yet) in these [digest] rooms; invite it: %s", ", ".join(missing))
    await post_due_digest(app)

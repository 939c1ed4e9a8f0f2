"""The whoknows feature's scheduled job: an introduction request nobody answered in time."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select

from storage.whoknows import IntroductionRequest

from .feature import feature, request_job
from .introductions import finish
from .status import RequestStatus

if TYPE_CHECKING:
    from bot.app import App


@feature.job("whoknows.request_expired")
async def request_expired(app: App, request_id: int, *, scheduled_for: datetime) -> None:
    """No answer in time: the asker gets the same neutral note as after a no, exactly once."""
    await finish(app, request_id, RequestStatus.EXPIRED)


@feature.on_start
async def reschedule_missing(app: App) -> None:
    """Re-create expiry timers lost in a crash; the rows say what is still open."""
    async with app.db.session() as session:
        pending = (
            await session.scalars(
                select(IntroductionRequest).where(IntroductionRequest.status == RequestStatus.PENDING)
            )
        ).all()
    for request in pending:
        if not app.jobs.exists(request_job(request.id)):
            app.jobs.at(request_job(request.id), request_expired, request.expires_at, request.id)

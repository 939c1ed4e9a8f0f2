"""The networking feature's scheduled jobs: a partner request expires, a round's warning and end."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select, update

from bot.sender import pill
from storage.db import claimed
from storage.networking import NetworkingBlock, NetworkingRound, PartnerRequest

if TYPE_CHECKING:
    from bot.app import App
from .feature import describe_wait, end_job, feature, request_job, warn_job
from .service import finish_round, queue_round_messages
from .status import RequestStatus, RoundStatus


@feature.job("networking.request_expired")
async def request_expired(app: App, request_id: int, *, scheduled_for: datetime) -> None:
    """Scheduled job: nobody was found in time; tell the member exactly once."""
    async with app.db.session() as session:
        request = await session.get(PartnerRequest, request_id)
        if request is None or request.status != RequestStatus.WAITING:
            return
        if not await claimed(
            session,
            update(PartnerRequest)
            .where(PartnerRequest.id == request_id, PartnerRequest.status == RequestStatus.WAITING)
            .values(status=RequestStatus.EXPIRED, finished_at=datetime.now(UTC)),
        ):
            return
        t = app.catalog.translator(request.language)
        session.add(
            app.sender.prepare(
                t("networking_nobody", user=pill(request.user_id), p=app.settings.bot.command_prefix),
                room_id=request.room_id,
                mentions=(request.user_id,),
                reply_to=request.event_id,
            )
        )
    app.sender.wake()


def schedule_round(app: App, round_: NetworkingRound) -> None:
    if not round_.warned:
        app.jobs.at(warn_job(round_.id), round_warning, round_.warn_at, round_.id)
    app.jobs.at(end_job(round_.id), round_ended, round_.ends_at, round_.id)


@feature.job("networking.round_warning")
async def round_warning(app: App, round_id: int, *, scheduled_for: datetime) -> None:
    """Scheduled job: "noch 1 Minute" (at half time for short rounds), exactly once, never after the end."""
    async with app.db.session() as session:
        round_ = await session.get(NetworkingRound, round_id)
        if round_ is None or round_.warned or round_.status != RoundStatus.RUNNING:
            return
        if not await claimed(
            session,
            update(NetworkingRound)
            .where(NetworkingRound.id == round_id, NetworkingRound.warned.is_(False))
            .values(warned=True),
        ):
            return
        if datetime.now(UTC) >= round_.ends_at:
            return  # too late to be useful (the bot was down); the end message follows
        block = await session.get(NetworkingBlock, round_.block_id)
        if block is None:
            return
        t = app.catalog.translator(block.language)
        remaining = round_.ends_at - round_.warn_at
        left = (
            t("networking_left_minute")
            if remaining == timedelta(minutes=1)
            else t("networking_left", duration=describe_wait(t, max(1, round(remaining.total_seconds()))))
        )
        await queue_round_messages(
            app,
            session,
            round_,
            block.room_id,
            t("networking_warning", number=round_.number, left=left),
            t("networking_warning_intro", left=left),
        )
    app.sender.wake()


@feature.job("networking.round_ended")
async def round_ended(app: App, round_id: int, *, scheduled_for: datetime) -> None:
    """Scheduled job: "Runde vorbei", exactly once."""
    await finish_round(app, round_id, announce=True)


# --- restart, privacy ---------------------------------------------------------------------------------------


@feature.on_start
async def reschedule_missing(app: App) -> None:
    """Re-create timers lost in a crash; the rows say what is still due."""
    async with app.db.session() as session:
        running = (
            await session.scalars(
                select(NetworkingRound).where(NetworkingRound.status == RoundStatus.RUNNING)
            )
        ).all()
        waiting = (
            await session.scalars(
                select(PartnerRequest).where(PartnerRequest.status == RequestStatus.WAITING)
            )
        ).all()
    for round_ in running:
        if not round_.warned and not app.jobs.exists(warn_job(round_.id)):
            app.jobs.at(warn_job(round_.id), round_warning, round_.warn_at, round_.id)
        if not app.jobs.exists(end_job(round_.id)):
            app.jobs.at(end_job(round_.id), round_ended, round_.ends_at, round_.id)
    for request in waiting:
        if not app.jobs.exists(request_job(request.id)):
            app.jobs.at(request_job(request.id), request_expired, request.expires_at, request.id)

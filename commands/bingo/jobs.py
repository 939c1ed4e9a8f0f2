"""The bingo feature's scheduled jobs: a request expires, a game ends at its end time."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select, update

from bot.sender import pill
from storage.base import utcnow
from storage.bingo import BingoCard, BingoClaim, BingoGame
from storage.db import claimed

if TYPE_CHECKING:
    from bot.app import App
from .feature import bingo_settings, claim_job_id, end_job_id, feature
from .service import finish_game
from .status import ClaimStatus, GameStatus


def schedule_claim(app: App, claim: BingoClaim) -> None:
    expires = claim.requested_at + timedelta(minutes=bingo_settings(app).confirmation_minutes)
    app.jobs.at(claim_job_id(claim.id), expire_claim, expires, claim.id)


def schedule_end(app: App, game: BingoGame) -> None:
    if game.ends_at is not None:
        app.jobs.at(end_job_id(game.id), end_game, game.ends_at, game.id)


@feature.job("bingo.claim_expired")
async def expire_claim(app: App, claim_id: int, *, scheduled_for: datetime) -> None:
    """Scheduled job: an unanswered request expires once; the player hears it while the game runs."""
    async with app.db.session() as session:
        if not await claimed(
            session,
            update(BingoClaim)
            .where(BingoClaim.id == claim_id, BingoClaim.status == ClaimStatus.PENDING)
            .values(status=ClaimStatus.EXPIRED, decided_at=utcnow()),
        ):
            return
        claim = await session.get(BingoClaim, claim_id)
        card_row = await session.get(BingoCard, claim.card_id) if claim else None
        game = await session.get(BingoGame, card_row.game_id) if card_row else None
        if claim is None or card_row is None or game is None or game.status != GameStatus.RUNNING:
            return
        t = app.catalog.translator(game.language)
        text = t(
            "bingo_expired",
            id=claim.id,
            named=pill(claim.named_user_id) if claim.named_user_id else "—",
            field=claim.field,
            player=pill(card_row.player_id),
        )
        session.add(app.sender.prepare(text, room_id=game.room_id, mentions=(card_row.player_id,)))
    app.sender.wake()


@feature.job("bingo.game_ended")
async def end_game(app: App, game_id: int, *, scheduled_for: datetime) -> None:
    """Scheduled job: the end time is reached (also when it passed while the bot was down)."""
    await finish_game(app, game_id)


@feature.on_start
async def reschedule_missing(app: App) -> None:
    """Re-create end and expiry jobs lost in a crash; an end time that passed meanwhile fires at once."""
    async with app.db.session() as session:
        games = (
            await session.scalars(
                select(BingoGame).where(
                    BingoGame.status == GameStatus.RUNNING, BingoGame.ends_at.is_not(None)
                )
            )
        ).all()
        claims = (
            await session.scalars(
                select(BingoClaim)
                .join(BingoCard, BingoCard.id == BingoClaim.card_id)
                .join(BingoGame, BingoGame.id == BingoCard.game_id)
                .where(BingoClaim.status == ClaimStatus.PENDING, BingoGame.status == GameStatus.RUNNING)
            )
        ).all()
    for game in games:
        if not app.jobs.exists(end_job_id(game.id)):
            schedule_end(app, game)
    for claim in claims:
        if not app.jobs.exists(claim_job_id(claim.id)):
            schedule_claim(app, claim)

"""Privacy export and erasure of the bingo feature."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import selectinload

from storage.base import utcnow
from storage.bingo import BingoCard, BingoClaim, BingoGame, BingoPromptPool

if TYPE_CHECKING:
    from bot.app import App
from .feature import ERASED, claim_job_id, feature
from .queries import pending_claim_ids
from .status import ClaimStatus

# ------------------------------------------------------------------------------------------------ privacy


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


@feature.privacy_export
async def export_bingo(app: App, user_id: str) -> dict[str, Any]:
    async with app.db.session() as session:
        cards = (
            await session.scalars(
                select(BingoCard)
                .where(BingoCard.player_id == user_id)
                .options(selectinload(BingoCard.claims), selectinload(BingoCard.game))
            )
        ).all()
        named = (
            await session.scalars(
                select(BingoClaim)
                .where(BingoClaim.named_user_id == user_id)
                .options(selectinload(BingoClaim.card).selectinload(BingoCard.game))
            )
        ).all()
        started = (await session.scalars(select(BingoGame).where(BingoGame.started_by == user_id))).all()
        pools = (
            await session.scalars(select(BingoPromptPool).where(BingoPromptPool.loaded_by == user_id))
        ).all()
    return {
        "bingo_cards": [
            {
                "game_id": card.game_id,
                "room_id": card.game.room_id,
                "card": card.data,
                "created_at": _iso(card.created_at),
                "first_line_at": _iso(card.first_line_at),
                "full_at": _iso(card.full_at),
                "place": card.place,
                "claims": [
                    {
                        "id": claim.id,
                        "field": claim.field,
                        "named_user_id": claim.named_user_id,
                        "status": claim.status,
                        "requested_at": _iso(claim.requested_at),
                        "decided_at": _iso(claim.decided_at),
                    }
                    for claim in card.claims
                ],
            }
            for card in cards
        ],
        "bingo_fields_you_were_named_for": [
            {
                "id": claim.id,
                "room_id": claim.card.game.room_id,
                "player_id": claim.card.player_id,
                "field": claim.field,
                "status": claim.status,
                "requested_at": _iso(claim.requested_at),
            }
            for claim in named
        ],
        "bingo_games_started": [
            {"id": game.id, "room_id": game.room_id, "started_at": _iso(game.started_at), "size": game.size}
            for game in started
        ],
        "bingo_prompt_pools_loaded": [
            {"room_id": pool.room_id, "filename": pool.filename, "loaded_at": _iso(pool.loaded_at)}
            for pool in pools
        ],
    }


@feature.privacy_erase
async def erase_bingo(app: App, user_id: str) -> int:
    """Delete the member's cards (with their claims); remove the member's ID from everything else."""
    async with app.db.session() as session:
        own_cards = select(BingoCard.id).where(BingoCard.player_id == user_id)
        own_pending = await pending_claim_ids(session, own_cards)
        named_pending = list(
            (
                await session.scalars(
                    select(BingoClaim.id).where(
                        BingoClaim.named_user_id == user_id, BingoClaim.status == ClaimStatus.PENDING
                    )
                )
            ).all()
        )
        count = 0
        if named_pending:
            await session.execute(
                update(BingoClaim)
                .where(BingoClaim.id.in_(named_pending))
                .values(status=ClaimStatus.EXPIRED, decided_at=utcnow())
            )
        results = [
            await session.execute(
                update(BingoClaim).where(BingoClaim.named_user_id == user_id).values(named_user_id=ERASED)
            ),
            await session.execute(delete(BingoCard).where(BingoCard.player_id == user_id)),
            await session.execute(
                update(BingoGame).where(BingoGame.started_by == user_id).values(started_by=ERASED)
            ),
            await session.execute(
                update(BingoGame).where(BingoGame.ended_by == user_id).values(ended_by=ERASED)
            ),
            await session.execute(
                update(BingoPromptPool).where(BingoPromptPool.loaded_by == user_id).values(loaded_by=ERASED)
            ),
        ]
        count = sum(int(getattr(result, "rowcount", 0) or 0) for result in results)
    for claim_id in own_pending + named_pending:
        app.jobs.cancel(claim_job_id(claim_id))
    return count

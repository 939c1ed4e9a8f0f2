"""Reading games, cards, claims and standings."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.context import CommandContext
from bot.framework import CommandError
from storage.bingo import BingoCard, BingoClaim, BingoGame

from .feature import command_error
from .game import BingoError, Card, Position, new_card, parse_field
from .pools import prompts_from_data
from .scoring import PlayerStanding, leaderboard, standing
from .status import ClaimStatus, GameStatus


def claim_positions(claims: Iterable[BingoClaim], size: int, status: str) -> set[Position]:
    positions = set()
    for claim in claims:
        if claim.status == status:
            position = parse_field(claim.field, size)
            if position is not None:
                positions.add(position)
    return positions


async def running_game(session: AsyncSession, room_id: str) -> BingoGame | None:
    return await session.scalar(
        select(BingoGame)
        .where(BingoGame.room_id == room_id, BingoGame.status == GameStatus.RUNNING)
        .order_by(BingoGame.id.desc())
        .limit(1)
    )


async def require_game(session: AsyncSession, ctx: CommandContext) -> BingoGame:
    game = await running_game(session, ctx.room_id)
    if game is None:
        raise CommandError("bingo_error_no_game")
    return game


async def card_of(session: AsyncSession, game: BingoGame, player_id: str) -> BingoCard:
    """The player's card in the game, drawn on first use (different from every card already dealt)."""
    row = await session.scalar(
        select(BingoCard).where(BingoCard.game_id == game.id, BingoCard.player_id == player_id)
    )
    if row is not None:
        return row
    dealt = (await session.scalars(select(BingoCard.data).where(BingoCard.game_id == game.id))).all()
    seed: int | str = f"{game.seed}:{player_id}" if game.seed is not None else secrets.randbits(64)
    try:
        card = new_card(
            prompts_from_data(game.prompts), game.size, seed, avoid=[Card.from_data(d) for d in dealt]
        )
    except BingoError as error:
        raise command_error(error) from None
    row = BingoCard(game_id=game.id, player_id=player_id, data=card.to_data())
    session.add(row)
    await session.flush()
    return row


async def claims_of(session: AsyncSession, card_id: int, statuses: Sequence[str]) -> list[BingoClaim]:
    return list(
        (
            await session.scalars(
                select(BingoClaim)
                .where(BingoClaim.card_id == card_id, BingoClaim.status.in_(statuses))
                .order_by(BingoClaim.id)
            )
        ).all()
    )


async def game_standings(session: AsyncSession, game: BingoGame) -> list[PlayerStanding]:
    rows = (
        await session.scalars(
            select(BingoCard).where(BingoCard.game_id == game.id).options(selectinload(BingoCard.claims))
        )
    ).all()
    players = []
    for row in rows:
        card = Card.from_data(row.data)
        confirmed = claim_positions(row.claims, card.size, ClaimStatus.CONFIRMED)
        players.append(standing(row.player_id, card, confirmed, row.first_line_at))
    return leaderboard(players)


async def pending_claim_ids(session: AsyncSession, cards: Select[int]) -> list[int]:
    """The requests still waiting for an answer on the cards that ``cards`` selects (their ids)."""
    statement = select(BingoClaim.id).where(
        BingoClaim.card_id.in_(cards), BingoClaim.status == ClaimStatus.PENDING
    )
    return list((await session.scalars(statement)).all())

"""``!bingo bestätigen`` / ``ablehnen``: the named person decides a request by command."""

from __future__ import annotations

from sqlalchemy import select

from bot.context import CommandContext
from bot.framework import Arg, CommandError, Int
from storage.bingo import BingoCard, BingoClaim, BingoGame

from .game_commands import claim_field
from .service import decide
from .status import ClaimStatus, GameStatus


def _decide_args() -> list[Arg]:
    return [Arg("claim_id", Int(minimum=1), required=False)]


@claim_field.subcommand(
    de="bestätigen",
    en="confirm",
    aliases=("bestaetigen", "ja", "yes", "ok"),
    help="bingo_confirm",
    args=_decide_args(),
)
async def confirm_claim(ctx: CommandContext, claim_id: int | None = None) -> None:
    await _decide_by_command(ctx, claim_id, accept=True)


@claim_field.subcommand(
    de="ablehnen",
    en="decline",
    aliases=("nein", "no", "refuse", "reject"),
    help="bingo_decline",
    args=_decide_args(),
)
async def decline_claim(ctx: CommandContext, claim_id: int | None = None) -> None:
    await _decide_by_command(ctx, claim_id, accept=False)


async def _decide_by_command(ctx: CommandContext, claim_id: int | None, *, accept: bool) -> None:
    if claim_id is None:
        claim_id = await _only_open_claim(ctx)
    decision = await decide(
        ctx.app, claim_id, ctx.sender, accept, reply_to=ctx.event_id, command_room=ctx.room_id
    )
    if decision.error is not None:
        raise CommandError(decision.error, id=claim_id)
    if not decision.replied:
        await ctx.answer("bingo_decided_elsewhere", id=claim_id)


async def _only_open_claim(ctx: CommandContext) -> int:
    """The one request waiting for the member (in this room's game, or in any game from a direct chat)."""
    statement = (
        select(BingoClaim.id)
        .join(BingoCard, BingoCard.id == BingoClaim.card_id)
        .join(BingoGame, BingoGame.id == BingoCard.game_id)
        .where(
            BingoClaim.named_user_id == ctx.sender,
            BingoClaim.status == ClaimStatus.PENDING,
            BingoGame.status == GameStatus.RUNNING,
        )
        .order_by(BingoClaim.id)
    )
    if not ctx.is_direct:
        statement = statement.where(BingoGame.room_id == ctx.room_id)
    async with ctx.app.db.session() as session:
        ids = list((await session.scalars(statement)).all())
    if not ids:
        raise CommandError("bingo_error_no_open_claims")
    if len(ids) > 1:
        command = ctx.command.name_in(ctx.language) if ctx.command else "bingo"
        raise CommandError(
            "bingo_error_several_claims",
            ids=", ".join(str(i) for i in ids),
            example=f"{ctx.prefix}{command} {ids[0]}",
        )
    return ids[0]

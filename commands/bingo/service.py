"""The bingo feature's transactions: a request decided (with BINGO and full-card messages) and a game
finished with its results, each exactly once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.context import CommandContext
from bot.format import esc
from bot.framework import CommandError
from bot.i18n import Translate
from bot.sender import pill
from storage.base import utcnow
from storage.bingo import BingoCard, BingoClaim, BingoGame, BingoPromptPool
from storage.db import claimed

from .feature import bingo_settings
from .game import MAX_PROMPTS, Card, Position, Prompt, combine_prompts, field_name, field_problem, parse_field
from .scoring import completed_lines, is_full, line_label, newly_completed_lines
from .status import ClaimStatus, GameStatus

if TYPE_CHECKING:
    from bot.app import App
from .feature import MAX_LISTED_PLAYERS, claim_job_id, end_job_id
from .pools import prompts_to_data, room_pool
from .queries import (
    card_of,
    claim_positions,
    claims_of,
    game_standings,
    pending_claim_ids,
    require_game,
    running_game,
)
from .texts import count_text, leaderboard_names, minutes_text, place_text, ranking_lines

# ---------------------------------------------------------------------------------- decisions and jobs


@dataclass(frozen=True)
class Decision:
    error: str | None = None
    replied: bool = False


class _Abort(Exception):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


async def decide(
    app: App,
    claim_id: int,
    user_id: str,
    accept: bool,
    *,
    reply_to: str | None = None,
    command_room: str | None = None,
) -> Decision:
    """The named person confirms or refuses a request; the room hears it (and any BINGO) exactly once."""
    now = utcnow()
    replied = False
    try:
        async with app.db.session() as session:
            # Write first: the status flip takes the write lock, so what is read below is current.
            flipped = await session.execute(
                update(BingoClaim)
                .where(
                    BingoClaim.id == claim_id,
                    BingoClaim.status == ClaimStatus.PENDING,
                    BingoClaim.named_user_id == user_id,
                )
                .values(status=ClaimStatus.CONFIRMED if accept else ClaimStatus.REFUSED, decided_at=now)
            )
            claim = await session.get(BingoClaim, claim_id)
            if getattr(flipped, "rowcount", 0) != 1 or claim is None:
                if claim is None:
                    return Decision("bingo_error_claim_unknown")
                if claim.named_user_id != user_id:
                    return Decision("bingo_error_claim_not_yours")
                return Decision(f"bingo_error_claim_{claim.status}")
            card_row = await session.get(BingoCard, claim.card_id)
            assert card_row is not None
            game = await session.get(BingoGame, card_row.game_id)
            assert game is not None
            if game.status != GameStatus.RUNNING:
                raise _Abort("bingo_error_claim_game_over")
            t = app.catalog.translator(game.language)
            player = card_row.player_id
            replied = reply_to is not None and command_room == game.room_id
            reply = reply_to if replied else None
            if not accept:
                text = t("bingo_refused", named=pill(user_id), field=claim.field, player=pill(player))
                session.add(
                    app.sender.prepare(text, room_id=game.room_id, mentions=(player,), reply_to=reply)
                )
            else:
                for text in await _confirmation_messages(session, t, game, card_row, claim, now):
                    session.add(
                        app.sender.prepare(text, room_id=game.room_id, mentions=(player,), reply_to=reply)
                    )
                    reply = None
    except _Abort as abort:
        return Decision(abort.key)
    app.sender.wake()
    app.jobs.cancel(claim_job_id(claim_id))
    return Decision(None, replied)


async def _confirmation_messages(
    session: AsyncSession,
    t: Translate,
    game: BingoGame,
    card_row: BingoCard,
    claim: BingoClaim,
    now: datetime,
) -> list[str]:
    """The confirmation, then BINGO for newly completed lines (with the place for the first), full card."""
    card = Card.from_data(card_row.data)
    player = pill(card_row.player_id)
    confirmed = claim_positions(
        await claims_of(session, card_row.id, (ClaimStatus.CONFIRMED,)), card.size, ClaimStatus.CONFIRMED
    )
    position = parse_field(claim.field, card.size)
    before = confirmed - {position} if position is not None else confirmed
    messages = [t("bingo_confirmed", named=pill(claim.named_user_id), field=claim.field, player=player)]
    new_lines = newly_completed_lines(card.size, before, confirmed, card.free_centre)
    if new_lines:
        labels = ", ".join(line_label(line, t) for line in new_lines)
        if card_row.first_line_at is None:
            earlier = await session.scalar(
                select(func.count())
                .select_from(BingoCard)
                .where(
                    BingoCard.game_id == game.id,
                    BingoCard.first_line_at.is_not(None),
                    BingoCard.id != card_row.id,
                )
            )
            card_row.first_line_at = now
            card_row.place = int(earlier or 0) + 1
            messages.append(
                t("bingo_bingo_first", player=player, line=labels, place=place_text(t, card_row.place))
            )
        else:
            total = len(completed_lines(card.size, confirmed, card.free_centre))
            messages.append(
                t(
                    "bingo_bingo_more",
                    player=player,
                    line=labels,
                    lines=count_text(t, "bingo_count_lines", total),
                )
            )
    if card_row.full_at is None and is_full(card.size, confirmed, card.free_centre):
        card_row.full_at = now
        messages.append(t("bingo_full_card", player=player))
    return messages


async def finish_game(
    app: App, game_id: int, *, ended_by: str | None = None, reply_to: str | None = None
) -> bool:
    """End a running game once: open requests expire with it and the room gets the results."""
    now = utcnow()
    async with app.db.session() as session:
        if not await claimed(
            session,
            update(BingoGame)
            .where(BingoGame.id == game_id, BingoGame.status == GameStatus.RUNNING)
            .values(status=GameStatus.ENDED, ended_at=now, ended_by=ended_by),
        ):
            return False
        game = await session.get(BingoGame, game_id)
        assert game is not None
        cards = select(BingoCard.id).where(BingoCard.game_id == game_id)
        open_ids = await pending_claim_ids(session, cards)
        if open_ids:
            await session.execute(
                update(BingoClaim)
                .where(BingoClaim.id.in_(open_ids))
                .values(status=ClaimStatus.EXPIRED, decided_at=now)
            )
        players = await game_standings(session, game)
        t = app.catalog.translator(game.language)
        lines = [t("bingo_results_header", size=game.size)]
        if any(player.fields for player in players):
            names = leaderboard_names(app, players, game.room_id)
            lines.extend(ranking_lines(t, players, ZoneInfo(game.timezone), names))
            lines.append(t("bingo_results_thanks"))
        else:
            lines.append(t("bingo_results_empty"))
        mentioned = tuple(player.player_id for player in players[:MAX_LISTED_PLAYERS] if player.fields)
        session.add(
            app.sender.prepare("\n".join(lines), room_id=game.room_id, mentions=mentioned, reply_to=reply_to)
        )
    app.sender.wake()
    app.jobs.cancel(end_job_id(game_id))
    for claim_id in open_ids:
        app.jobs.cancel(claim_job_id(claim_id))
    return True


async def request_confirmation(ctx: CommandContext, position: Position, named: str) -> BingoClaim:
    """Store the request for ``named`` to confirm a field of the sender's card, and queue the request message
    in the same transaction (sent on ``sender.wake()``); refuses fields that are taken, free or already asked
    for, and a second open request to the same person."""
    field = field_name(position)
    minutes = bingo_settings(ctx.app).confirmation_minutes
    async with ctx.app.db.session() as session:
        game = await require_game(session, ctx)
        card_row = await card_of(session, game, ctx.sender)
        card = Card.from_data(card_row.data)
        active = await claims_of(session, card_row.id, (ClaimStatus.PENDING, ClaimStatus.CONFIRMED))
        problem = field_problem(
            card,
            position,
            claim_positions(active, card.size, ClaimStatus.CONFIRMED),
            claim_positions(active, card.size, ClaimStatus.PENDING),
        )
        if problem is not None:
            raise CommandError(problem, field=field)
        same = next((c for c in active if c.named_user_id == named), None)
        if same is not None:
            raise CommandError("bingo_error_same_person", user=named, field=same.field)
        claim = BingoClaim(
            card_id=card_row.id,
            field=field,
            named_user_id=named,
            status=ClaimStatus.PENDING,
            requested_at=utcnow(),
        )
        session.add(claim)
        await session.flush()
        prompt = card.prompt_at(position)
        text = ctx.t(
            "bingo_request",
            player=pill(ctx.sender),
            named=pill(named),
            field=field,
            prompt=esc(prompt.text(ctx.language) if prompt else ""),
            id=claim.id,
            minutes=minutes_text(minutes),
            p=ctx.prefix,
        )
        request = ctx.app.sender.prepare(
            text,
            room_id=game.room_id,
            mentions=(named,),
            track=("bingo_claim", claim.id),
            reply_to=ctx.event_id,
        )
        session.add(request)
        await session.flush()
        claim.request_outbox_id = request.id
    return claim


@dataclass(frozen=True)
class StoredPool:
    total: int  # prompts in the room's pool now
    game_running: bool  # a running game keeps the prompts it started with


async def store_room_prompts(
    app: App, room_id: str, loaded: list[Prompt], filename: str, loaded_by: str, *, extend: bool
) -> StoredPool:
    """Replace the room's pool with ``loaded``, or extend it (refused beyond ``MAX_PROMPTS``)."""
    async with app.db.session() as session:
        if extend:
            prompts = combine_prompts(await room_pool(session, app, room_id), loaded)
            if len(prompts) > MAX_PROMPTS:
                raise CommandError(
                    "bingo_prompts_error_too_many", file=filename, count=len(prompts), max=MAX_PROMPTS
                )
        else:
            prompts = loaded
        row = await session.get(BingoPromptPool, room_id)
        if row is None:
            row = BingoPromptPool(room_id=room_id, prompts=[], filename="", loaded_by="")
            session.add(row)
        row.prompts = prompts_to_data(prompts)
        row.filename = filename[:255]
        row.loaded_by = loaded_by
        row.loaded_at = utcnow()
        running = await running_game(session, room_id) is not None
    return StoredPool(len(prompts), running)


async def reset_room_prompts(app: App, room_id: str) -> None:
    """Back to the configured pool."""
    async with app.db.session() as session:
        await session.execute(delete(BingoPromptPool).where(BingoPromptPool.room_id == room_id))

"""``!bingo fragen``: a room's own prompt pool from an uploaded file (replace, extend, reset)."""

from __future__ import annotations

import asyncio

from bot.context import CommandContext
from bot.format import esc
from bot.framework import Arg, Choice, CommandError, Permission

from .feature import command_error, log
from .game import (
    MAX_CARD_SIZE,
    MIN_CARD_SIZE,
    BingoError,
    Prompt,
    parse_prompts,
    prompts_needed,
)
from .game_commands import claim_field
from .pools import configured_pool
from .service import reset_room_prompts, store_room_prompts
from .texts import count_text


@claim_field.subcommand(
    de="fragen",
    en="prompts",
    aliases=("fragenpool", "pool"),
    help="bingo_prompts",
    permission=Permission.MODERATOR,
    args=[
        Arg(
            "mode",
            Choice(
                {
                    "ersetzen": ("replace",),
                    "ergänzen": ("ergaenzen", "extend", "add", "hinzufügen"),
                    "zurücksetzen": ("zuruecksetzen", "reset", "standard", "default"),
                }
            ),
            required=False,
            default="ersetzen",
        )
    ],
)
async def load_room_prompts(ctx: CommandContext, mode: str = "ersetzen") -> None:
    if ctx.is_direct:
        raise CommandError("bingo_error_direct")
    if mode == "zurücksetzen":
        await reset_room_prompts(ctx.app, ctx.room_id)
        await ctx.answer(
            "bingo_prompts_reset",
            total=count_text(ctx.t, "bingo_count_prompts", len(configured_pool(ctx.app))),
        )
        return
    filename, loaded = await _uploaded_prompts(ctx)
    extend = mode == "ergänzen"
    stored = await store_room_prompts(ctx.app, ctx.room_id, loaded, filename, ctx.sender, extend=extend)
    key = "bingo_prompts_loaded_extend" if extend else "bingo_prompts_loaded_replace"
    prompts, total = (count_text(ctx.t, "bingo_count_prompts", n) for n in (len(loaded), stored.total))
    parts = [ctx.t(key, prompts=prompts, file=esc(filename), total=total, p=ctx.prefix)]
    parts += _pool_notes(ctx, stored.total, game_running=stored.game_running)
    await ctx.reply(" ".join(parts))


async def _uploaded_prompts(ctx: CommandContext) -> tuple[str, list[Prompt]]:
    """The file attached to the command (or the message it replies to), parsed."""
    try:
        attachment = await ctx.attachment()
    except Exception:
        log.warning("downloading a bingo prompt file failed", exc_info=True)
        raise CommandError("bingo_error_download") from None
    if attachment is None:
        raise CommandError("bingo_error_no_attachment")
    filename, data = attachment
    try:
        # Off the event loop: a file of up to [bot] max_file_kb takes a while to parse (docs/decisions.md).
        return filename, await asyncio.to_thread(parse_prompts, data, filename)
    except BingoError as error:
        raise command_error(error) from None


def _pool_notes(ctx: CommandContext, total: int, *, game_running: bool) -> list[str]:
    """What the pool is enough for, and that a running game keeps its prompts."""
    notes = []
    largest = max(
        (s for s in range(MIN_CARD_SIZE, MAX_CARD_SIZE + 1) if prompts_needed(s) <= total), default=0
    )
    if largest == 0:
        notes.append(ctx.t("bingo_prompts_note_too_few", needed=prompts_needed(MIN_CARD_SIZE), p=ctx.prefix))
    elif largest < MAX_CARD_SIZE:
        notes.append(ctx.t("bingo_prompts_note_small", size=largest))
    if game_running:
        notes.append(ctx.t("bingo_prompts_note_running"))
    return notes

"""``!kaffee`` (status), ``mitmachen``, ``pause``, ``weiter``, ``beenden``, ``nicht-mit``, ``doch-mit``,
``getroffen`` and the admins' ``jetzt``: parse → service → reply."""

from __future__ import annotations

import re

import timephrases
from bot.context import CommandContext
from bot.format import esc
from bot.framework import Arg, ArgError, Choice, CommandError, Permission, Text, UserArg
from bot.sender import pill
from commands.coffee.rules import parse_rhythm
from commands.coffee.status import Answer, RunTrigger

from . import service
from .feature import feature
from .follow_up import record_answer
from .jobs import run_and_introduce

ANSWERS = {
    Answer.YES: ("ja", "yes", "👍"),
    Answer.NO: ("nein", "no", "👎"),
    Answer.LATER: ("noch-nicht", "noch_nicht", "not-yet", "not_yet", "später", "spaeter", "later", "⏳"),
}
_UNTIL = re.compile(r"^(bis|until|till|to)\s+", re.IGNORECASE)


@feature.command(de="kaffee", en="coffee", help="coffee_status")
async def coffee(ctx: CommandContext) -> None:
    state = await service.state(ctx.app, ctx.sender, ctx.received_at)
    if state is None or not state.active:
        await ctx.answer("coffee_status_not_joined")
        return
    when = timephrases.format_datetime(state.next_run, ctx.language, ctx.tz) if state.next_run else "–"
    if state.paused_until:
        pause = ctx.t(
            "coffee_status_paused_until", date=timephrases.format_date(state.paused_until, ctx.language)
        )
    else:
        pause = ctx.t("coffee_status_paused" if state.paused else "coffee_status_active", p=ctx.prefix)
    blocked = ""
    if ctx.is_direct and state.blocked:  # the block list is private: shown in the direct chat only
        blocked = ctx.t("coffee_status_blocked", people=", ".join(pill(user) for user in state.blocked))
    await ctx.answer("coffee_status_joined", weeks=state.weeks, pause=pause, next_run=when, blocked=blocked)


@coffee.subcommand(
    de="mitmachen", en="join", aliases=("anmelden",), help="coffee_join",
    args=[Arg("rhythm", Text(max_length=40, allow_empty=True))],
)  # fmt: skip
async def join(ctx: CommandContext, rhythm: str) -> None:
    weeks = parse_rhythm(rhythm) if rhythm else None
    if rhythm and weeks is None:
        raise ArgError("coffee_error_rhythm", value=esc(rhythm))
    weeks = await service.join(ctx.app, ctx.sender, weeks)
    await ctx.answer("coffee_joined", weeks=weeks)


@coffee.subcommand(
    de="pause", en="pause", help="coffee_pause", args=[Arg("until", Text(max_length=60, allow_empty=True))]
)
async def pause(ctx: CommandContext, until: str) -> None:
    day = None
    if until:
        day = timephrases.parse_date(_UNTIL.sub("", until.strip()), now=ctx.now_local(), tz=ctx.tz)
        if day is None:
            raise ArgError("core_arg_not_a_date", value=esc(until))
    await service.pause(ctx.app, ctx.sender, day)
    if day is None:
        await ctx.answer("coffee_paused")
    else:
        await ctx.answer("coffee_paused_until", date=timephrases.format_date(day, ctx.language))


@coffee.subcommand(de="weiter", en="resume", aliases=("fortsetzen",), help="coffee_resume")
async def resume(ctx: CommandContext) -> None:
    await service.resume(ctx.app, ctx.sender)
    await ctx.answer("coffee_resumed")


@coffee.subcommand(de="beenden", en="leave", aliases=("abmelden", "stop"), help="coffee_leave")
async def leave(ctx: CommandContext) -> None:
    await service.leave(ctx.app, ctx.sender)
    await ctx.answer("coffee_left")


async def _private_answer(ctx: CommandContext, key: str, person: str) -> None:
    """Block list answers go to the direct chat only; a room just hears that there is an answer there."""
    await ctx.direct(ctx.t(key, user=pill(person), p=ctx.prefix))
    if not ctx.is_direct:
        await ctx.answer("coffee_answered_directly")


@coffee.subcommand(
    de="nicht-mit",
    en="block",
    aliases=("nichtmit", "not-with"),
    help="coffee_block",
    args=[Arg("person", UserArg())],
)
async def block(ctx: CommandContext, person: str) -> None:
    added = await service.block(ctx.app, ctx.sender, person)
    await _private_answer(ctx, "coffee_blocked" if added else "coffee_blocked_already", person)


@coffee.subcommand(
    de="doch-mit", en="unblock", aliases=("dochmit",), help="coffee_unblock", args=[Arg("person", UserArg())]
)
async def unblock(ctx: CommandContext, person: str) -> None:
    removed = await service.unblock(ctx.app, ctx.sender, person)
    await _private_answer(ctx, "coffee_unblocked" if removed else "coffee_unblocked_not", person)


@coffee.subcommand(
    de="getroffen",
    en="met",
    help="coffee_met",
    args=[Arg("answer", Choice({str(k): v for k, v in ANSWERS.items()}))],
)
async def met(ctx: CommandContext, answer: str) -> None:
    closed = await record_answer(ctx.app, ctx.sender, Answer(answer), room_id=ctx.room_id)
    await ctx.answer("coffee_answer_saved_closed" if closed else "coffee_answer_saved")


@coffee.subcommand(de="jetzt", en="now", help="coffee_now", permission=Permission.ADMIN)
async def now(ctx: CommandContext) -> None:
    result = await run_and_introduce(
        ctx.app, ctx.received_at, trigger=RunTrigger.COMMAND, started_by=ctx.sender
    )
    if result is None:
        raise CommandError("coffee_error_ran_already")
    await ctx.answer("coffee_ran", groups=len(result.groups), unpaired=result.unpaired)

"""Repeating a crowded session: ``!session wiederholen``, "ja"/"nein" in answer to the offer, and taking a
seat in the repeat by reacting to its direct message."""

from __future__ import annotations

from bot.answers import YesNo, classify_answer
from bot.context import CommandContext, ReactionContext
from bot.format import esc
from bot.framework import Arg, CommandError, Int, Quoted
from bot.i18n import Translate, plural

from .feature import SIGNUP_KEYS, feature, tr
from .lookups import is_event_moderator
from .repeat_service import (
    REPEAT_OFFER_KIND,
    REPEAT_SEAT_KIND,
    Repeated,
    decline_repeat,
    repeat_session,
)
from .rules import with_prefix
from .service import invite_all, sign_up, withdraw
from .session_commands import session_cmd


def _repeated_text(repeated: Repeated, t: Translate) -> str:
    return t(
        "sessions_repeat_created",
        title=esc(repeated.title),
        session_id=repeated.original_id,
        repeat_id=repeated.repeat_id,
        when=repeated.when,
        offered=plural(t, "sessions_people_count", repeated.offered),
    )


async def _repeat(ctx: CommandContext, session_id: int, slot: str) -> None:
    repeated = await repeat_session(
        ctx.app,
        session_id,
        slot,
        by=ctx.sender,
        is_moderator=lambda event: is_event_moderator(ctx, event),
        t=tr(ctx),
    )
    await ctx.reply(_repeated_text(repeated, tr(ctx)))


@session_cmd.subcommand(
    de="wiederholen",
    en="repeat",
    aliases=("wiederholung",),
    help="sessions_repeat",
    args=[Arg("session_id", Int(minimum=1)), Arg("slot", Quoted(), required=False, default="")],
)
async def repeat_cmd(ctx: CommandContext, session_id: int, slot: str) -> None:
    await _repeat(ctx, session_id, slot)


@feature.on_reply(REPEAT_OFFER_KIND)
async def answer_repeat_offer(ctx: CommandContext, session_id: int | None, text: str) -> None:
    if session_id is None:
        return
    answer = classify_answer(text)
    if answer is YesNo.YES:
        # "ja 3", "ja, gerne", "yes, slot 2": the first number names the time slot; none takes the first free.
        numbers = (w.strip("#.,!") for w in text.split())
        await _repeat(ctx, session_id, next((n for n in numbers if n.isdigit()), ""))
    elif answer is YesNo.NO:
        title = await decline_repeat(
            ctx.app, session_id, by=ctx.sender, is_moderator=lambda event: is_event_moderator(ctx, event)
        )
        await ctx.reply(tr(ctx)("sessions_repeat_declined", title=esc(title), session_id=session_id))
    else:
        raise CommandError("sessions_repeat_error_answer", session_id=session_id)


@feature.on_reaction(REPEAT_SEAT_KIND, SIGNUP_KEYS)
async def react_to_seat_offer(reaction: ReactionContext) -> None:
    if reaction.ref_id is None:
        return
    app = reaction.app
    t = with_prefix(reaction.t, app.settings.bot.command_prefix)
    if reaction.added:
        change = await sign_up(app, reaction.ref_id, reaction.sender, switch=False, t=t)
    else:
        change = await withdraw(app, reaction.ref_id, reaction.sender, t)
    await invite_all(app, change.invite)
    if change.text:
        await app.sender.send(change.text, to_user=reaction.sender)

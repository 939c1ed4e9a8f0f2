"""Answers to "Habt ihr euch getroffen?": 👍 / 👎 / ⏳ on it, or a plain reply ("ja", "haben wir", "noch
nicht", "not yet" …). Only members of the group count; the last answer of each person counts."""

from __future__ import annotations

from bot.answers import YesNo, classify_answer
from bot.context import CommandContext, ReactionContext
from bot.framework import CommandError
from commands.coffee.status import Answer

from .feature import FOLLOW_UP_KIND, LATER_KEYS, NO_KEYS, YES_KEYS, feature
from .follow_up import record_answer

_ANSWER_OF = {
    **{key: Answer.YES for key in YES_KEYS},
    **{key: Answer.NO for key in NO_KEYS},
    **{key: Answer.LATER for key in LATER_KEYS},
}
_ANSWER_OF_REPLY = {YesNo.YES: Answer.YES, YesNo.NO: Answer.NO, YesNo.NOT_YET: Answer.LATER}


@feature.on_reaction(FOLLOW_UP_KIND, (*YES_KEYS, *NO_KEYS, *LATER_KEYS))
async def react_to_follow_up(reaction: ReactionContext) -> None:
    answer = _ANSWER_OF.get(reaction.key)
    if not reaction.added or reaction.ref_id is None or answer is None:
        return
    try:
        await record_answer(reaction.app, reaction.sender, answer, group_id=reaction.ref_id)
    except CommandError:  # someone outside the group, or the group is closed already
        return


@feature.on_reply(FOLLOW_UP_KIND)
async def reply_to_follow_up(ctx: CommandContext, group_id: int | None, text: str) -> None:
    meaning = classify_answer(text)
    if meaning is None:
        raise CommandError("coffee_reply_unclear")
    closed = await record_answer(ctx.app, ctx.sender, _ANSWER_OF_REPLY[meaning], group_id=group_id)
    await ctx.answer("coffee_answer_saved_closed" if closed else "coffee_answer_saved")

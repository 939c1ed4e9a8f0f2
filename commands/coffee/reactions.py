"""👍 / 👎 / ⏳ on "Habt ihr euch getroffen?": the member's answer (only members of the group count)."""

from __future__ import annotations

from bot.context import ReactionContext
from bot.framework import CommandError
from commands.coffee.status import Answer

from .feature import FOLLOW_UP_KIND, LATER_KEYS, NO_KEYS, YES_KEYS, feature
from .follow_up import record_answer

_ANSWER_OF = {
    **{key: Answer.YES for key in YES_KEYS},
    **{key: Answer.NO for key in NO_KEYS},
    **{key: Answer.LATER for key in LATER_KEYS},
}


@feature.on_reaction(FOLLOW_UP_KIND, (*YES_KEYS, *NO_KEYS, *LATER_KEYS))
async def react_to_follow_up(reaction: ReactionContext) -> None:
    answer = _ANSWER_OF.get(reaction.key)
    if not reaction.added or reaction.ref_id is None or answer is None:
        return
    try:
        await record_answer(reaction.app, reaction.sender, answer, group_id=reaction.ref_id)
    except CommandError:  # someone outside the group, or the group is closed already
        return

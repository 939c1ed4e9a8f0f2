"""✅ or ❌ on a request: the named person decides it."""

from __future__ import annotations

from bot.context import ReactionContext

from .feature import CONFIRM_KEYS, REFUSE_KEYS, feature
from .service import decide


@feature.on_reaction("bingo_claim", CONFIRM_KEYS + REFUSE_KEYS)
async def react_to_claim(reaction: ReactionContext) -> None:
    """✅ (or ✔️/👍) from the named person confirms, ❌ (or 👎) refuses; anyone else's reaction is ignored."""
    if not reaction.added or reaction.ref_id is None:
        return
    accept = reaction.is_one_of(CONFIRM_KEYS)
    await decide(
        reaction.app,
        reaction.ref_id,
        reaction.sender,
        accept,
        reply_to=reaction.target_event_id,
        command_room=reaction.room_id,
    )

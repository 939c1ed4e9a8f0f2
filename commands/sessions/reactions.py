"""Sign-ups by reaction: ✅ or 👍 on a session's announcement, a number on a time slot's announcement.

👍 means "sign me up" on messages about a scheduled session; on a proposal (its announcement has a kind of its
own, see interest_commands.py, and the details of a session that is still proposed) it means interest."""

from __future__ import annotations

from sqlalchemy import select

from bot.context import ReactionContext, bare_key
from storage.sessions import (
    BarcampSession,
    SessionSignup,
)

from .feature import NUMBER_KEYS, SESSION_KIND, SIGNUP_KEYS, SLOT_KIND, THUMBS_UP, feature
from .interest_service import InterestSource, mark_interest, unmark_interest
from .rules import (
    SessionStatus,
    with_prefix,
)
from .service import invite_all, sign_up, withdraw

# --- reactions --------------------------------------------------------------------------------------------


async def _react_change(reaction: ReactionContext, session_id: int) -> None:
    app = reaction.app
    t = with_prefix(reaction.t, app.settings.bot.command_prefix)
    if reaction.added:
        change = await sign_up(app, session_id, reaction.sender, switch=False, t=t)
        text = change.text
    else:
        if await reaction.still_reacting_with(SIGNUP_KEYS):
            return  # ✅ and 👍 both given: taking one back keeps the sign-up
        async with app.db.session() as db:
            has = await db.scalar(
                select(SessionSignup.id).where(
                    SessionSignup.session_id == session_id, SessionSignup.user_id == reaction.sender
                )
            )
        if has is None:
            return
        change = await withdraw(app, session_id, reaction.sender, t)
        text = change.text
    await invite_all(app, change.invite)
    if text:
        await app.sender.send(text, to_user=reaction.sender)


async def _thumbs_on_proposal(reaction: ReactionContext, session_id: int) -> bool:
    """👍 on the details of a session that is still proposed marks interest, as on its announcement."""
    if reaction.key not in THUMBS_UP:
        return False
    async with reaction.app.db.session() as db:
        status = await db.scalar(select(BarcampSession.status).where(BarcampSession.id == session_id))
    if status != SessionStatus.PROPOSED:
        return False
    if reaction.added:
        await mark_interest(reaction.app, reaction.sender, [session_id], InterestSource.REACTION)
    else:
        await unmark_interest(reaction.app, reaction.sender, session_id, InterestSource.REACTION)
    return True


@feature.on_reaction(SESSION_KIND, SIGNUP_KEYS)
async def react_to_session(reaction: ReactionContext) -> None:
    if reaction.ref_id is not None and not await _thumbs_on_proposal(reaction, reaction.ref_id):
        await _react_change(reaction, reaction.ref_id)


@feature.on_reaction(SLOT_KIND, (*SIGNUP_KEYS, *NUMBER_KEYS))
async def react_to_slot(reaction: ReactionContext) -> None:
    if reaction.ref_id is None:
        return
    async with reaction.app.db.session() as db:
        ids = list(
            (
                await db.scalars(
                    select(BarcampSession.id)
                    .where(
                        BarcampSession.slot_id == reaction.ref_id,
                        BarcampSession.status == SessionStatus.SCHEDULED,
                    )
                    .order_by(BarcampSession.id)
                )
            ).all()
        )
    numbers = [bare_key(k) for k in NUMBER_KEYS]
    if reaction.key in numbers:
        index = numbers.index(reaction.key)
    elif len(ids) == 1:
        index = 0
    else:
        return
    if index < len(ids):
        await _react_change(reaction, ids[index])

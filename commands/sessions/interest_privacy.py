"""Privacy export and erasure of interest, poll votes and personal suggestions (issue 16)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select

from storage.sessions import SessionInterest, SessionPollVote, SessionSuggestion

from .feature import feature
from .suggestions import suggested_ids

if TYPE_CHECKING:
    from bot.app import App


@feature.privacy_export
async def export_interest(app: App, user_id: str) -> dict[str, Any]:
    async with app.db.session() as db:
        interest = (await db.scalars(select(SessionInterest).where(SessionInterest.user_id == user_id))).all()
        votes = (await db.scalars(select(SessionPollVote).where(SessionPollVote.user_id == user_id))).all()
        suggestions = (
            await db.scalars(select(SessionSuggestion).where(SessionSuggestion.user_id == user_id))
        ).all()
    return {
        "session_interest": [
            {"session_id": i.session_id, "source": i.source, "created_at": i.created_at.isoformat()}
            for i in interest
        ],
        "session_poll_votes": [
            {"poll_id": v.poll_id, "answered_at": v.answered_at.isoformat()} for v in votes
        ],
        "session_suggestions": [
            {
                "event_id": s.event_id,
                "session_ids": suggested_ids(s),
                "created_at": s.created_at.isoformat(),
            }
            for s in suggestions
        ],
    }


@feature.privacy_erase
async def erase_interest(app: App, user_id: str) -> int:
    count = 0
    async with app.db.session() as db:
        for model in (SessionInterest, SessionPollVote, SessionSuggestion):
            result = await db.execute(delete(model).where(model.user_id == user_id))
            count += int(getattr(result, "rowcount", 0) or 0)
    return count

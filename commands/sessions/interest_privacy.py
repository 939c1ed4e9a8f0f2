"""Privacy export and erasure of interest, poll votes, personal suggestions and plan previews (issue 16).

A plan preview a moderator computed stays when they are erased (another moderator may apply it); only the
link to them is removed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select, update

from storage.sessions import SessionInterest, SessionPlanPreview, SessionPollVote, SessionSuggestion

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
        previews = (
            await db.scalars(select(SessionPlanPreview).where(SessionPlanPreview.created_by == user_id))
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
        "session_plan_previews": [
            {"event_id": p.event_id, "created_at": p.created_at.isoformat()} for p in previews
        ],
    }


@feature.privacy_erase
async def erase_interest(app: App, user_id: str) -> int:
    count = 0
    async with app.db.session() as db:
        for model in (SessionInterest, SessionPollVote, SessionSuggestion):
            result = await db.execute(delete(model).where(model.user_id == user_id))
            count += int(getattr(result, "rowcount", 0) or 0)
        result = await db.execute(
            update(SessionPlanPreview).where(SessionPlanPreview.created_by == user_id).values(created_by="")
        )
        count += int(getattr(result, "rowcount", 0) or 0)
    return count

"""Privacy export and erasure of session results: the entries a member wrote.

The entries stay when their author is erased (they are the session's outcome, shown in the summary and the
digest, like an event whose creator is erased); only the link to the author is removed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update

from storage.sessions import SessionResult

from .feature import feature

if TYPE_CHECKING:
    from bot.app import App


@feature.privacy_export
async def export_results(app: App, user_id: str) -> dict[str, Any]:
    async with app.db.session() as db:
        rows = (
            await db.scalars(
                select(SessionResult).where(SessionResult.author_id == user_id).order_by(SessionResult.id)
            )
        ).all()
    return {
        "session_results_written": [
            {
                "session_id": r.session_id,
                "kind": r.kind,
                "text": r.text,
                "created_at": r.created_at.isoformat(),
            }
            for r in rows
        ]
    }


@feature.privacy_erase
async def erase_results(app: App, user_id: str) -> int:
    async with app.db.session() as db:
        result = await db.execute(
            update(SessionResult).where(SessionResult.author_id == user_id).values(author_id="")
        )
    return int(getattr(result, "rowcount", 0) or 0)

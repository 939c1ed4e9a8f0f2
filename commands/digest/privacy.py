"""Privacy export and erasure of member news."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select, update

from storage.digest import DigestNews, DigestPost

if TYPE_CHECKING:
    from bot.app import App
from .feature import feature

# --- privacy ------------------------------------------------------------------------------------------------


@feature.privacy_export
async def export_news(app: App, user_id: str) -> dict[str, Any]:
    async with app.db.session() as session:
        items = (
            await session.scalars(
                select(DigestNews).where(DigestNews.author_id == user_id).order_by(DigestNews.id)
            )
        ).all()
    return {
        "digest_news": [
            {
                "id": item.id,
                "room_id": item.room_id,
                "text": item.text,
                "status": item.status,
                "reason": item.reason,
                "created_at": item.created_at.isoformat(),
                "decided_at": item.decided_at.isoformat() if item.decided_at else None,
            }
            for item in items
        ]
    }


@feature.privacy_erase
async def erase_news(app: App, user_id: str) -> int:
    async with app.db.session() as session:
        result = await session.execute(delete(DigestNews).where(DigestNews.author_id == user_id))
        await session.execute(
            update(DigestNews).where(DigestNews.decided_by == user_id).values(decided_by=None)
        )
        await session.execute(
            update(DigestNews).where(DigestNews.edited_by == user_id).values(edited_by=None)
        )
        await session.execute(
            update(DigestPost).where(DigestPost.posted_by == user_id).values(posted_by=None)
        )
    return int(getattr(result, "rowcount", 0) or 0)

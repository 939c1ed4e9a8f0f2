"""``community-bot outbox``: the operator's view of messages the homeserver refused or that were given up."""

from __future__ import annotations

from sqlalchemy import select, update

from storage.db import Database, upgrade_database
from storage.models import OutboxMessage


def _describe(row: OutboxMessage) -> str:
    destination = row.room_id or f"direct chat with {row.to_user}"
    kind = (row.content or {}).get("type", "?")
    failed = row.failed_at.strftime("%Y-%m-%d %H:%M") if row.failed_at else "?"
    return f"{row.id:>6}  {failed}  {kind:<15} {destination}  attempts={row.attempts}  {row.last_error or ''}"


async def list_failed(database_url: str) -> list[str]:
    """One line per failed message (never its text: it may hold personal data)."""
    upgrade_database(database_url)
    db = Database(database_url)
    try:
        async with db.session() as session:
            rows = await session.scalars(
                select(OutboxMessage).where(OutboxMessage.failed_at.is_not(None)).order_by(OutboxMessage.id)
            )
            return [_describe(row) for row in rows.all()]
    finally:
        await db.close()


async def retry(database_url: str, row_ids: list[int] | None) -> int:
    """Queue failed messages again (all, or the given ids); the running bot sends them within 30 s."""
    upgrade_database(database_url)
    db = Database(database_url)
    try:
        async with db.session() as session:
            statement = (
                update(OutboxMessage)
                .where(OutboxMessage.failed_at.is_not(None), OutboxMessage.sent_at.is_(None))
                .values(failed_at=None, attempts=0)
            )
            if row_ids is not None:
                statement = statement.where(OutboxMessage.id.in_(row_ids))
            result = await session.execute(statement)
            return int(getattr(result, "rowcount", 0) or 0)
    finally:
        await db.close()

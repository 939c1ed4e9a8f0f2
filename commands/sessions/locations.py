"""An event's locations as sessions use them: the text stored on a session placed there, and which location a
scheduled session is at (its recorded placement, else its place's name)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.sessions import SessionLocation, SessionPlacement


def location_text(location: SessionLocation) -> str:
    """How a location is stored on a session placed there (and shown): its name, then its link."""
    return f"{location.name} – {location.link}" if location.link else location.name


def location_by_name(locations: Sequence[SessionLocation], text: str | None) -> int | None:
    """A session scheduled by hand whose place starts with a location's name is at that location."""
    folded = (text or "").casefold()
    found = [loc for loc in locations if folded and folded.startswith(loc.name.casefold())]
    return max(found, key=lambda loc: len(loc.name)).id if found else None


async def placements_of(db: AsyncSession, session_ids: Iterable[int]) -> dict[int, int]:
    """session id → location id, for the sessions an applied plan (or a repeat) placed."""
    ids = list(session_ids)
    if not ids:
        return {}
    rows = await db.scalars(select(SessionPlacement).where(SessionPlacement.session_id.in_(ids)))
    return {p.session_id: p.location_id for p in rows}

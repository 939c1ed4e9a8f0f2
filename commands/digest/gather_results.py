"""Reading the sessions whose results came in during a month, for the digest's results section.

The sessions feature's tables are imported inside the function, as in :mod:`commands.digest.gather`, so
the digest still works (without the section) when that feature is not installed.
"""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import select, true
from sqlalchemy.ext.asyncio import AsyncSession

from commands.digest.results_section import SessionResults

_URL = re.compile(r"https?://[^\s<>\"']+", re.IGNORECASE)


async def session_results(
    session: AsyncSession, start: datetime, end: datetime, room_id: str | None
) -> list[SessionResults]:
    """Sessions with a result entered in ``[start, end)`` (room scope: events of ``room_id``), each with
    all its key points and links."""
    try:
        from storage.sessions import BarcampSession, SessionEvent, SessionResult
    except ImportError:
        return []
    scope = true() if room_id is None else SessionEvent.room_id == room_id
    fresh = (
        select(SessionResult.session_id)
        .where(SessionResult.created_at >= start, SessionResult.created_at < end)
        .distinct()
    )
    rows = (
        await session.execute(
            select(
                BarcampSession.id,
                BarcampSession.title,
                SessionEvent.title,
                SessionResult.kind,
                SessionResult.text,
            )
            .join(SessionEvent, SessionEvent.id == BarcampSession.event_id)
            .join(SessionResult, SessionResult.session_id == BarcampSession.id)
            .where(BarcampSession.id.in_(fresh), BarcampSession.status == "scheduled", scope)
            .order_by(BarcampSession.id, SessionResult.id)
        )
    ).all()
    points: dict[int, list[str]] = {}
    links: dict[int, list[str]] = {}
    titles: dict[int, tuple[str, str]] = {}
    for session_id, title, event_title, kind, text in rows:
        titles[session_id] = (title, event_title)
        if kind != "link":
            points.setdefault(session_id, []).append(text)
        for url in _URL.findall(text):
            if url not in links.setdefault(session_id, []):
                links[session_id].append(url)
    return [
        SessionResults(
            session_id,
            title,
            event_title,
            tuple(points.get(session_id, ())),
            tuple(links.get(session_id, ())),
        )
        for session_id, (title, event_title) in titles.items()
    ]

"""Privacy export and erasure of the sessions feature."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select

from storage.sessions import (
    BarcampSession,
    SessionEvent,
    SessionHost,
    SessionSignup,
)

from .rules import (
    SessionStatus,
    with_prefix,
)

if TYPE_CHECKING:
    from bot.app import App
from .feature import feature
from .queries import forget_session
from .service import invite_all, withdraw

# --- start, privacy ---------------------------------------------------------------------------------------


@feature.privacy_export
async def export_sessions(app: App, user_id: str) -> dict[str, Any]:
    async with app.db.session() as db:
        signups = (await db.scalars(select(SessionSignup).where(SessionSignup.user_id == user_id))).all()
        hosted_ids = (
            await db.scalars(select(SessionHost.session_id).where(SessionHost.user_id == user_id))
        ).all()
        hosted = (await db.scalars(select(BarcampSession).where(BarcampSession.id.in_(hosted_ids)))).all()
        events = (await db.scalars(select(SessionEvent).where(SessionEvent.created_by == user_id))).all()
    return {
        "session_signups": [
            {
                "session_id": s.session_id,
                "state": s.state,
                "position": s.position,
                "created_at": s.created_at.isoformat(),
                "confirmed_at": s.confirmed_at.isoformat() if s.confirmed_at else None,
            }
            for s in signups
        ],
        "sessions_hosted": [
            {
                "id": r.id,
                "event_id": r.event_id,
                "title": r.title,
                "description": r.description,
                "theme": r.theme,
                "status": r.status,
                "created_at": r.created_at.isoformat(),
            }
            for r in hosted
        ],
        "events_created": [{"id": e.id, "title": e.title, "day": e.day.isoformat()} for e in events],
    }


@feature.privacy_erase
async def erase_sessions(app: App, user_id: str) -> int:
    """Withdraw every sign-up (the next in line moves up), drop host entries and host-less proposals."""
    async with app.db.session() as db:
        session_ids = (
            await db.scalars(select(SessionSignup.session_id).where(SessionSignup.user_id == user_id))
        ).all()
    t = with_prefix(app.catalog.translator(app.settings.bot.language), app.settings.bot.command_prefix)
    count = 0
    for session_id in session_ids:
        change = await withdraw(app, session_id, user_id, t)
        await invite_all(app, change.invite)
        count += 1
    async with app.db.session() as db:
        hosted_ids = (
            await db.scalars(select(SessionHost.session_id).where(SessionHost.user_id == user_id))
        ).all()
        result = await db.execute(delete(SessionHost).where(SessionHost.user_id == user_id))
        count += int(getattr(result, "rowcount", 0) or 0)
        for session_id in hosted_ids:
            row = await db.get(BarcampSession, session_id)
            if row is not None and row.status == SessionStatus.PROPOSED:
                await db.refresh(row, ["hosts"])
                if not row.hosts:
                    await db.delete(row)
                    forget_session(app, session_id)
                    count += 1
        events = (await db.scalars(select(SessionEvent).where(SessionEvent.created_by == user_id))).all()
        for event in events:
            event.created_by = ""
    return count

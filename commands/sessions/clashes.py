"""Members a moved session double-books: signed up for another session of the event at the new time."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.sessions import BarcampSession, SessionEvent, SessionSignup, SessionSlot

from .queries import slot_view
from .rules import SessionStatus, slots_overlap


async def clashes_at(
    db: AsyncSession,
    row: BarcampSession,
    event: SessionEvent,
    target: SessionSlot,
    people: Iterable[str],
) -> dict[str, list[BarcampSession]]:
    """user → the other scheduled sessions of the event they are signed up for (confirmed or on the wait
    list) whose time slot overlaps ``target``, by session number; only people with at least one."""
    users = sorted(set(people))
    if not users:
        return {}
    found = await db.execute(
        select(SessionSignup.user_id, BarcampSession, SessionSlot)
        .join(BarcampSession, BarcampSession.id == SessionSignup.session_id)
        .join(SessionSlot, SessionSlot.id == BarcampSession.slot_id)
        .where(
            SessionSignup.user_id.in_(users),
            BarcampSession.event_id == event.id,
            BarcampSession.status == SessionStatus.SCHEDULED,
            BarcampSession.id != row.id,
        )
        .order_by(BarcampSession.id)
    )
    wanted = slot_view(target)
    clashes: dict[str, list[BarcampSession]] = defaultdict(list)
    for user_id, other, slot in found.tuples():
        if slot.id == target.id or slots_overlap(wanted, slot_view(slot)):
            clashes[user_id].append(other)
    return dict(clashes)

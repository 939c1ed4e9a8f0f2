"""The time slots a session's hosts cannot make (``!session verhindert``), for the planner."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from sqlalchemy import delete, select

from bot.framework import CommandError
from storage.sessions import SessionSlot, SessionUnavailable

from .lookups import get_session, pick_slot

if TYPE_CHECKING:
    from bot.app import App

CLEAR_WORDS = ("keine", "keins", "none", "-")


def pick_slots(slots: Sequence[SessionSlot], given: str, session_id: int) -> list[SessionSlot]:
    """The slots named in ``given`` (numbers or names, spaces or commas); empty for "keine"/"none"."""
    words = given.replace(",", " ").split()
    if len(words) == 1 and words[0].casefold() in CLEAR_WORDS:
        return []
    chosen: list[SessionSlot] = []
    for word in words:
        slot = pick_slot(slots, word)
        if slot is None:
            ordered = sorted(slots, key=lambda s: s.number)
            raise CommandError(
                "sessions_unavailable_error_slot",
                session_id=session_id,
                slot=word,
                slots=", ".join(f"{s.number} = {s.name}" for s in ordered),
            )
        if slot not in chosen:
            chosen.append(slot)
    return sorted(chosen, key=lambda s: s.number)


async def set_unavailable(app: App, session_id: int, given: str) -> tuple[str, list[SessionSlot]]:
    """Replace the session's unavailable slots; returns its title and the slots now stored."""
    async with app.db.session() as db:
        row = await get_session(db, session_id)
        slots = list(
            (await db.scalars(select(SessionSlot).where(SessionSlot.event_id == row.event_id))).all()
        )
        if not slots:
            raise CommandError("sessions_error_no_slots", event_id=row.event_id)
        chosen = pick_slots(slots, given, session_id)
        await db.execute(delete(SessionUnavailable).where(SessionUnavailable.session_id == row.id))
        for slot in chosen:
            db.add(SessionUnavailable(session_id=row.id, slot_id=slot.id))
        return row.title, chosen

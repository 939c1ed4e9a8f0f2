"""Database side of reminders that sits on a command's way to its reply.

``!erinnere`` used to open an ORM session, count the member's open reminders, add the row and commit: three
round trips into the database thread and the ORM's bookkeeping, for the command members use most. The cap
and the insert are one statement here (``INSERT … SELECT … WHERE open < cap RETURNING id``), run with its
commit in one round trip (``Database.run_together``, storage/one_hop.py). On SQLite, which runs one writer
at a time, the check and the write cannot come apart; on PostgreSQL two such statements at once could both
see room under the cap, so the caller still holds the member's lock (the bot is one process).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import Integer, Table, bindparam, func, insert, select

from storage.db import Database
from storage.models import Reminder
from storage.one_hop import Prepared

# Every column of a new reminder (Python-side defaults do not apply to a prepared statement).
NEW_REMINDER_COLUMNS = (
    "owner_id",
    "room_id",
    "target",
    "text",
    "language",
    "timezone",
    "due_at",
    "recurrence",
    "status",
    "created_at",
)
_REMINDERS = cast(Table, Reminder.__table__)
_VALUES = {name: bindparam(name, type_=_REMINDERS.c[name].type) for name in NEW_REMINDER_COLUMNS}
_OPEN_OF_OWNER = (
    select(func.count(_REMINDERS.c.id))
    .where(_REMINDERS.c.owner_id == _VALUES["owner_id"], _REMINDERS.c.status == "scheduled")
    .scalar_subquery()
)
CREATE_UNDER_CAP = Prepared.of(
    insert(_REMINDERS)
    .from_select(
        list(NEW_REMINDER_COLUMNS),
        select(*_VALUES.values()).where(bindparam("cap", type_=Integer) > _OPEN_OF_OWNER),
    )
    .returning(_REMINDERS.c.id)
)


async def create_under_cap(db: Database, reminder: Reminder, cap: int) -> int | None:
    """Store ``reminder`` (a new, unsaved row with every column set) unless its owner already has ``cap``
    open reminders; its id, or None at the cap."""
    values: dict[str, Any] = {name: getattr(reminder, name) for name in NEW_REMINDER_COLUMNS}
    row = await db.run_together((CREATE_UNDER_CAP, {**values, "cap": cap}))
    return int(row[0]) if row is not None else None


def new_reminder(
    *,
    owner_id: str,
    room_id: str,
    target: str,
    text: str,
    language: str,
    timezone: str,
    due_at: datetime | None,
    recurrence: dict[str, str] | None,
    now: datetime,
) -> Reminder:
    """A reminder row with every stored column set, not yet in the database."""
    return Reminder(
        owner_id=owner_id,
        room_id=room_id,
        target=target,
        text=text,
        language=language,
        timezone=timezone,
        due_at=due_at,
        recurrence=recurrence,
        status="scheduled",
        created_at=now,
    )

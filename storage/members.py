"""Repository of members (preferences and networking profile)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal, cast

from sqlalchemy import Table, bindparam, exists, insert, select, update

from storage.db import Database
from storage.models import Member
from storage.one_hop import Prepared

ProfileField = Literal["organisation", "level", "topics", "language", "timezone"]
PROFILE_FIELDS: tuple[ProfileField, ...] = ("organisation", "level", "topics", "language", "timezone")


# One profile field set in one round trip (a member changes their profile on the command path): the member's
# row is added with empty fields if there is none yet, then the field is set. Every column is given (Python-
# side defaults do not apply to prepared statements). Parameters (named unlike any column): member_id, now,
# value and new_<field> for the row that is added.
_MEMBERS = cast(Table, Member.__table__)
_USER_ID = bindparam("member_id", type_=_MEMBERS.c.user_id.type)
_NOW = bindparam("now", type_=_MEMBERS.c.updated_at.type)
_NEW_MEMBER_COLUMNS = ("user_id", *PROFILE_FIELDS, "created_at", "updated_at")
ADD_MEMBER_IF_MISSING = Prepared.of(
    insert(_MEMBERS).from_select(
        list(_NEW_MEMBER_COLUMNS),
        select(
            _USER_ID,
            *(bindparam(f"new_{field}", type_=_MEMBERS.c[field].type) for field in PROFILE_FIELDS),
            _NOW,
            _NOW,
        ).where(~exists().where(_MEMBERS.c.user_id == _USER_ID)),
    )
)
SET_FIELD = {
    field: Prepared.of(
        update(_MEMBERS)
        .where(_MEMBERS.c.user_id == _USER_ID)
        .values({field: bindparam("value", type_=_MEMBERS.c[field].type), "updated_at": _NOW})
    )
    for field in PROFILE_FIELDS
}


async def set_profile_field(db: Database, user_id: str, field: ProfileField, value: Any) -> None:
    """Set one field of the member's profile, creating the member if needed (one round trip on SQLite)."""
    empty: dict[str, Any] = {f"new_{name}": [] if name == "topics" else None for name in PROFILE_FIELDS}
    values = {**empty, "member_id": user_id, "now": datetime.now(UTC), "value": value}
    await db.run_together((ADD_MEMBER_IF_MISSING, values), (SET_FIELD[field], values))

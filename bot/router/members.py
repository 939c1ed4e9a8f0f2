"""Member joins (recorded once per sync) and messages the bot could not decrypt."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from nio import MatrixRoom, MegolmEvent, RoomMemberEvent
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bot.router.core import RouterCore
from storage.models import RoomMembership

# One logger for the whole router, named as before the split.
log = logging.getLogger(__package__)


class Members(RouterCore):
    """Who joined which room, and members told that their message could not be decrypted."""

    # --- membership and encryption trouble ----------------------------------------------------------------

    async def on_member_joined(self, room: MatrixRoom, event: RoomMemberEvent) -> None:
        """Collected per sync and written in one transaction by :meth:`record_joins` (a first sync of a big
        community brings hundreds of join events)."""
        if event.state_key == self.app.matrix.user_id:
            return
        joined_at = datetime.fromtimestamp(event.server_timestamp / 1000, UTC)
        self._pending_joins.setdefault((room.room_id, event.state_key), joined_at)

    async def record_joins(self) -> None:
        pending, self._pending_joins = self._pending_joins, {}
        if not pending:
            return
        rooms = {room_id for room_id, _ in pending}
        try:
            async with self.app.db.session() as session:
                known = set(
                    (
                        await session.execute(
                            select(RoomMembership.room_id, RoomMembership.user_id).where(
                                RoomMembership.room_id.in_(rooms)
                            )
                        )
                    )
                    .tuples()
                    .all()
                )
                session.add_all(
                    RoomMembership(room_id=room_id, user_id=user_id, joined_at=joined_at)
                    for (room_id, user_id), joined_at in pending.items()
                    if (room_id, user_id) not in known
                )
        except IntegrityError:
            log.info("room joins were recorded concurrently")

    async def tell_undecryptable(self, room_id: str, event: MegolmEvent) -> None:
        room = self.app.matrix.client.rooms.get(room_id)
        if room is not None:
            await self._tell(room, event, "core_undecryptable")

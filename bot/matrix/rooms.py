"""Rooms: joins, direct chats (and refusals), room creation and invites, power levels, members."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from nio import JoinedMembersResponse, JoinError, MatrixRoom, RoomCreateError, RoomPreset
from sqlalchemy import select

from bot.matrix.base import (
    CREATOR_POWER_LEVEL,
    ENCRYPTION_STATE,
    DirectChatRefused,
    MatrixCore,
    MatrixError,
    _creators_are_privileged,
)
from storage.models import DirectRoom, RoomSetting

# One logger for the whole Matrix wire, named as before the split.
log = logging.getLogger(__package__)


class Rooms(MatrixCore):
    """The rooms the bot is in: joins, direct chats, rooms it creates, power levels, members."""

    # --- rooms ----------------------------------------------------------------------------------------------

    async def _join_configured_rooms(self) -> None:
        for room in self.app.settings.matrix.rooms:
            if room in self.client.rooms:
                continue
            response = await self.client.join(room)
            if isinstance(response, JoinError):
                log.error("could not join configured room %s: %s", room, response.message)
            else:
                await self._record_join(response.room_id)

    async def _record_join(self, room_id: str, *, direct: bool = False) -> None:
        async with self.app.db.session() as session:
            setting = await session.get(RoomSetting, room_id)
            now = datetime.now(UTC)
            if setting is None:
                session.add(RoomSetting(room_id=room_id, joined_at=now, direct=direct))
            else:
                setting.joined_at = now
                setting.direct = setting.direct or direct
        if direct:
            self._direct_rooms.add(room_id)
        self._left_rooms.discard(room_id)
        self._joined_at[room_id] = int(now.timestamp() * 1000)

    async def load_direct_rooms(self) -> None:
        async with self.app.db.session() as session:
            rows = await session.scalars(select(RoomSetting.room_id).where(RoomSetting.direct.is_(True)))
            self._direct_rooms = set(rows.all())
            refused = await session.scalars(
                select(DirectRoom.user_id).where(DirectRoom.refused_at.is_not(None))
            )
            self._refused_direct = set(refused.all())

    def direct_chat_refused(self, user_id: str) -> bool:
        return user_id in self._refused_direct

    async def _set_direct_refused(self, user_id: str, room_id: str | None) -> None:
        """Record a refusal (``room_id`` None) or a new direct chat the member opened (``room_id``)."""
        async with self.app.db.session() as session:
            row = await session.get(DirectRoom, user_id)
            if room_id is None:
                if row is not None:
                    row.refused_at = datetime.now(UTC)
                self._refused_direct.add(user_id)
            else:
                if row is None:
                    session.add(DirectRoom(user_id=user_id, room_id=room_id))
                else:
                    row.room_id, row.refused_at = room_id, None
                self._refused_direct.discard(user_id)
        if room_id is not None:
            self.app.sender.wake_destination(f"user:{user_id}")

    async def joined_at_ms(self, room_id: str) -> int | None:
        """When the bot (last) joined the room; cached, as it is asked for every incoming command."""
        if room_id not in self._joined_at:
            async with self.app.db.session() as session:
                setting = await session.get(RoomSetting, room_id)
            joined = setting.joined_at if setting is not None else None
            self._joined_at[room_id] = int(joined.timestamp() * 1000) if joined else None
        return self._joined_at[room_id]

    async def direct_room(self, user_id: str) -> str:
        """The room for direct messages with ``user_id``: found in the database or newly created.

        Raises :class:`DirectChatRefused` for a member who rejected the bot's direct chat: inviting them again
        for every message would be a nuisance; they get their messages once they open a chat with the bot."""
        if user_id in self._refused_direct:
            raise DirectChatRefused(user_id)
        async with self.app.db.session() as session:
            known = await session.get(DirectRoom, user_id)
        if known is not None:
            room = self.client.rooms.get(known.room_id)
            if room is None or user_id in room.users:
                return known.room_id
        initial_state = [ENCRYPTION_STATE] if self.app.settings.matrix.encryption else []
        response = await self.client.room_create(
            is_direct=True,
            invite=[user_id],
            preset=RoomPreset.trusted_private_chat,
            initial_state=initial_state,
        )
        if isinstance(response, RoomCreateError):
            raise MatrixError(f"could not create a direct room with {user_id}: {response.message}")
        room_id = response.room_id
        self._expected_members[room_id] = {user_id}
        async with self.app.db.session() as session:
            existing = await session.get(DirectRoom, user_id)
            if existing is None:
                session.add(DirectRoom(user_id=user_id, room_id=room_id))
            else:
                existing.room_id = room_id
        await self._record_join(room_id, direct=True)
        await self._mark_direct(user_id, room_id)
        return str(room_id)

    async def create_room(
        self,
        name: str,
        invite: list[str],
        *,
        topic: str | None = None,
        space_id: str | None = None,
        purpose_ends: datetime | None = None,
    ) -> str:
        """A private room for people (session rooms, networking pairs); encrypted unless disabled. The bot
        leaves it ``[bot] leave_created_rooms_after_hours`` after ``purpose_ends`` (default: now)."""
        initial_state: list[dict[str, Any]] = (
            [ENCRYPTION_STATE] if self.app.settings.matrix.encryption else []
        )
        if space_id:
            server = self.app.settings.matrix.server_name
            initial_state.append(
                {"type": "m.space.parent", "state_key": space_id, "content": {"via": [server]}}
            )
        response = await self.client.room_create(
            name=name, topic=topic, invite=invite, preset=RoomPreset.private_chat, initial_state=initial_state
        )
        if isinstance(response, RoomCreateError):
            raise MatrixError(f"could not create room {name!r}: {response.message}")
        self._expected_members[response.room_id] = set(invite)
        await self._record_join(response.room_id)
        from bot.housekeeping import remember_created_room

        await remember_created_room(self.app, response.room_id, purpose_ends)
        return str(response.room_id)

    async def invite(self, room_id: str, user_id: str) -> None:
        await self.client.room_invite(room_id, user_id)
        if room_id in self._expected_members:
            self._expected_members[room_id].add(user_id)

    async def _mark_direct(self, user_id: str, room_id: str) -> None:
        """Record the room in the bot's m.direct account data so clients show it as a direct chat."""
        path = f"/_matrix/client/v3/user/{self.client.user_id}/account_data/m.direct"
        headers = {"Authorization": f"Bearer {self.client.access_token}"}
        try:
            current: dict[str, list[str]] = {}
            response = await self.client.send("GET", path, headers=headers)
            if response.status == 200:
                current = await response.json()
            rooms = current.setdefault(user_id, [])
            if room_id not in rooms:
                rooms.append(room_id)
            await self.client.send("PUT", path, json.dumps(current), headers=headers)
        except Exception as exc:  # cosmetic only; the room works without it
            log.info("could not update m.direct: %s", exc)

    def is_direct_room(self, room: MatrixRoom) -> bool:
        """A direct chat: marked so at invitation or creation, or an unnamed room of the bot and one member.

        Power levels grant nothing there (a direct chat makes both sides admins)."""
        if room.room_id in self._direct_rooms:
            return True
        members = set(room.users) | set(room.invited_users)
        return len(members) <= 2 and not room.name

    async def power_level(self, room_id: str, user_id: str) -> int:
        room = self.client.rooms.get(room_id)
        if room is None:
            return 0
        # Since room version 12 the creators hold unlimited power and are not listed in m.room.power_levels.
        # nio keeps its default "1" when its schema rejects the create event (an upgrade to version 12 names
        # the predecessor without an event id): the version then comes from the homeserver with the creators.
        version = room.room_version
        if version == "1":
            await self.room_creators(room_id)
            version = self._room_versions.get(room_id, version)
        if _creators_are_privileged(version) and user_id in await self.room_creators(room_id):
            return CREATOR_POWER_LEVEL
        return int(room.power_levels.get_user_level(user_id))

    async def room_creators(self, room_id: str) -> set[str]:
        cached = self._creators.get(room_id)
        if cached is not None:
            return cached
        path = f"/_matrix/client/v3/rooms/{room_id}/state"
        headers = {"Authorization": f"Bearer {self.client.access_token}"}
        creators: set[str] = set()
        response = await self.client.send("GET", path, headers=headers)
        if response.status == 200:
            for event in await response.json():
                if event.get("type") == "m.room.create":
                    creators.add(event.get("sender", ""))
                    creators.update(event.get("content", {}).get("additional_creators", []))
                    self._room_versions[room_id] = str(event.get("content", {}).get("room_version", "1"))
            self._creators[room_id] = creators
        return creators

    async def room_members(self, room_id: str) -> list[str]:
        response = await self.client.joined_members(room_id)
        if isinstance(response, JoinedMembersResponse):
            return [member.user_id for member in response.members]
        room = self.client.rooms.get(room_id)
        return list(room.users) if room else []

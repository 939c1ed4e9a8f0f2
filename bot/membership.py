"""Who is a member of which room, asked of the homeserver and remembered briefly.

Features use it for things that belong to a room (an event, its sessions) when a member asks from somewhere
else (another room, a direct chat): only members of that room may see or join them. The answer comes from the
room's ``m.room.member`` state on the homeserver (the bot is in the room), not from nio's copy, which lags
behind for rooms with lazy-loaded members. Membership changes the bot sees in a sync drop the cached answer
(``forget``), so a member who just joined is not refused for the rest of the cache time.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING
from urllib.parse import quote

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger(__name__)

# Long enough that a member paging through an event's program asks the homeserver once, short enough that a
# change the bot did not see (a room it has left) is noticed soon.
CACHE_SECONDS = 60.0
MAX_CACHED = 10_000


class RoomMembership:
    def __init__(self, app: App, *, cache_seconds: float = CACHE_SECONDS) -> None:
        self.app = app
        self.cache_seconds = cache_seconds
        self._cache: dict[tuple[str, str], tuple[bool, float]] = {}

    async def is_member(self, room_id: str, user_id: str) -> bool:
        """Whether ``user_id`` has joined ``room_id`` (an invitation is not membership)."""
        key = (room_id, user_id)
        now = time.monotonic()
        cached = self._cache.get(key)
        if cached is not None and cached[1] > now:
            return cached[0]
        joined = await self._ask_homeserver(room_id, user_id)
        if joined is None:  # the homeserver did not answer: the bot's own view of the room, not cached
            room = self.app.matrix.client.rooms.get(room_id)
            return room is not None and user_id in room.users and user_id not in room.invited_users
        if len(self._cache) >= MAX_CACHED:
            self._cache = {k: v for k, v in self._cache.items() if v[1] > now}
            if len(self._cache) >= MAX_CACHED:
                self._cache.clear()
        self._cache[key] = (joined, now + self.cache_seconds)
        return joined

    def forget(self, room_id: str, user_id: str) -> None:
        """A membership change seen in the sync: the next question goes to the homeserver."""
        self._cache.pop((room_id, user_id), None)

    async def _ask_homeserver(self, room_id: str, user_id: str) -> bool | None:
        client = self.app.matrix.client
        room, user = quote(room_id, safe=""), quote(user_id, safe="")
        path = f"/_matrix/client/v3/rooms/{room}/state/m.room.member/{user}"
        headers = {"Authorization": f"Bearer {client.access_token}"}
        try:
            response = await client.send("GET", path, headers=headers)
            if response.status == 200:
                content = await response.json()
                return bool(content.get("membership") == "join")
            if response.status in (403, 404):
                # 404: never a member; 403: the bot is not in the room (any more) and cannot tell — nobody
                # gets to see the room's things through the bot then.
                return False
            log.warning("membership of a room member could not be read: HTTP %s", response.status)
        except Exception as exc:  # network trouble
            log.warning("membership of a room member could not be read: %s", exc)
        return None

"""The Matrix wire's shared parts: constants, the events handed on, errors, and the client with its state."""

from __future__ import annotations

import asyncio
import enum
import os
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nio import AsyncClientConfig, MatrixRoom, MegolmEvent
from nio.store import DefaultStore

from bot.crypto import BotClient, DeviceTrust

if TYPE_CHECKING:
    from bot.app import App

SYNC_TIMEOUT_MS = 30_000
# Synapse returns at most 100 timeline events per room and sync; fewer would make gaps more frequent.
SYNC_FILTER = {"room": {"timeline": {"limit": 100}}}
FIRST_SYNC_FILTER = {"room": {"timeline": {"limit": 1}}}
MAX_GAP_PAGES = 20
SYNC_TOKEN_SAVE_INTERVAL = 5.0
EventHandler = Callable[[MatrixRoom, Any], Awaitable[None]]


class RoomEvents(enum.StrEnum):
    """What the sync loop hands on to registered handlers (``MatrixBot.add_event_handler``), after its own
    checks (not the bot's own event, a device its owner verified, not history)."""

    MESSAGE = "message"  # handler(room, event): a text or file message
    REACTION = "reaction"  # handler(room, event)
    REDACTION = "redaction"  # handler(room, event)
    RELATED = "related"  # handler(room, event): another event type a handler asked for (poll responses …)
    MEMBER_JOINED = "member_joined"  # handler(room, event)
    UNDECRYPTABLE = "undecryptable"  # handler(room_id, event): still unreadable after waiting for its key
    SYNC_HANDLED = "sync_handled"  # handler(): every event of a sync was handed on


AnyHandler = Callable[..., Awaitable[None]]
SYNC_TOKEN_KEY = "sync_token"
ENCRYPTION_STATE = {
    "type": "m.room.encryption",
    "state_key": "",
    "content": {"algorithm": "m.megolm.v1.aes-sha2"},
}


CREATOR_POWER_LEVEL = 2**53 - 1


def _creators_are_privileged(room_version: str | None) -> bool:
    try:
        return int(room_version or "1") >= 12
    except ValueError:
        return False


class MatrixError(Exception):
    pass


# Answers that no retry can change: the event is too large, the bot may not post there (kicked, banned, no
# power), the room is gone, or the content is malformed. Rate limits, server errors and network trouble are
# not among them: those are retried.
PERMANENT_SEND_ERRORS = frozenset({"M_TOO_LARGE", "M_FORBIDDEN", "M_NOT_FOUND", "M_BAD_JSON", "M_NOT_JSON"})


class FileTooLarge(MatrixError):
    """An attachment over ``[bot] max_file_kb``: refused before it is read completely."""

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"file of {size} bytes is over the limit of {limit} bytes")
        self.size = size
        self.limit = limit


class DirectChatRefused(MatrixError):
    """The member rejected or left the bot's direct chat: their direct messages wait until they open one."""

    def __init__(self, user_id: str) -> None:
        super().__init__(f"{user_id} refused the direct chat")
        self.user_id = user_id


class PermanentSendError(MatrixError):
    """The homeserver refused an event for good (``errcode`` in :data:`PERMANENT_SEND_ERRORS`)."""

    def __init__(self, errcode: str, message: str) -> None:
        super().__init__(f"{errcode}: {message}")
        self.errcode = errcode


def announce_recovery_key(recovery_key: str) -> None:
    """Shown once, at the first start, on the console (not through logging, which may be shipped away)."""
    print(
        "\n" + "=" * 78 + "\n"
        "The bot's encryption identity was created. Its RECOVERY KEY (shown only this once):\n\n"
        f"    {recovery_key}\n\n"
        "Keep it in your password manager. If the store directory is ever lost, set it as\n"
        "[matrix] recovery_key (or COMMUNITY_BOT_MATRIX__RECOVERY_KEY) and the bot keeps its identity.\n"
        + "=" * 78
        + "\n",
        file=sys.stderr,
        flush=True,
    )


def is_allowed_inviter(inviter: str, allowed: list[str], trusted: set[str]) -> bool:
    """``allowed`` holds server names (``example.org``) and user IDs. Empty means: only ``trusted`` people
    (the configured admins and moderators) — the network is a protected space, and whoever brings the bot into
    a room becomes that room's moderator."""
    if not allowed:
        return inviter in trusted
    server = inviter.split(":", 1)[1] if ":" in inviter else ""
    return any(inviter == rule if rule.startswith("@") else server == rule for rule in allowed)


class BotStore(DefaultStore):  # type: ignore[misc]
    """nio's E2EE store, minus a write per sync: nio saves the set of newly seen encrypted rooms after every
    sync, and for the usual empty set that still meant a transaction with a query on the event loop (≈ 1.5 ms
    per sync, a fifth of the loop's busy time in the latency benchmark)."""

    def save_encrypted_rooms(self, rooms: set[str]) -> None:
        if rooms:
            super().save_encrypted_rooms(rooms)


class MatrixCore:
    """The nio client and the state the parts of :class:`bot.matrix.MatrixBot` share."""

    def __init__(self, app: App) -> None:
        self.app = app
        cfg = app.settings.matrix
        self.store_path = Path(cfg.store_path)
        # The store holds the device's keys, the access token and the cross-signing keys: owner only.
        self.store_path.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(self.store_path, 0o700)
        client_config = AsyncClientConfig(
            encryption_enabled=cfg.encryption,
            store=BotStore,
            # The bot stores the token itself (after each sync, in its database); nio's own copy would be a
            # second synchronous SQLite write per sync on the event loop.
            store_sync_tokens=False,
            # None (the default) keeps nio's retries with retry_after_ms; 0 would turn them off.
            max_limit_exceeded=None,
            max_timeouts=None,
            request_timeout=60,
        )
        self.client = BotClient(
            cfg.homeserver, cfg.user_id, store_path=str(self.store_path), config=client_config
        )
        self.device_trust = DeviceTrust(self.client, exclude_insecure=cfg.exclude_insecure_devices)
        self.client.device_trust = self.device_trust
        self.started_at_ms = int(time.time() * 1000)
        self.ready = asyncio.Event()
        self.last_sync_at: float | None = None  # time.monotonic() of the last successful sync (bot/web)
        self._synced = asyncio.Condition()
        self._stopping = False
        # Set when the bot cannot go on (token revoked and no password): the process ends with this message.
        self.fatal_error: str | None = None
        self._pending_undecryptable: dict[str, list[MegolmEvent]] = {}
        self._told_undecryptable: set[str] = set()
        self._creators: dict[str, set[str]] = {}
        self._room_versions: dict[str, str] = {}  # when nio could not read the create event (power_level)
        self._direct_rooms: set[str] = set()
        self._refused_direct: set[str] = set()
        self._joined_at: dict[str, int | None] = {}
        self._token_saved_at = float("-inf")
        self._dispatched_token: str | None = None
        self._left_rooms: set[str] = set()
        self._queued_events: list[tuple[EventHandler, MatrixRoom, Any]] = []
        self._event_handlers: dict[RoomEvents, list[AnyHandler]] = {}
        self._wanted_types: list[Callable[[str], bool]] = []
        # Rooms the bot created for particular people (intros, session rooms): messages there wait until those
        # people have joined, so that their devices get the room keys. In memory: after a restart such rooms
        # no longer wait (direct chats always wait for their member, see wait_for_invitees).
        self._expected_members: dict[str, set[str]] = {}

    @property
    def user_id(self) -> str:
        return str(self.client.user_id)

    async def wait_for_room(self, room_id: str, timeout: float = 30.0) -> MatrixRoom:
        deadline = asyncio.get_running_loop().time() + timeout
        while room_id not in self.client.rooms:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise MatrixError(f"room {room_id} did not appear in sync")
            async with self._synced:
                try:
                    await asyncio.wait_for(self._synced.wait(), remaining)
                except TimeoutError:
                    pass
        return self.client.rooms[room_id]

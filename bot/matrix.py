"""The Matrix wire: login and device reuse, E2EE, the sync loop, event intake and low-level sending."""

from __future__ import annotations

import asyncio
import enum
import json
import logging
import os
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from nio import (
    AsyncClientConfig,
    ForwardedRoomKeyEvent,
    InviteMemberEvent,
    JoinedMembersResponse,
    JoinError,
    LocalProtocolError,
    LoginResponse,
    MatrixRoom,
    MegolmEvent,
    ReactionEvent,
    RedactionEvent,
    RoomCreateError,
    RoomKeyEvent,
    RoomMemberEvent,
    RoomMessageFile,
    RoomMessagesResponse,
    RoomMessageText,
    RoomPreset,
    RoomSendResponse,
    RoomUpgradeEvent,
    SyncError,
    SyncResponse,
    UnknownEvent,
    UploadResponse,
    WhoamiResponse,
)
from nio.store import DefaultStore
from sqlalchemy import inspect, select

from bot.crypto import BotClient, CrossSigning, DeviceTrust
from storage.models import BotState, DirectRoom, RoomSetting

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger(__name__)

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


class MatrixBot:
    """Owns the nio client. Hands incoming events to the handlers registered for them (the router) and sends
    what the outbox gives it."""

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
        self._register_callbacks()

    # --- login ---------------------------------------------------------------------------------------------

    @property
    def user_id(self) -> str:
        return str(self.client.user_id)

    @property
    def credentials_file(self) -> Path:
        return self.store_path / "credentials.json"

    async def login(self) -> None:
        cfg = self.app.settings.matrix
        saved = self._load_credentials()
        if saved and saved.get("user_id") == cfg.user_id and saved.get("homeserver") == cfg.homeserver:
            self.client.restore_login(saved["user_id"], saved["device_id"], saved["access_token"])
            log.info("restored login for %s (device %s)", cfg.user_id, saved["device_id"])
            self.device_trust.on_store_loaded()
            return
        if cfg.access_token is not None:
            self.client.access_token = cfg.access_token.get_secret_value()
            whoami = await self.client.whoami()
            if not isinstance(whoami, WhoamiResponse) or not whoami.device_id:
                raise MatrixError(f"the access token was not accepted: {whoami}")
            self.client.restore_login(whoami.user_id, whoami.device_id, self.client.access_token)
        else:
            assert cfg.password is not None
            response = await self.client.login(cfg.password.get_secret_value(), device_name=cfg.device_name)
            if not isinstance(response, LoginResponse):
                raise MatrixError(f"login failed: {getattr(response, 'message', response)}")
            log.info("logged in as %s, new device %s", response.user_id, response.device_id)
        self._save_credentials()
        self.device_trust.on_store_loaded()

    def cross_signing(self) -> CrossSigning:
        cfg = self.app.settings.matrix
        return CrossSigning(
            self.client,
            self.store_path,
            password=cfg.password.get_secret_value() if cfg.password else None,
            recovery_key=cfg.recovery_key.get_secret_value() if cfg.recovery_key else None,
            announce_recovery_key=announce_recovery_key,
        )

    async def _renew_login(self, *, soft_logout: bool) -> bool:
        """The homeserver no longer accepts the access token (revoked, expired, device logged out): log in
        again with the password — as the same device, which the homeserver keeps after a soft logout and
        re-creates (without its keys) after a hard one. Without a password the bot stops with a message."""
        cfg = self.app.settings.matrix
        if cfg.password is None:
            self.fatal_error = (
                "The homeserver no longer accepts the bot's access token (M_UNKNOWN_TOKEN). Configure a new "
                "[matrix] access_token and delete credentials.json in store_path, or set [matrix] password "
                "(COMMUNITY_BOT_MATRIX__PASSWORD) so the bot can log in again by itself."
            )
            log.error("%s", self.fatal_error)
            self._stopping = True
            self.app.request_stop()
            return False
        kind = "soft logout" if soft_logout else "access token no longer valid"
        log.warning("%s: logging in again as device %s", kind, self.client.device_id)
        response = await self.client.login(cfg.password.get_secret_value(), device_name=cfg.device_name)
        if not isinstance(response, LoginResponse):
            log.error("logging in again failed: %s", getattr(response, "message", response))
            return False
        self._save_credentials()
        await self.prepare_encryption(check_device_keys=True)
        log.info("logged in again as %s, device %s", response.user_id, response.device_id)
        return True

    async def prepare_encryption(self, *, check_device_keys: bool = False) -> None:
        """Before the first sync: the device's keys are on the homeserver and cross-signed by the bot's
        identity (created at the first start), so Element clients share room keys with it.

        ``check_device_keys``: after a new login the device may have been re-created without its keys."""
        if not self.client.olm:
            return
        if check_device_keys and (await self.cross_signing().query_server()).device_keys is None:
            self.client.olm.account.shared = False  # nio then uploads the device keys again
        if self.client.should_upload_keys:
            await self.client.keys_upload()
        status = await self.cross_signing().ensure()
        log.info("cross-signing identity %s, device %s signed", status.master_key, status.device_id)

    def _load_credentials(self) -> dict[str, str] | None:
        try:
            data = json.loads(self.credentials_file.read_text())
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def _save_credentials(self) -> None:
        data = {
            "homeserver": self.app.settings.matrix.homeserver,
            "user_id": self.client.user_id,
            "device_id": self.client.device_id,
            "access_token": self.client.access_token,
        }
        tmp = self.credentials_file.with_suffix(".tmp")
        # Created with mode 0600, never readable by others, not even between writing and renaming.
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(json.dumps(data))
        os.chmod(tmp, 0o600)  # an older file of that name may have had other bits
        tmp.replace(self.credentials_file)

    # --- sync loop -----------------------------------------------------------------------------------------

    async def load_sync_token(self) -> str | None:
        """The stored sync position; None for a bot that never synced (fresh start).

        Read before the migrations run, so that the first sync can be requested while they do: a database
        without the ``bot_state`` table (created by the first migration, never changed since) is new."""
        async with self.app.db.session() as session:
            table = BotState.__tablename__
            has_table = await session.run_sync(lambda sync: inspect(sync.connection()).has_table(table))
            row = await session.get(BotState, SYNC_TOKEN_KEY) if has_table else None
        # nio restores the token only with encryption enabled; our own copy makes it work either way. nio's
        # "nothing loaded" is "", which must stay None here: only None selects the fresh-start path.
        return row.value if row else (getattr(self.client, "loaded_sync_token", None) or None)

    async def save_sync_token(self, token: str) -> None:
        async with self.app.db.session() as session:
            row = await session.get(BotState, SYNC_TOKEN_KEY)
            if row is None:
                session.add(BotState(key=SYNC_TOKEN_KEY, value=token))
            else:
                row.value = token

    async def run(self, since: str | None, storage_ready: asyncio.Event) -> None:
        """Sync from ``since`` until :meth:`stop`; survives homeserver outages with backoff.

        The first sync is requested right away — the homeserver needs a while to compose it for big rooms —
        and handled once ``storage_ready`` is set (migrations done)."""
        first = True
        backoff = 1.0
        while not self._stopping:
            previous = since if first else self.client.next_batch
            try:
                response = await self.client.sync(
                    timeout=0 if first else SYNC_TIMEOUT_MS,
                    # Without a stored position there is nothing to catch up on: old events are history.
                    sync_filter=SYNC_FILTER if previous is not None else FIRST_SYNC_FILTER,
                    since=since if first else None,
                    full_state=True if first else None,
                )
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # network trouble: keep trying
                log.warning("sync failed: %s; retrying in %.0fs", exc, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 30.0)
                continue
            if isinstance(response, SyncError) and response.status_code == "M_UNKNOWN_TOKEN":
                if not await self._renew_login(soft_logout=bool(getattr(response, "soft_logout", False))):
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, 30.0)
                continue
            if isinstance(response, SyncError):
                log.warning("sync error: %s; retrying in %.0fs", response.message, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 30.0)
                continue
            backoff = 1.0
            self.last_sync_at = time.monotonic()  # bot/web: /readyz and /metrics
            await storage_ready.wait()
            await self._dispatch(response, previous)
            await self._after_sync(response)
            if first:
                first = False
                await self._join_configured_rooms()
                self.ready.set()
                log.info("first sync done, %s rooms", len(self.client.rooms))

    async def _dispatch(self, response: SyncResponse, previous: str | None) -> None:
        """Hand the events of one sync to their handlers, oldest first, gaps filled.

        A sync returns at most ``SYNC_FILTER``'s limit of timeline events per room and marks the timeline
        "limited" when more happened (a burst of 200 sign-ups). The missing events are fetched with
        /messages between the previous sync position and the timeline's start, so no command is lost and
        the order of a room's commands (wait lists!) is kept."""
        queued, self._queued_events = self._queued_events, []
        self._note_left_rooms(response)
        if previous is None:
            # A fresh bot (no stored position) starts now: what its first sync shows happened before it ran —
            # old commands are not answered, old joins are not new members. Invites and room upgrades are
            # standing requests and are still followed.
            queued = [item for item in queued if item[0] in (self._on_invite, self._on_tombstone)]
        else:
            for room_id, info in response.rooms.join.items():
                if info.timeline.limited and info.timeline.prev_batch:
                    for event in await self._fill_gap(room_id, info.timeline.prev_batch, previous):
                        handler = self._handler_for(event)
                        room = self.client.rooms.get(room_id)
                        if handler is not None and room is not None:
                            await self._run_handler(handler, room, event)
        for handler, room, event in queued:
            await self._run_handler(handler, room, event)
        try:
            await self._hand_on(RoomEvents.SYNC_HANDLED)
        except Exception:
            log.exception("recording room joins failed")

    def _note_left_rooms(self, response: SyncResponse) -> None:
        """Rooms the bot left, was kicked or banned from (nio keeps them as if nothing happened): nothing is
        sent there any more — queued and scheduled messages fail at once instead of being retried."""
        for room_id, info in response.rooms.leave.items():
            events = [*info.state, *info.timeline.events]
            own = [e for e in events if isinstance(e, RoomMemberEvent) and e.state_key == self.client.user_id]
            membership = own[-1].membership if own else "leave"
            if membership not in ("leave", "ban") or room_id in self._left_rooms:
                continue
            by = own[-1].sender if own else "?"
            how = "banned" if membership == "ban" else ("left" if by == self.client.user_id else "kicked")
            log.info("%s %s (by %s): messages for it are dropped", how, room_id, by)
            self._left_rooms.add(room_id)
            self.client.rooms.pop(room_id, None)

    async def _fill_gap(self, room_id: str, start: str, end: str) -> list[Any]:
        missed: list[Any] = []
        for _ in range(MAX_GAP_PAGES):
            page = await self.client.room_messages(room_id, start, end=end, limit=100)
            if not isinstance(page, RoomMessagesResponse) or not page.chunk:
                break
            missed.extend(page.chunk)
            if not page.end or page.end == start:
                break
            start = page.end
        if missed:
            log.info("filled a gap of %s events in %s", len(missed), room_id)
        return list(reversed(missed))  # /messages pages backwards; handlers want oldest first

    async def _after_sync(self, response: SyncResponse) -> None:
        async with self._synced:
            self._synced.notify_all()
        await self._encryption_housekeeping()
        # Written at most every few seconds: an older token only means events are delivered again, and the
        # processed-events table makes sure none is acted on twice.
        now = time.monotonic()
        self._dispatched_token = response.next_batch
        if now - self._token_saved_at >= SYNC_TOKEN_SAVE_INTERVAL:
            await self.save_sync_token(response.next_batch)
            self._token_saved_at = now

    async def save_current_token(self) -> None:
        """At shutdown: the position after the last sync whose events were all handed to the router (nio's
        own position may be ahead of a sync that was cut off while being dispatched)."""
        if self._dispatched_token:
            await self.save_sync_token(self._dispatched_token)

    async def _encryption_housekeeping(self) -> None:
        client = self.client
        if not client.olm:
            return
        try:
            await client.send_to_device_messages()
            if client.should_upload_keys:
                await client.keys_upload()
            if client.should_query_keys:
                await client.keys_query()
            if client.should_claim_keys:
                await client.keys_claim(client.get_users_for_key_claiming())
        except LocalProtocolError as exc:
            log.debug("key maintenance skipped: %s", exc)

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

    def stop(self) -> None:
        self._stopping = True

    async def close(self) -> None:
        await self.client.close()

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

    # --- sending --------------------------------------------------------------------------------------------

    def _awaited_invitees(self, room_id: str, for_user: str | None) -> set[str]:
        room = self.client.rooms.get(room_id)
        if room is None or not room.encrypted:
            return set()
        expected = set(self._expected_members.get(room_id, ()))
        if for_user:
            expected.add(for_user)
        return expected & set(room.invited_users)

    async def wait_for_invitees(
        self, room_id: str, *, since: datetime, limit: timedelta | None, for_user: str | None = None
    ) -> bool:
        """True while people the bot invited into an encrypted room of its own (``for_user`` of a direct
        chat, the people of an intro or session room) have not joined yet and the wait is not over.

        Only those rooms wait: in a community room someone is always invited and never joins, and answers
        there must not wait for them. Waits for the next sync first, so callers can simply retry."""
        if not self._awaited_invitees(room_id, for_user):
            return False
        if limit is not None and datetime.now(UTC) - since > limit:
            return False
        async with self._synced:
            try:
                await asyncio.wait_for(self._synced.wait(), SYNC_TIMEOUT_MS / 1000)
            except TimeoutError:
                pass
        return bool(self._awaited_invitees(room_id, for_user))

    async def send_event(self, room_id: str, event_type: str, content: dict[str, Any], *, txn_id: str) -> str:
        if room_id in self._left_rooms:
            raise PermanentSendError("M_FORBIDDEN", "the bot is no longer in this room")
        room = self.client.rooms.get(room_id)
        if room is None:
            room = await self.wait_for_room(room_id)
        response = await self.client.room_send(
            room_id, event_type, content, tx_id=txn_id, ignore_unverified_devices=True
        )
        if not isinstance(response, RoomSendResponse):
            errcode = str(getattr(response, "status_code", "") or "")
            message = str(getattr(response, "message", response))
            if errcode in PERMANENT_SEND_ERRORS:
                raise PermanentSendError(errcode, message)
            raise MatrixError(f"send to {room_id} failed: {errcode} {message}")
        return str(response.event_id)

    async def react(self, room_id: str, event_id: str, key: str) -> None:
        content = {"m.relates_to": {"rel_type": "m.annotation", "event_id": event_id, "key": key}}
        await self.app.sender.enqueue(content, room_id=room_id, event_type="m.reaction")

    async def upload_content(
        self,
        room_id: str,
        data: bytes,
        *,
        filename: str,
        mimetype: str,
        image_size: tuple[int, int] | None = None,
    ) -> dict[str, Any]:
        room = self.client.rooms.get(room_id) or await self.wait_for_room(room_id)
        encrypt = bool(room.encrypted)
        response, keys = await self.client.upload(
            lambda *_: data, content_type=mimetype, filename=filename, encrypt=encrypt, filesize=len(data)
        )
        if not isinstance(response, UploadResponse):
            raise MatrixError(f"upload failed: {getattr(response, 'message', response)}")
        info: dict[str, Any] = {"mimetype": mimetype, "size": len(data)}
        if image_size:
            info["w"], info["h"] = image_size
        content: dict[str, Any] = {
            "msgtype": "m.image" if image_size else "m.file",
            "body": filename,
            "filename": filename,
            "info": info,
        }
        if encrypt and keys:
            content["file"] = {**keys, "url": response.content_uri}
        else:
            content["url"] = response.content_uri
        return content

    async def download(self, content: dict[str, Any], *, limit: int | None = None) -> bytes:
        """Fetch (and decrypt) the file of an m.file event's content, at most ``limit`` bytes
        (``[bot] max_file_kb``): checked against the declared size, the Content-Length and while reading, so
        a 23 MB upload is refused before it is in memory."""
        from nio.api import Api
        from nio.crypto.attachments import decrypt_attachment

        limit = limit if limit is not None else self.app.settings.bot.max_file_kb * 1024
        encrypted = content.get("file")
        url = encrypted["url"] if encrypted else content.get("url")
        if not url or not str(url).startswith("mxc://"):
            raise MatrixError("no file in message")
        declared = (content.get("info") or {}).get("size")
        if isinstance(declared, int | float) and declared > limit:
            raise FileTooLarge(int(declared), limit)
        server_name, _, media_id = str(url)[len("mxc://") :].partition("/")
        method, path = Api.download(server_name, media_id, access_token=self.client.access_token)
        response = await self.client.send(method, path)
        try:
            if response.status != 200:
                raise MatrixError(f"download failed: {response.status}")
            if response.content_length is not None and response.content_length > limit:
                raise FileTooLarge(response.content_length, limit)
            body = bytearray()
            async for chunk in response.content.iter_chunked(64 * 1024):
                body += chunk
                if len(body) > limit:
                    raise FileTooLarge(len(body), limit)
        finally:
            response.release()
        if encrypted:
            return bytes(
                decrypt_attachment(
                    bytes(body), encrypted["key"]["k"], encrypted["hashes"]["sha256"], encrypted["iv"]
                )
            )
        return bytes(body)

    async def redact(self, room_id: str, event_id: str, reason: str) -> bool:
        """Redact one of the bot's own events (e.g. a message that carried a member's personal file)."""
        response = await self.client.room_redact(room_id, event_id, reason=reason)
        ok = not hasattr(response, "status_code")
        if not ok:
            log.warning(
                "could not redact %s in %s: %s", event_id, room_id, getattr(response, "message", response)
            )
        return ok

    async def delete_media(self, mxc: str) -> bool:
        """Delete uploaded media on the bot's own homeserver. Matrix has no client API for it; Synapse's admin
        API works when the bot's account is a server admin. False when it could not be deleted."""
        server_name, _, media_id = mxc[len("mxc://") :].partition("/")
        if not mxc.startswith("mxc://") or server_name != self.app.settings.matrix.server_name:
            return False
        path = f"/_synapse/admin/v1/media/{quote(server_name, safe='')}/{quote(media_id, safe='')}"
        try:
            response = await self.client.send(
                "DELETE", path, headers={"Authorization": f"Bearer {self.client.access_token}"}
            )
        except Exception as exc:
            log.info("deleting media failed: %s", exc)
            return False
        return bool(response.status == 200)

    async def fetch_event(self, room_id: str, event_id: str) -> Any:
        response = await self.client.room_get_event(room_id, event_id)
        event = getattr(response, "event", None)
        if isinstance(event, MegolmEvent):
            event = self.client.decrypt_event(event)
        return event

    # --- incoming events ----------------------------------------------------------------------------------

    def add_event_handler(
        self, kind: RoomEvents, handler: AnyHandler, *, wants_type: Callable[[str], bool] | None = None
    ) -> None:
        """Hand events of ``kind`` to ``handler`` (as mautrix's ``add_event_handler``). For ``RELATED``,
        ``wants_type`` says which event types the handler takes: only those are checked and handed on."""
        self._event_handlers.setdefault(kind, []).append(handler)
        if wants_type is not None:
            self._wanted_types.append(wants_type)

    def handlers(self, kind: RoomEvents) -> tuple[AnyHandler, ...]:
        return tuple(self._event_handlers.get(kind, ()))

    async def _hand_on(self, kind: RoomEvents, *args: Any) -> None:
        for handler in self._event_handlers.get(kind, ()):
            await handler(*args)

    def _register_callbacks(self) -> None:
        self._handlers: list[tuple[tuple[type, ...], EventHandler]] = [
            ((RoomMessageText, RoomMessageFile), self._on_message),
            ((MegolmEvent,), self._on_undecryptable),
            ((ReactionEvent,), self._on_reaction),
            ((RedactionEvent,), self._on_redaction),
            ((RoomMemberEvent,), self._on_member),
            ((RoomUpgradeEvent,), self._on_tombstone),
            ((InviteMemberEvent,), self._on_invite),
            ((UnknownEvent,), self._on_other),
        ]
        for types, handler in self._handlers:
            self.client.add_event_callback(self._queue_for(handler), types)  # type: ignore[arg-type]
        self.client.add_to_device_callback(self._guarded_to_device, (RoomKeyEvent, ForwardedRoomKeyEvent))

    def _queue_for(self, handler: EventHandler) -> Callable[..., Awaitable[None]]:
        """nio runs callbacks while it processes a sync; the bot collects them and dispatches afterwards,
        when it knows whether older events of the same room must be fetched first."""

        async def collect(room: MatrixRoom, event: Any) -> None:
            self._queued_events.append((handler, room, event))

        return collect

    def _handler_for(self, event: Any) -> EventHandler | None:
        return next((handler for types, handler in self._handlers if isinstance(event, types)), None)

    async def _run_handler(self, handler: EventHandler, room: MatrixRoom, event: Any) -> None:
        try:
            await handler(room, event)
        except Exception:
            log.exception("error while handling %s in %s", type(event).__name__, room.room_id)

    def is_fresh(self, event: Any, joined_at_ms: int | None) -> bool:
        """Timeline events from before the start window or before the bot joined are history, not commands."""
        max_age_ms = self.app.settings.bot.command_max_age_minutes * 60_000
        ts = int(getattr(event, "server_timestamp", 0) or 0)
        if ts < self.started_at_ms - max_age_ms:
            return False
        return not (joined_at_ms is not None and ts < joined_at_ms)

    async def _on_message(self, room: MatrixRoom, event: Any) -> None:
        if event.sender == self.client.user_id or not await self.device_trust.accepts(event):
            return
        await self._hand_on(RoomEvents.MESSAGE, room, event)

    async def _on_reaction(self, room: MatrixRoom, event: ReactionEvent) -> None:
        if event.sender == self.client.user_id or not await self.device_trust.accepts(event):
            return
        await self._hand_on(RoomEvents.REACTION, room, event)

    async def _on_redaction(self, room: MatrixRoom, event: RedactionEvent) -> None:
        if event.sender == self.client.user_id or not await self.device_trust.accepts(event):
            return
        await self._hand_on(RoomEvents.REDACTION, room, event)

    async def _on_other(self, room: MatrixRoom, event: UnknownEvent) -> None:
        """Event types nio does not know (poll responses …), for the handlers that asked for their type."""
        if event.sender == self.client.user_id or not any(wants(event.type) for wants in self._wanted_types):
            return
        if await self.device_trust.accepts(event):
            await self._hand_on(RoomEvents.RELATED, room, event)

    async def _on_member(self, room: MatrixRoom, event: RoomMemberEvent) -> None:
        self.app.membership.forget(room.room_id, event.state_key)
        if event.membership == "join" and event.prev_membership != "join":
            await self._hand_on(RoomEvents.MEMBER_JOINED, room, event)
        elif (
            event.membership in ("leave", "ban")
            and event.state_key != self.client.user_id
            and room.room_id in self._direct_rooms
            and event.state_key not in self._refused_direct
        ):
            async with self.app.db.session() as session:
                known = await session.get(DirectRoom, event.state_key)
            if known is not None and known.room_id == room.room_id:
                how = "rejected" if event.prev_membership == "invite" else "left"
                log.info("%s %s the direct chat; their direct messages wait", event.state_key, how)
                await self._set_direct_refused(event.state_key, None)

    async def _on_invite(self, room: MatrixRoom, event: InviteMemberEvent) -> None:
        if event.state_key != self.client.user_id or event.membership != "invite":
            return
        cfg = self.app.settings.matrix
        inviter = event.sender
        if is_allowed_inviter(inviter, cfg.allowed_inviters, self._trusted_people()):
            response = await self.client.join(room.room_id)
            if isinstance(response, JoinError):
                log.warning(
                    "joining %s after invite from %s failed: %s", room.room_id, inviter, response.message
                )
                return
            log.info("joined %s (invited by %s)", room.room_id, inviter)
            is_direct = bool((getattr(event, "content", None) or {}).get("is_direct"))
            await self._record_join(room.room_id, direct=is_direct)
            if is_direct and inviter in self._refused_direct:
                # The member opened a direct chat after refusing the bot's: their waiting messages go here.
                await self._set_direct_refused(inviter, room.room_id)
        else:
            log.warning("rejected invite to %s from not-allowed inviter %s", room.room_id, inviter)
            await self.client.room_leave(room.room_id)

    def _trusted_people(self) -> set[str]:
        bot = self.app.settings.bot
        return {*bot.admins, *bot.moderators}

    async def _on_tombstone(self, room: MatrixRoom, event: RoomUpgradeEvent) -> None:
        """Follow the upgrade and move the room's data to the successor (bot/room_upgrades.py)."""
        if not event.replacement_room:
            return
        from bot.room_upgrades import follow

        await follow(self.app, room.room_id, event.replacement_room, event.sender)

    async def joined_successor(self, old: str, new: str) -> None:
        """The bot joined ``new``, the successor of ``old``: a direct chat if ``old`` was one."""
        await self._record_join(new, direct=old in self._direct_rooms)

    async def _on_undecryptable(self, room: MatrixRoom, event: MegolmEvent) -> None:
        if event.sender == self.client.user_id or not self.is_fresh(
            event, await self.joined_at_ms(room.room_id)
        ):
            return
        log.info(
            "cannot decrypt %s from %s (session %s); requesting keys",
            event.event_id,
            event.sender,
            event.session_id,
        )
        # Every event of the session waits, in timeline order: a member's three commands (or a command and a
        # reaction) sent before their key arrived all run when it does.
        waiting = self._pending_undecryptable.setdefault(event.session_id, [])
        waiting.append(event)
        if len(waiting) == 1:
            try:
                await self.client.request_room_key(event)
            except Exception as exc:  # a duplicate request raises; that is fine
                log.debug("room key request: %s", exc)
        asyncio.get_running_loop().call_later(
            10, lambda: self.app.in_background(self._tell_undecryptable(room.room_id, event))
        )

    async def _guarded_to_device(self, event: Any) -> None:
        session_id = getattr(event, "session_id", None)
        waiting = self._pending_undecryptable.pop(session_id, []) if session_id else []
        for pending in waiting:
            try:
                decrypted = self.client.decrypt_event(pending)
                room = self.client.rooms.get(pending.room_id)
                handler = self._handler_for(decrypted)
                if room is not None and handler is not None and handler != self._on_undecryptable:
                    await self._run_handler(handler, room, decrypted)
            except Exception:
                log.exception("retrying decryption of %s failed", pending.event_id)

    async def _tell_undecryptable(self, room_id: str, event: MegolmEvent) -> None:
        waiting = self._pending_undecryptable.get(event.session_id, [])
        if event not in waiting:
            return  # the keys arrived meanwhile
        waiting.remove(event)
        if not waiting:
            del self._pending_undecryptable[event.session_id]
        if event.sender in self._told_undecryptable:
            return
        self._told_undecryptable.add(event.sender)
        await self._hand_on(RoomEvents.UNDECRYPTABLE, room_id, event)

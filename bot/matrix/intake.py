"""Event intake: nio's callbacks, the checks before an event is handed on, invites, room upgrades,
undecryptable events."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from nio import (
    ForwardedRoomKeyEvent,
    InviteMemberEvent,
    JoinError,
    MatrixRoom,
    MegolmEvent,
    ReactionEvent,
    RedactionEvent,
    RoomKeyEvent,
    RoomMemberEvent,
    RoomMessageFile,
    RoomMessageText,
    RoomUpgradeEvent,
    UnknownEvent,
)

from bot.matrix.base import AnyHandler, EventHandler, RoomEvents, is_allowed_inviter
from bot.matrix.rooms import Rooms
from storage.models import DirectRoom

# One logger for the whole Matrix wire, named as before the split.
log = logging.getLogger(__package__)


class Intake(Rooms):
    """From nio's callbacks to the registered handlers (``add_event_handler``), after the bot's checks."""

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

"""The sync loop: stored position, outages, gaps filled, events handed on in order, encryption upkeep."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from nio import LocalProtocolError, RoomMemberEvent, RoomMessagesResponse, SyncError, SyncResponse
from sqlalchemy import inspect

from bot.matrix.base import (
    FIRST_SYNC_FILTER,
    MAX_GAP_PAGES,
    SYNC_FILTER,
    SYNC_TIMEOUT_MS,
    SYNC_TOKEN_KEY,
    SYNC_TOKEN_SAVE_INTERVAL,
    RoomEvents,
)
from bot.matrix.intake import Intake
from bot.matrix.login import Login
from storage.models import BotState

# One logger for the whole Matrix wire, named as before the split.
log = logging.getLogger(__package__)


class Sync(Login, Intake):
    """The sync loop and its position; hands each sync's events on through :class:`Intake`."""

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

    def stop(self) -> None:
        self._stopping = True

    async def close(self) -> None:
        await self.client.close()

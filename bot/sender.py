"""Sending: every outgoing message goes through a database outbox.

Each row carries a Matrix transaction id chosen when the message is composed, so a retry — after a crash,
too — cannot post it twice. A row leaves the queue only once the homeserver accepted the event: a reply
composed while the homeserver is down is delivered once it is back. Replies are sent while their row is being
written (the row is there to retry, and the transaction id makes sending first safe); rows that handlers add
inside their own transaction are sent after that transaction committed.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import deque
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update

from bot.format import to_html, to_plain
from bot.matrix import DirectChatRefused, PermanentSendError
from bot.outbox_rows import OUTBOX, STORED_COLUMNS, mark_sent, store_row
from storage.models import OutboxMessage

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 60.0
GIVE_UP_AFTER_ATTEMPTS = 50
INVITEE_WAIT = timedelta(minutes=10)


def pill(user_id: str, name: str | None = None) -> str:
    """A Markdown link that Matrix clients show as a user pill."""
    from bot.format import esc

    return f"[{esc(name or user_id)}](https://matrix.to/#/{user_id})"


def message_content(
    markdown: str,
    *,
    notice: bool = True,
    mentions: tuple[str, ...] = (),
    reply_to: str | None = None,
    thread_root: str | None = None,
) -> dict[str, Any]:
    content: dict[str, Any] = {
        "msgtype": "m.notice" if notice else "m.text",
        "body": to_plain(markdown),
        "format": "org.matrix.custom.html",
        "formatted_body": to_html(markdown),
        # Always explicit: only the users we name are pinged, never @room, whatever the text says.
        "m.mentions": {"user_ids": sorted(set(mentions))},
    }
    if thread_root:
        content["m.relates_to"] = {
            "rel_type": "m.thread",
            "event_id": thread_root,
            "is_falling_back": reply_to is None,
            "m.in_reply_to": {"event_id": reply_to or thread_root},
        }
    elif reply_to:
        content["m.relates_to"] = {"m.in_reply_to": {"event_id": reply_to}}
    return content


class Sender:
    """The outbox: rows are written first, then delivered by one worker per destination, in order.

    Rows created here are queued in memory right away (no database read on the way out); rows that other
    transactions add (:meth:`prepare` + :meth:`wake`) and rows left over from a previous run are picked up by
    a scan of the table. Destinations are independent, so a room that has to wait (homeserver trouble,
    invitees that have not joined an encrypted room yet) never holds up the others."""

    def __init__(self, app: App) -> None:
        self.app = app
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._queues: dict[str, deque[OutboxMessage]] = {}
        self._queued: set[str] = set()  # transaction ids
        self._storing: dict[str, asyncio.Task[None]] = {}  # rows sent while their insert runs
        # Rows handed out by prepare()/prepare_content() since the last scan: only then can a wake() find any.
        self._prepared = False
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._destination_wake: dict[str, asyncio.Event] = {}

    async def send(
        self,
        markdown: str,
        *,
        room_id: str | None = None,
        to_user: str | None = None,
        reply_to: str | None = None,
        mentions: tuple[str, ...] = (),
        track: tuple[str, int | None] | None = None,
        thread_root: str | None = None,
        notice: bool = True,
    ) -> int:
        content = message_content(
            markdown, notice=notice, mentions=mentions, reply_to=reply_to, thread_root=thread_root
        )
        return await self.enqueue(content, room_id=room_id, to_user=to_user, track=track)

    def prepare(
        self,
        markdown: str,
        *,
        room_id: str | None = None,
        to_user: str | None = None,
        mentions: tuple[str, ...] = (),
        track: tuple[str, int | None] | None = None,
        reply_to: str | None = None,
    ) -> OutboxMessage:
        """An outbox row to add inside the caller's transaction (state change and message commit together).

        Call :meth:`wake` after the commit."""
        content = message_content(markdown, mentions=mentions, reply_to=reply_to)
        return self.prepare_content(content, room_id=room_id, to_user=to_user, track=track)

    def prepare_content(
        self,
        content: dict[str, Any],
        *,
        room_id: str | None = None,
        to_user: str | None = None,
        track: tuple[str, int | None] | None = None,
        event_type: str = "m.room.message",
    ) -> OutboxMessage:
        self._prepared = True
        return self._new_row(content, room_id=room_id, to_user=to_user, track=track, event_type=event_type)

    @staticmethod
    def _new_row(
        content: dict[str, Any],
        *,
        room_id: str | None,
        to_user: str | None,
        track: tuple[str, int | None] | None,
        event_type: str,
    ) -> OutboxMessage:
        if (room_id is None) == (to_user is None):
            raise ValueError("give exactly one of room_id and to_user")
        return OutboxMessage(
            room_id=room_id,
            to_user=to_user,
            content={"type": event_type, "content": content},
            track_kind=track[0] if track else None,
            track_ref=track[1] if track else None,
            created_at=datetime.now(UTC),
            attempts=0,
            txn_id=f"cb-{uuid.uuid4().hex}",
        )

    def wake(self) -> None:
        """Rows were committed by someone else: scan the outbox (if any were prepared since the last scan —
        handlers call this after every state change, most of which queue no message)."""
        if not self._prepared:
            return
        self._idle.clear()
        self._wake.set()

    async def enqueue(
        self,
        content: dict[str, Any],
        *,
        room_id: str | None = None,
        to_user: str | None = None,
        track: tuple[str, int | None] | None = None,
        event_type: str = "m.room.message",
    ) -> int:
        row = self._new_row(content, room_id=room_id, to_user=to_user, track=track, event_type=event_type)
        stored = asyncio.create_task(self._store(row))
        self._push(row, stored)
        # Shielded: a caller cancelled at shutdown must not cancel the write of a message that may be out.
        await asyncio.shield(stored)
        return row.id

    async def _store(self, row: OutboxMessage) -> None:
        values = {column: getattr(row, column) for column in STORED_COLUMNS}
        row.id = await store_row(self.app.db, values)

    async def send_file(
        self,
        data: bytes,
        *,
        filename: str,
        mimetype: str,
        room_id: str | None = None,
        to_user: str | None = None,
        caption: str | None = None,
        image_size: tuple[int, int] | None = None,
        reply_to: str | None = None,
        thread_root: str | None = None,
    ) -> int:
        """Upload (encrypted for encrypted rooms) and queue an m.file / m.image message (in ``thread_root``'s
        thread when given, as the answer to a command sent in a thread)."""
        target_room = room_id or await self.app.matrix.direct_room(to_user or "")
        content = await self.app.matrix.upload_content(
            target_room, data, filename=filename, mimetype=mimetype, image_size=image_size
        )
        if caption:
            content["body"] = caption
            content["filename"] = filename
        if thread_root and room_id:
            content["m.relates_to"] = {
                "rel_type": "m.thread",
                "event_id": thread_root,
                "is_falling_back": reply_to is None,
                "m.in_reply_to": {"event_id": reply_to or thread_root},
            }
        elif reply_to:
            content["m.relates_to"] = {"m.in_reply_to": {"event_id": reply_to}}
        return await self.enqueue(content, room_id=target_room)

    async def wait_idle(self, timeout: float = 30.0) -> None:
        await asyncio.wait_for(self._idle.wait(), timeout)

    async def run(self) -> None:
        """Scan the outbox at start, whenever woken, and every half minute as a safety net."""
        while True:
            self._wake.clear()
            self._prepared = False
            try:
                await self._scan()
            except Exception:
                log.exception("reading the outbox failed")
            self._restart_missing_workers()
            self._update_idle()
            try:
                await asyncio.wait_for(self._wake.wait(), 30.0)
            except TimeoutError:
                pass

    async def _scan(self) -> None:
        async with self.app.db.session() as session:
            rows = await session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.sent_at.is_(None), OutboxMessage.failed_at.is_(None))
                .order_by(OutboxMessage.id)
            )
            for row in rows.all():
                self._push(row)

    @staticmethod
    def _destination(row: OutboxMessage) -> str:
        return row.room_id or f"user:{row.to_user}"

    @staticmethod
    def _txn_id(row: OutboxMessage) -> str:
        return row.txn_id or f"cb{row.id}"

    def _push(self, row: OutboxMessage, stored: asyncio.Task[None] | None = None) -> None:
        txn_id = self._txn_id(row)
        if txn_id in self._queued:
            return
        self._queued.add(txn_id)
        if stored is not None:
            self._storing[txn_id] = stored
        destination = self._destination(row)
        self._queues.setdefault(destination, deque()).append(row)
        self._idle.clear()
        self._ensure_worker(destination)

    def _ensure_worker(self, destination: str) -> bool:
        """Start the destination's worker unless it runs; True if one had to be started."""
        worker = self._workers.get(destination)
        if worker is not None and not worker.done():
            return False
        self._workers[destination] = asyncio.create_task(
            self._work(destination), name=f"outbox {destination}"
        )
        return True

    def _update_idle(self) -> None:
        if not any(self._queues.values()):
            self._idle.set()

    async def _work(self, destination: str) -> None:
        """Deliver a destination's rows in order. Survives any error: a failing database or a bug in one
        delivery delays this destination (with back-off), never ends its worker."""
        queue = self._queues[destination]
        backoff = 1.0
        while queue:
            row = queue[0]
            try:
                outcome = await self._deliver(row)
            except Exception:
                log.exception("outbox worker for %s: delivering message %s failed", destination, row.id)
                outcome = False
            if outcome is None:
                continue
            if outcome:
                queue.popleft()
                self._queued.discard(self._txn_id(row))
                self._storing.pop(self._txn_id(row), None)
                backoff = 1.0
                continue
            woken = self._destination_wake.setdefault(destination, asyncio.Event())
            try:
                await asyncio.wait_for(woken.wait(), backoff)
            except TimeoutError:
                pass
            woken.clear()
            backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
        self._update_idle()

    def wake_destination(self, destination: str) -> None:
        """Retry a waiting destination now (e.g. a member opened a direct chat after refusing one)."""
        self._destination_wake.setdefault(destination, asyncio.Event()).set()

    def _restart_missing_workers(self) -> None:
        for destination, queue in self._queues.items():
            if queue and self._ensure_worker(destination):
                log.warning("outbox worker for %s was gone; restarted", destination)

    async def _deliver(self, row: OutboxMessage) -> bool | None:
        """True: delivered (or failed for good); False: failed, retry later; None: held back, retry now."""
        matrix = self.app.matrix
        try:
            room_id = row.room_id or await matrix.direct_room(row.to_user or "")
            # Keys of an encrypted room reach only members' devices: hold the message until the people the
            # bot invited into a room of its own have joined (direct chats wait as long as it takes; intro and
            # session rooms a few minutes). Community rooms never wait.
            limit = None if row.to_user else INVITEE_WAIT
            if await matrix.wait_for_invitees(
                room_id, since=row.created_at, limit=limit, for_user=row.to_user
            ):
                return None
            event_id = await matrix.send_event(
                room_id, row.content["type"], row.content["content"], txn_id=self._txn_id(row)
            )
        except DirectChatRefused:
            # Held, not failed: the member gets it once they open a direct chat with the bot.
            return False
        except PermanentSendError as exc:
            if await self._stored(row):
                log.warning(
                    "outbox message %s to %s refused by the homeserver for good (%s); marked failed",
                    row.id,
                    self._destination(row),
                    exc.errcode,
                )
                await self._mark_failed(row, str(exc))
            return True
        except Exception as exc:  # delivery problems must never stop the queue
            if not await self._stored(row):
                return True  # the caller was told; without a row there is nothing to retry from
            row.attempts = (row.attempts or 0) + 1
            gave_up = row.attempts >= GIVE_UP_AFTER_ATTEMPTS
            log.warning("sending outbox message %s failed (attempt %s): %s", row.id, row.attempts, exc)
            if gave_up:
                await self._mark_failed(row, str(exc))
            else:
                async with self.app.db.transaction() as connection:
                    await connection.execute(
                        update(OUTBOX)
                        .where(OUTBOX.c.id == row.id)
                        .values(attempts=row.attempts, last_error=str(exc)[:500])
                    )
            return gave_up
        if not await self._stored(row):
            return True  # sent, but the caller's write failed (and the caller was told)
        track = (row.track_kind, row.track_ref) if row.track_kind else None
        await mark_sent(
            self.app.db, row.id, event_id=event_id, room_id=room_id, now=datetime.now(UTC), track=track
        )
        return True

    async def _mark_failed(self, row: OutboxMessage, reason: str) -> None:
        async with self.app.db.transaction() as connection:
            await connection.execute(
                update(OUTBOX)
                .where(OUTBOX.c.id == row.id)
                .values(attempts=row.attempts, last_error=reason[:500], failed_at=datetime.now(UTC))
            )

    async def _stored(self, row: OutboxMessage) -> bool:
        """Whether the row exists (waits for an insert that is still running)."""
        stored = self._storing.get(self._txn_id(row))
        if stored is None:
            return True
        try:
            await stored
        except Exception:
            return False
        return True

"""Sending: every outgoing message goes through a database outbox.

The row is written first and deleted from the queue only once the homeserver accepted the event (with a
transaction id derived from the row id, so a retry after a crash cannot post it twice). A reply composed while
the homeserver is down is therefore delivered once it is back.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from bot.format import to_html, to_plain
from storage.models import BotMessage, OutboxMessage

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 60.0
GIVE_UP_AFTER_ATTEMPTS = 50


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
    def __init__(self, app: App) -> None:
        self.app = app
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()

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
        if (room_id is None) == (to_user is None):
            raise ValueError("give exactly one of room_id and to_user")
        content = message_content(markdown, mentions=mentions, reply_to=reply_to)
        return OutboxMessage(
            room_id=room_id,
            to_user=to_user,
            content={"type": "m.room.message", "content": content},
            track_kind=track[0] if track else None,
            track_ref=track[1] if track else None,
        )

    def wake(self) -> None:
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
        if (room_id is None) == (to_user is None):
            raise ValueError("give exactly one of room_id and to_user")
        row = OutboxMessage(
            room_id=room_id,
            to_user=to_user,
            content={"type": event_type, "content": content},
            track_kind=track[0] if track else None,
            track_ref=track[1] if track else None,
        )
        async with self.app.db.session() as session:
            session.add(row)
            await session.flush()
            row_id = row.id
        self.wake()
        return row_id

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
    ) -> int:
        """Upload (encrypted for encrypted rooms) and queue an m.file / m.image message."""
        target_room = room_id or await self.app.matrix.direct_room(to_user or "")
        content = await self.app.matrix.upload_content(
            target_room, data, filename=filename, mimetype=mimetype, image_size=image_size
        )
        if caption:
            content["body"] = caption
            content["filename"] = filename
        return await self.enqueue(content, room_id=target_room)

    async def wait_idle(self, timeout: float = 30.0) -> None:
        await asyncio.wait_for(self._idle.wait(), timeout)

    async def run(self) -> None:
        """Deliver queued messages in order until cancelled."""
        backoff = 1.0
        while True:
            self._wake.clear()
            delivered_all = await self._deliver_pending()
            if delivered_all:
                backoff = 1.0
                self._idle.set()
                await self._wake.wait()
            else:
                try:
                    await asyncio.wait_for(self._wake.wait(), backoff)
                except TimeoutError:
                    pass
                backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)

    async def _deliver_pending(self) -> bool:
        async with self.app.db.session() as session:
            pending = list(
                (
                    await session.scalars(
                        select(OutboxMessage)
                        .where(OutboxMessage.sent_at.is_(None))
                        .order_by(OutboxMessage.id)
                    )
                ).all()
            )
        if not pending:
            return True
        # Different rooms are independent; within a room the order of the queue is kept.
        by_destination: dict[str, list[OutboxMessage]] = {}
        for row in pending:
            by_destination.setdefault(row.room_id or f"user:{row.to_user}", []).append(row)
        results = await asyncio.gather(*(self._deliver_queue(rows) for rows in by_destination.values()))
        return all(results)

    async def _deliver_queue(self, rows: list[OutboxMessage]) -> bool:
        for row in rows:
            if not await self._deliver(row):
                return False
        return True

    async def _deliver(self, row: OutboxMessage) -> bool:
        matrix = self.app.matrix
        try:
            room_id = row.room_id or await matrix.direct_room(row.to_user or "")
            event_id = await matrix.send_event(
                room_id, row.content["type"], row.content["content"], txn_id=f"cb{row.id}"
            )
        except Exception as exc:  # delivery problems must never stop the queue
            attempts = row.attempts + 1
            gave_up = attempts >= GIVE_UP_AFTER_ATTEMPTS
            log.warning("sending outbox message %s failed (attempt %s): %s", row.id, attempts, exc)
            async with self.app.db.session() as session:
                stored = await session.get(OutboxMessage, row.id)
                if stored is not None:
                    stored.attempts = attempts
                    stored.last_error = str(exc)[:500]
                    if gave_up:
                        stored.sent_at = datetime.now(UTC)
            return gave_up
        async with self.app.db.session() as session:
            stored = await session.get(OutboxMessage, row.id)
            if stored is not None:
                stored.sent_at = datetime.now(UTC)
                stored.sent_event_id = event_id
                stored.room_id = room_id
            if row.track_kind:
                session.add(
                    BotMessage(event_id=event_id, room_id=room_id, kind=row.track_kind, ref_id=row.track_ref)
                )
        return True

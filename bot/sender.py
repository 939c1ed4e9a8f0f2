"""Sending: every outgoing message goes through a database outbox.

The row is written first and deleted from the queue only once the homeserver accepted the event (with a
transaction id derived from the row id, so a retry after a crash cannot post it twice). A reply composed while
the homeserver is down is therefore delivered once it is back.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from bot.format import to_html, to_plain
from storage.models import BotMessage, OutboxMessage

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
        reply_to: str | None = None,
    ) -> int:
        """Upload (encrypted for encrypted rooms) and queue an m.file / m.image message."""
        target_room = room_id or await self.app.matrix.direct_room(to_user or "")
        content = await self.app.matrix.upload_content(
            target_room, data, filename=filename, mimetype=mimetype, image_size=image_size
        )
        if caption:
            content["body"] = caption
            content["filename"] = filename
        if reply_to:
            content["m.relates_to"] = {"m.in_reply_to": {"event_id": reply_to}}
        return await self.enqueue(content, room_id=target_room)

    async def wait_idle(self, timeout: float = 30.0) -> None:
        await asyncio.wait_for(self._idle.wait(), timeout)

    async def run(self) -> None:
        """Deliver queued messages until cancelled: one worker per destination, in queue order.

        Destinations are independent, so a room that must wait (homeserver trouble, invitees that have not
        joined an encrypted room yet) never holds up the others."""
        workers: dict[str, asyncio.Task[None]] = {}
        while True:
            self._wake.clear()
            try:
                destinations = await self._pending_destinations()
            except Exception:
                log.exception("reading the outbox failed")
                destinations = set()
            for destination in destinations:
                if destination not in workers or workers[destination].done():
                    workers[destination] = asyncio.create_task(
                        self._work(destination), name=f"outbox {destination}"
                    )
            for destination in [d for d, task in workers.items() if task.done()]:
                del workers[destination]
            if not workers and not destinations:
                self._idle.set()
            try:
                await asyncio.wait_for(self._wake.wait(), 5.0)
            except TimeoutError:
                pass

    @staticmethod
    def _destination(row: OutboxMessage) -> str:
        return row.room_id or f"user:{row.to_user}"

    async def _pending_destinations(self) -> set[str]:
        async with self.app.db.session() as session:
            rows = (
                await session.execute(
                    select(OutboxMessage.room_id, OutboxMessage.to_user).where(
                        OutboxMessage.sent_at.is_(None)
                    )
                )
            ).all()
        return {room_id or f"user:{to_user}" for room_id, to_user in rows}

    async def _work(self, destination: str) -> None:
        backoff = 1.0
        while True:
            async with self.app.db.session() as session:
                statement = select(OutboxMessage).where(OutboxMessage.sent_at.is_(None))
                if destination.startswith("user:"):
                    statement = statement.where(
                        OutboxMessage.to_user == destination[5:], OutboxMessage.room_id.is_(None)
                    )
                else:
                    statement = statement.where(OutboxMessage.room_id == destination)
                row = await session.scalar(statement.order_by(OutboxMessage.id).limit(1))
            if row is None:
                self._wake.set()  # let the main loop notice that this destination is done
                return
            outcome = await self._deliver(row)
            if outcome is None:
                continue
            if outcome:
                backoff = 1.0
                continue
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)

    async def _deliver(self, row: OutboxMessage) -> bool | None:
        """True: delivered (or given up); False: failed, retry later; None: held back, retry now."""
        matrix = self.app.matrix
        try:
            room_id = row.room_id or await matrix.direct_room(row.to_user or "")
            # Keys of an encrypted room reach only members' devices: hold the message until the people the
            # bot invited have joined (direct chats wait as long as it takes; other rooms a few minutes).
            limit = None if row.to_user else INVITEE_WAIT
            if await matrix.wait_for_invitees(room_id, since=row.created_at, limit=limit):
                return None
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

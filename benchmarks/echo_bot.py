"""The floor: a bare matrix-nio bot that answers every message starting with "!" with an m.notice rich reply.

No database, no router, no outbox: sync, callback, ``room_send``. It accepts every invite and, like our bot,
ignores messages from before its start. Run as its own process next to our bot on the same homeserver::

    python -m benchmarks.echo_bot --homeserver URL --user @echo:localhost --password PW --store DIR
"""

from __future__ import annotations

import argparse
import asyncio
import html
import logging
import os
import signal
import time
from typing import Any

from nio import (
    AsyncClient,
    AsyncClientConfig,
    InviteMemberEvent,
    LoginResponse,
    MatrixRoom,
    RoomMessagesResponse,
    RoomMessageText,
    RoomSendResponse,
    SyncResponse,
)

log = logging.getLogger("echo_bot")

SYNC_FILTER = {"room": {"timeline": {"limit": 1000}}}


class EchoBot:
    def __init__(self, homeserver: str, user_id: str, store: str, *, encryption: bool) -> None:
        self.client = AsyncClient(
            homeserver,
            user_id,
            store_path=store,
            config=AsyncClientConfig(encryption_enabled=encryption, store_sync_tokens=False),
        )
        self.started_ms = int(time.time() * 1000)
        self.last_batch: str | None = None

    async def on_message(self, room: MatrixRoom, event: RoomMessageText) -> None:
        if event.sender == self.client.user_id or not event.body.startswith("!"):
            return
        if event.server_timestamp < self.started_ms:
            return
        text = "echo: " + event.body
        content: dict[str, Any] = {
            "msgtype": "m.notice",
            "body": text,
            "format": "org.matrix.custom.html",
            "formatted_body": html.escape(text),
            "m.mentions": {},
            "m.relates_to": {"m.in_reply_to": {"event_id": event.event_id}},
        }
        response = await self.client.room_send(
            room.room_id, "m.room.message", content, ignore_unverified_devices=True
        )
        if not isinstance(response, RoomSendResponse):
            log.warning("reply to %s failed: %s", event.event_id, response)

    async def on_sync(self, response: SyncResponse) -> None:
        """Fill the gap of a "limited" timeline (Synapse returns at most 100 events per room and sync, even
        with a larger filter limit): page back to the previous sync and answer what was cut off."""
        before, self.last_batch = self.last_batch, response.next_batch
        for room_id, info in response.rooms.join.items():
            room = self.client.rooms.get(room_id)
            if not info.timeline.limited or before is None or room is None:
                continue
            missed: list[Any] = []
            start = info.timeline.prev_batch
            while start:
                page = await self.client.room_messages(room_id, start, end=before, limit=100)
                if not isinstance(page, RoomMessagesResponse) or not page.chunk:
                    break
                missed.extend(page.chunk)
                start = page.end
            log.info("limited timeline in %s: %s events fetched from the gap", room_id, len(missed))
            for event in reversed(missed):
                if isinstance(event, RoomMessageText):
                    await self.on_message(room, event)

    async def on_invite(self, room: MatrixRoom, event: InviteMemberEvent) -> None:
        if event.state_key == self.client.user_id and event.membership == "invite":
            await self.client.join(room.room_id)

    async def run(self, password: str) -> None:
        response = await self.client.login(password, device_name="echo-bot")
        if not isinstance(response, LoginResponse):
            raise SystemExit(f"login failed: {response}")
        self.client.add_event_callback(self.on_message, RoomMessageText)  # type: ignore[arg-type]
        self.client.add_event_callback(self.on_invite, InviteMemberEvent)  # type: ignore[arg-type]
        self.client.add_response_callback(self.on_sync, SyncResponse)  # type: ignore[arg-type]
        first = await self.client.sync(timeout=0, full_state=True)
        if isinstance(first, SyncResponse):
            self.last_batch = first.next_batch
        if self.client.should_upload_keys:
            await self.client.keys_upload()
        log.info("echo bot is ready as %s, %s rooms", self.client.user_id, len(self.client.rooms))
        try:
            # Synapse's default timeline limit is 10 events per room and sync; a larger one (Synapse caps
            # it at 100) makes gaps rare, and on_sync fills those that remain.
            await self.client.sync_forever(timeout=30_000, sync_filter=SYNC_FILTER)
        finally:
            await self.client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--homeserver", required=True)
    parser.add_argument("--user", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--store", required=True)
    parser.add_argument("--no-encryption", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("nio").setLevel(logging.WARNING)

    os.makedirs(args.store, exist_ok=True)
    bot = EchoBot(args.homeserver, args.user, args.store, encryption=not args.no_encryption)

    async def serve() -> None:
        task = asyncio.create_task(bot.run(args.password))
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, task.cancel)
        try:
            await task
        except asyncio.CancelledError:
            pass

    asyncio.run(serve())


if __name__ == "__main__":
    main()

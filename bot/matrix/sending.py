"""Low-level sending: events, reactions, uploads and downloads, redactions, media deletion, fetching
events."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from nio import MegolmEvent, RoomSendResponse, UploadResponse

from bot.matrix.base import (
    PERMANENT_SEND_ERRORS,
    SYNC_TIMEOUT_MS,
    FileTooLarge,
    MatrixCore,
    MatrixError,
    PermanentSendError,
)

# One logger for the whole Matrix wire, named as before the split.
log = logging.getLogger(__package__)


class Sending(MatrixCore):
    """What goes to the homeserver: events (for the outbox), uploads, redactions; files it fetches."""

    # --- sending --------------------------------------------------------------------------------------------

    def _awaited_invitees(self, room_id: str, for_user: str | None) -> set[str]:
        room = self.client.rooms.get(room_id)
        if room is None or not room.encrypted:
            return set()
        expected = set(self._expected_members.get(room_id, ()))
        if for_user:
            expected.add(for_user)
        # Not "still invited" but "not joined yet": right after the bot created a room, its sync may show the
        # room without the invites (members are loaded lazily), and a key shared then reaches nobody — nio
        # does not share it again when they join.
        joined = set(room.users) - set(room.invited_users)
        return expected - joined

    async def wait_for_invitees(
        self, room_id: str, *, since: datetime, limit: timedelta | None, for_user: str | None = None
    ) -> bool:
        """True while people the bot invited into an encrypted room of its own (``for_user`` of a direct
        chat, the people of an intro or session room) have not joined yet and the wait is not over.

        Only those rooms wait: in a community room someone is always invited and never joins, and answers
        there must not wait for them. Waits for the next sync first, so callers can simply retry."""
        if room_id not in self.client.rooms and (for_user or room_id in self._expected_members):
            # A room the bot has just created may not be in its sync yet: wait until it is, then judge.
            await self.wait_for_room(room_id)
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

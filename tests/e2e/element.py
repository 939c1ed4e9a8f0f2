"""An Element member: a scripted Matrix member on Element's own SDK (matrix-js-sdk, rust crypto) in Node.

``tests/element/member.mjs`` runs as a subprocess speaking JSON lines; ``ElementMember`` drives it with an API
close to ``Member`` (tests/e2e/harness.py), so tests read alike. Unlike the nio members, its device is
cross-signed by its own identity (unless ``cross_signed=False``) and it applies Element's device isolation
mode: ``strict`` ("exclude insecure devices", Element's default) or ``all`` (the older behaviour).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import shutil
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Literal, Protocol

from bot.devserver import Synapse
from tests.e2e.harness import DEFAULT_TIMEOUT, ROOT, Received, first_match

ELEMENT_DIR = ROOT / "tests" / "element"
SCRIPT = ELEMENT_DIR / "member.mjs"
Mode = Literal["strict", "all"]


@dataclass
class ElementReceived(Received):
    """A timeline event as the Element member saw it (after decryption, or its failure)."""

    type: str = "m.room.message"
    encrypted: bool = False
    # The SDK's DecryptionFailureCode, e.g. "UNSIGNED_SENDER_DEVICE"; None when readable.
    decryption_failure: str | None = None
    # getEncryptionInfoForEvent: "NONE" / "GREY" / "RED" and e.g. "UNSIGNED_DEVICE"; None when not decrypted.
    shield_colour: str | None = None
    shield_reason: str | None = None
    # True once the SDK changed its verdict later (e.g. a room key that arrived after the event).
    updated: bool = False


class ElementMemberError(RuntimeError):
    """The Node member answered a request with an error, or is gone."""


class ElementMember:
    """A person in the community using Element, as a real matrix-js-sdk client in a Node process."""

    def __init__(
        self,
        synapse: Synapse,
        localpart: str,
        workdir: Path,
        *,
        mode: Mode = "strict",
        cross_signed: bool = True,
    ) -> None:
        self.synapse = synapse
        self.localpart = localpart
        self.user_id = synapse.user_id(localpart)
        self.password = "pw-" + localpart
        self.mode: Mode = mode
        self.cross_signed = cross_signed
        self.device_id = ""
        logs = workdir / "element"
        logs.mkdir(parents=True, exist_ok=True)
        self.log_path = logs / f"{localpart}.log"
        self.received: list[ElementReceived] = []
        # Every m.room_key.withheld this device sent ("sent") or got ("received"), as the raw JSON lines.
        self.withheld: list[dict[str, Any]] = []
        self.returncode: int | None = None
        self._changed = asyncio.Condition()
        self._index: dict[str, int] = {}  # event id -> position in received
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._ids = itertools.count(1)
        self._process: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None
        self._log: IO[bytes] | None = None

    # --- process and protocol -------------------------------------------------------------------------------

    async def start(self) -> None:
        node = shutil.which("node")
        if node is None or not (ELEMENT_DIR / "node_modules" / "matrix-js-sdk").is_dir():
            raise RuntimeError("Node packages missing: run `make test` or `npm ci --prefix tests/element`")
        self.synapse.register(self.localpart, self.password)
        # A local log file, opened once per member; the child writes to it until stop().
        self._log = open(self.log_path, "ab")  # noqa: ASYNC230, SIM115
        self._process = await asyncio.create_subprocess_exec(
            node,
            str(SCRIPT),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=self._log,
            cwd=ELEMENT_DIR,
            limit=16 * 1024 * 1024,  # one JSON line per event; long messages must not break the reader
        )
        self._reader = asyncio.create_task(self._read())
        started = await self.request(
            "start",
            timeout=60,
            homeserver=self.synapse.url,
            user_id=self.user_id,
            password=self.password,
            device_name=f"element-{self.localpart}",
            mode=self.mode,
            cross_sign=self.cross_signed,
        )
        self.device_id = str(started["device_id"])

    async def stop(self, *, eof: bool = False) -> None:
        """Ask the client to stop (stopClient) with a ``stop`` request, or by closing its stdin (``eof``), and
        wait for the exit; ``returncode`` is 0 on a clean stop."""
        process = self._process
        if process is None:
            return
        if process.returncode is None:
            if not eof:
                with contextlib.suppress(ElementMemberError, TimeoutError, ConnectionError):
                    await self.request("stop", timeout=10)
            if process.stdin is not None:
                process.stdin.close()
            try:
                await asyncio.wait_for(process.wait(), 10)
            except TimeoutError:
                process.kill()
                await process.wait()
        self.returncode = process.returncode
        if self._reader is not None:
            await asyncio.gather(self._reader, return_exceptions=True)
        if self._log is not None:
            self._log.close()
        self._process = None

    async def request(self, cmd: str, *, timeout: float = DEFAULT_TIMEOUT, **args: Any) -> dict[str, Any]:
        """Send one request and return its ``result``; an ``error`` answer raises ElementMemberError."""
        process = self._process
        if process is None or process.stdin is None or process.returncode is not None:
            raise ElementMemberError(f"{self.localpart}: the Node member is not running")
        request_id = next(self._ids)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        process.stdin.write(json.dumps({"id": request_id, "cmd": cmd, **args}).encode() + b"\n")
        await process.stdin.drain()
        try:
            return await asyncio.wait_for(future, timeout)
        except TimeoutError:
            raise TimeoutError(f"{self.localpart}: no answer to {cmd} in {timeout} s") from None
        finally:
            self._pending.pop(request_id, None)

    async def _read(self) -> None:
        assert self._process is not None
        assert self._process.stdout is not None
        stdout = self._process.stdout
        while line := await stdout.readline():
            try:
                message = json.loads(line)
            except json.JSONDecodeError:
                continue  # member.mjs writes only JSON; anything else is not for us
            if "event" in message:
                await self._on_event(message)
                continue
            future = self._pending.get(message.get("id"))
            if future is None or future.done():
                continue
            if "error" in message:
                future.set_exception(ElementMemberError(f"{self.localpart}: {message['error']}"))
            else:
                future.set_result(dict(message.get("result") or {}))
        # stdout closed: the process is gone; nobody may wait forever for an answer.
        gone = ElementMemberError(f"{self.localpart}: the Node member exited; log:\n{self.log()[-3000:]}")
        for future in self._pending.values():
            if not future.done():
                future.set_exception(gone)

    async def _on_event(self, message: dict[str, Any]) -> None:
        if message["event"] == "withheld":
            self.withheld.append(message)
            return
        if message["event"] != "message":
            return
        content = dict(message.get("content") or {})
        item = ElementReceived(
            room_id=message["room_id"],
            event_id=message["event_id"],
            sender=message["sender"],
            msgtype=message.get("msgtype") or "",
            body=message.get("body") or "",
            formatted_body=message.get("formatted_body"),
            source={
                "type": message["type"],
                "event_id": message["event_id"],
                "sender": message["sender"],
                "room_id": message["room_id"],
                "origin_server_ts": message.get("origin_server_ts"),
                "content": content,
            },
            type=message["type"],
            encrypted=bool(message.get("encrypted")),
            decryption_failure=message.get("decryption_failure"),
            shield_colour=message.get("shield_colour"),
            shield_reason=message.get("shield_reason"),
            updated=bool(message.get("update")),
        )
        async with self._changed:
            # An update (late decryption) replaces the earlier report in place, so positions (``after``) hold.
            position = self._index.get(item.event_id)
            if position is None:
                self._index[item.event_id] = len(self.received)
                self.received.append(item)
            else:
                self.received[position] = item
            self._changed.notify_all()

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    # --- the Member API -------------------------------------------------------------------------------------

    async def set_auto_join(self, enabled: bool) -> None:
        await self.request("set_auto_join", enabled=enabled)

    async def set_mode(self, mode: Mode) -> None:
        await self.request("set_mode", mode=mode)
        self.mode = mode

    async def create_room(
        self, *, invite: list[str], encrypted: bool = False, name: str = "Community", direct: bool = False
    ) -> str:
        """A room with ``invite``d users; ``direct`` makes it a direct chat as Element does it (is_direct,
        trusted_private_chat, m.direct account data)."""
        result = await self.request(
            "create_room", invite=invite, encrypted=encrypted, name=name, direct=direct
        )
        return str(result["room_id"])

    async def join(self, room_id: str) -> None:
        await self.request("join", room_id=room_id)

    async def invite(self, room_id: str, user_id: str) -> None:
        await self.request("invite", room_id=room_id, user_id=user_id)

    async def say(
        self, room_id: str, text: str, *, html: str | None = None, extra: dict[str, Any] | None = None
    ) -> str:
        content: dict[str, Any] = dict(extra or {})
        if html is not None:
            content.update(format="org.matrix.custom.html", formatted_body=html)
        result = await self.request("send", room_id=room_id, body=text, extra=content)
        return str(result["event_id"])

    async def react(self, room_id: str, event_id: str, key: str) -> str:
        result = await self.request("react", room_id=room_id, event_id=event_id, key=key)
        return str(result["event_id"])

    async def redact(self, room_id: str, event_id: str) -> None:
        await self.request("redact", room_id=room_id, event_id=event_id)

    async def wait_until(self, predicate: Callable[[], bool], timeout: float = DEFAULT_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise TimeoutError("condition not reached")
            await asyncio.sleep(0.05)

    async def next_message(
        self,
        *,
        room_id: str | None = None,
        sender: str | None = None,
        contains: str | None = None,
        reply_to: str | None = None,
        after: int = 0,
        type: str | None = "m.room.message",
        timeout: float = DEFAULT_TIMEOUT,
    ) -> ElementReceived:
        """The first event (from index ``after`` on) matching all given conditions; ``type=None`` for any
        type (reactions are ``m.reaction``). Messages that failed to decrypt count as ``m.room.message``."""

        def find() -> ElementReceived | None:
            candidates = (item for item in self.received[after:] if not type or item.type == type)
            return first_match(
                candidates, room_id=room_id, sender=sender, contains=contains, reply_to=reply_to
            )

        async with self._changed:
            try:
                await asyncio.wait_for(self._changed.wait_for(lambda: find() is not None), timeout)
            except TimeoutError:
                recent = [(r.sender, r.type, r.decryption_failure, r.body[:120]) for r in self.received[-8:]]
                raise AssertionError(
                    f"{self.localpart}: no {type} with {contains!r} replying to {reply_to}; recent: {recent}"
                ) from None
        found = find()
        assert found is not None
        return found

    async def command(
        self, room_id: str, text: str, *, timeout: float = DEFAULT_TIMEOUT, **kwargs: Any
    ) -> ElementReceived:
        """Send a command and return the bot's reply to it (which may be a decryption failure)."""
        event_id = await self.say(room_id, text, **kwargs)
        return await self.next_message(room_id=room_id, reply_to=event_id, timeout=timeout)

    def messages_from(self, sender: str, room_id: str | None = None) -> list[ElementReceived]:
        return [
            r
            for r in self.received
            if r.type == "m.room.message" and r.sender == sender and (room_id is None or r.room_id == room_id)
        ]

    async def rooms(self) -> list[dict[str, Any]]:
        """The client's rooms: room_id, name, my_membership, joined, invited, encrypted, dm_with (the users
        this room is a direct chat with, as Element decides it)."""
        return list((await self.request("rooms"))["rooms"])

    async def _poll(
        self, find: Callable[[list[dict[str, Any]]], str | None], timeout: float, what: str
    ) -> str:
        deadline = time.monotonic() + timeout
        while True:
            found = find(await self.rooms())
            if found is not None:
                return found
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.localpart}: {what}")
            await asyncio.sleep(0.1)

    async def wait_for_member(self, room_id: str, user_id: str, timeout: float = DEFAULT_TIMEOUT) -> None:
        """Until ``user_id`` has joined ``room_id`` (not merely been invited), as this member sees it."""

        def joined(rooms: list[dict[str, Any]]) -> str | None:
            ok = any(r["room_id"] == room_id and user_id in r["joined"] for r in rooms)
            return room_id if ok else None

        await self._poll(joined, timeout, f"{user_id} did not join {room_id}")

    async def direct_room_with(self, user_id: str, timeout: float = DEFAULT_TIMEOUT) -> str:
        """The joined direct chat with ``user_id`` (e.g. the one the bot created; auto-joined): a two-person
        room that Element counts as a DM (invited with ``is_direct``, or listed in m.direct)."""

        def find(rooms: list[dict[str, Any]]) -> str | None:
            for room in rooms:
                if (
                    room["my_membership"] == "join"
                    and user_id in room["dm_with"]
                    and set(room["joined"]) == {self.user_id, user_id}
                ):
                    return str(room["room_id"])
            return None

        return await self._poll(find, timeout, f"no direct room with {user_id}")

    async def crypto_info(self) -> dict[str, Any]:
        """user_id, device_id, cross_signing_ready, device_cross_signed, cross_signing_status, keys."""
        return await self.request("crypto_info")

    async def device_trust(
        self, user_id: str, device_id: str, *, wait: bool = True, timeout: float = 10.0
    ) -> dict[str, Any]:
        """The SDK's getDeviceVerificationStatus: known, tracked, signed_by_owner, cross_signing_verified,
        local_verified, verified (isVerified()).

        The SDK only knows devices of users it tracks (members of an encrypted room shared with this member),
        and learns them with a /keys/query shortly after the join; with ``wait`` this polls until the device
        is ``known`` (and returns it unknown after ``timeout``)."""
        deadline = time.monotonic() + timeout
        while True:
            status = await self.request("device_trust", user_id=user_id, device_id=device_id)
            if status["known"] or not wait or time.monotonic() > deadline:
                return status
            await asyncio.sleep(0.1)

    async def user_identity(self, user_id: str) -> dict[str, Any]:
        """known (has published cross-signing keys), verified, needs_user_approval, master_key, ..."""
        return await self.request("user_identity", user_id=user_id)

    async def user_devices(self, user_id: str) -> list[str]:
        return list((await self.request("user_devices", user_id=user_id))["devices"])


class ElementMemberFactory(Protocol):
    """``await element_member_factory("name", mode="all", cross_signed=False)``"""

    def __call__(
        self, name: str, *, mode: Mode = "strict", cross_signed: bool = True
    ) -> Awaitable[ElementMember]: ...

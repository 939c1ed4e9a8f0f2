"""End-to-end helpers: the bot as a real process and members as real matrix-nio clients on a local Synapse."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
from nio import (
    AsyncClient,
    AsyncClientConfig,
    ForwardedRoomKeyEvent,
    InviteMemberEvent,
    LoginResponse,
    MatrixRoom,
    MegolmEvent,
    RoomCreateResponse,
    RoomKeyEvent,
    RoomMessage,
    RoomSendResponse,
)
from nio.crypto.attachments import decrypt_attachment

from bot.crypto import CrossSigning
from bot.crypto.trust import cross_signed_devices
from bot.devserver import Synapse, terminate

ROOT = Path(__file__).resolve().parents[2]
ENCRYPTION = {"type": "m.room.encryption", "state_key": "", "content": {"algorithm": "m.megolm.v1.aes-sha2"}}
DEFAULT_TIMEOUT = 30.0
MEMBER_SYNC_FILTER = {"room": {"timeline": {"limit": 100}}}


@dataclass
class Received:
    room_id: str
    event_id: str
    sender: str
    msgtype: str
    body: str
    formatted_body: str | None
    source: dict[str, Any]

    @property
    def content(self) -> dict[str, Any]:
        return dict(self.source.get("content", {}))

    @property
    def in_reply_to(self) -> str | None:
        relates = self.content.get("m.relates_to", {})
        return (relates.get("m.in_reply_to") or {}).get("event_id")


ReceivedT = TypeVar("ReceivedT", bound=Received)


def first_match(
    items: Iterable[ReceivedT],
    *,
    room_id: str | None = None,
    sender: str | None = None,
    contains: str | None = None,
    reply_to: str | None = None,
) -> ReceivedT | None:
    """The first message matching every condition given (what members' ``next_message`` waits for)."""
    for item in items:
        if room_id and item.room_id != room_id:
            continue
        if sender and item.sender != sender:
            continue
        if contains and contains not in item.body:
            continue
        if reply_to and item.in_reply_to != reply_to:
            continue
        return item
    return None


class Member:
    """A person in the community, as a real Matrix client."""

    def __init__(self, synapse: Synapse, localpart: str, workdir: Path) -> None:
        self.synapse = synapse
        self.localpart = localpart
        self.user_id = synapse.user_id(localpart)
        self.password = "pw-" + localpart
        store = workdir / "members" / localpart
        store.mkdir(parents=True, exist_ok=True)
        self.store = store
        self.client = AsyncClient(
            synapse.url,
            self.user_id,
            store_path=str(store),
            config=AsyncClientConfig(encryption_enabled=True, store_sync_tokens=True),
        )
        self.received: list[Received] = []
        self._changed = asyncio.Condition()
        self._task: asyncio.Task[None] | None = None
        self.auto_join = True
        # Encrypted events whose room key had not arrived yet, by Megolm session: decrypted when it comes,
        # as Element does (the key may come in a later sync than the message).
        self._undecrypted: dict[str, list[tuple[MatrixRoom, MegolmEvent]]] = {}

    async def start(self, *, cross_signed: bool = True) -> None:
        """Log in; ``cross_signed`` members sign their device with a cross-signing identity of their own,
        as Element does at sign-up, so that the bot (which excludes insecure devices, like Element) trusts
        it. They use the bot's own cross-signing code for that; the Element member (tests/e2e/element.py)
        checks that code against Element's SDK."""
        self.synapse.register(self.localpart, self.password)
        response = await self.client.login(self.password, device_name=f"test-{self.localpart}")
        assert isinstance(response, LoginResponse), response
        self.client.add_event_callback(self._on_message, (RoomMessage, MegolmEvent))
        self.client.add_event_callback(self._on_invite, InviteMemberEvent)  # type: ignore[arg-type]
        self.client.add_to_device_callback(self._on_room_key, (RoomKeyEvent, ForwardedRoomKeyEvent))  # type: ignore[arg-type]
        await self.client.sync(timeout=0, full_state=True)
        if self.client.should_upload_keys:
            await self.client.keys_upload()
        if cross_signed:
            identity = CrossSigning(
                self.client,
                self.store,
                password=self.password,
                recovery_key=None,
                announce_recovery_key=lambda _key: None,
            )
            await identity.ensure()
        # Synapse's default is ten timeline events per room and sync; a burst of thirty commands and their
        # answers is longer than that, and this client (unlike the bot) does not fill the gap it leaves.
        self._task = asyncio.create_task(
            self.client.sync_forever(timeout=1000, sync_filter=MEMBER_SYNC_FILTER)
        )

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self.client.close()

    async def _on_invite(self, room: MatrixRoom, event: InviteMemberEvent) -> None:
        if self.auto_join and event.state_key == self.user_id and event.membership == "invite":
            await self.client.join(room.room_id)

    async def _on_room_key(self, event: Any) -> None:
        for room, pending in self._undecrypted.pop(getattr(event, "session_id", ""), []):
            try:
                decrypted = self.client.decrypt_event(pending)
            except Exception:  # still not readable: keep the m.megolm record only
                continue
            await self._on_message(room, decrypted)

    async def _on_message(self, room: MatrixRoom, event: Any) -> None:
        if isinstance(event, MegolmEvent):
            self._undecrypted.setdefault(event.session_id, []).append((room, event))
        content = event.source.get("content", {})
        item = Received(
            room_id=room.room_id,
            event_id=event.event_id,
            sender=event.sender,
            msgtype=content.get("msgtype", "m.megolm" if isinstance(event, MegolmEvent) else ""),
            body=content.get("body", ""),
            formatted_body=content.get("formatted_body"),
            source=event.source,
        )
        async with self._changed:
            self.received.append(item)
            self._changed.notify_all()

    async def create_room(
        self, *, invite: list[str], encrypted: bool = False, name: str = "Community", direct: bool = False
    ) -> str:
        """A room with ``invite``d users; ``direct`` makes it a direct chat as clients do it."""
        response = await self.client.room_create(
            name=None if direct else name,
            invite=invite,
            is_direct=direct,
            initial_state=[ENCRYPTION] if encrypted else [],
        )
        assert isinstance(response, RoomCreateResponse), response
        await self.wait_until(lambda: response.room_id in self.client.rooms)
        return str(response.room_id)

    async def room_with(self, user_id: str, *, encrypted: bool = False, name: str = "Community") -> str:
        """A room of this member with ``user_id`` (usually the bot), once they have joined."""
        room_id = await self.create_room(invite=[user_id], encrypted=encrypted, name=name)
        await self.wait_for_member(room_id, user_id)
        return room_id

    async def join(self, room_id: str) -> None:
        await self.client.join(room_id)
        await self.wait_until(lambda: room_id in self.client.rooms)

    async def invite(self, room_id: str, user_id: str) -> None:
        await self.client.room_invite(room_id, user_id)

    async def say(
        self, room_id: str, text: str, *, html: str | None = None, extra: dict[str, Any] | None = None
    ) -> str:
        content: dict[str, Any] = {"msgtype": "m.text", "body": text}
        if html is not None:
            content.update(format="org.matrix.custom.html", formatted_body=html)
        if extra:
            content.update(extra)
        response = await self.client.room_send(
            room_id, "m.room.message", content, ignore_unverified_devices=True
        )
        assert isinstance(response, RoomSendResponse), response
        return str(response.event_id)

    async def reply_to(self, room_id: str, event_id: str, text: str) -> str:
        """Answer a message with a plain Matrix reply (``m.in_reply_to``, no prefix), as Element's "Antworten"
        does; returns the reply's event id."""
        return await self.say(
            room_id, text, extra={"m.relates_to": {"m.in_reply_to": {"event_id": event_id}}}
        )

    async def answer(self, message: Received, text: str, *, timeout: float = DEFAULT_TIMEOUT) -> Received:
        """Reply to ``message`` with ``text`` and return the bot's reply to that answer."""
        event_id = await self.reply_to(message.room_id, message.event_id, text)
        return await self.next_message(room_id=message.room_id, reply_to=event_id, timeout=timeout)

    async def react(self, room_id: str, event_id: str, key: str) -> str:
        content = {"m.relates_to": {"rel_type": "m.annotation", "event_id": event_id, "key": key}}
        response = await self.client.room_send(room_id, "m.reaction", content, ignore_unverified_devices=True)
        assert isinstance(response, RoomSendResponse), response
        return str(response.event_id)

    async def redact(self, room_id: str, event_id: str) -> None:
        await self.client.room_redact(room_id, event_id)

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
        timeout: float = DEFAULT_TIMEOUT,
    ) -> Received:
        """The first message (from index ``after`` on) matching all given conditions."""

        def find() -> Received | None:
            return first_match(
                self.received[after:], room_id=room_id, sender=sender, contains=contains, reply_to=reply_to
            )

        async with self._changed:
            try:
                await asyncio.wait_for(self._changed.wait_for(lambda: find() is not None), timeout)
            except TimeoutError:
                recent = [(r.room_id[:8], r.sender, r.msgtype, r.body[:100]) for r in self.received[-8:]]
                raise AssertionError(
                    f"{self.localpart}: no message in {room_id} with {contains!r} replying to {reply_to}; "
                    f"recent (room, sender, msgtype, body): {recent}"
                ) from None
        found = find()
        assert found is not None
        return found

    async def command(
        self, room_id: str, text: str, *, timeout: float = DEFAULT_TIMEOUT, **kwargs: Any
    ) -> Received:
        """Send a command and return the bot's reply to it."""
        event_id = await self.say(room_id, text, **kwargs)
        return await self.next_message(room_id=room_id, reply_to=event_id, timeout=timeout)

    async def download(self, content: dict[str, Any]) -> bytes:
        """The file of an m.file/m.image message, decrypted when it was sent into an encrypted room."""
        encrypted = content.get("file")
        response = await self.client.download(mxc=encrypted["url"] if encrypted else content["url"])
        body = response.body  # type: ignore[union-attr]
        if encrypted:
            key, digest, iv = encrypted["key"]["k"], encrypted["hashes"]["sha256"], encrypted["iv"]
            return bytes(decrypt_attachment(body, key, digest, iv))
        return bytes(body)

    async def wait_for_member(self, room_id: str, user_id: str, timeout: float = DEFAULT_TIMEOUT) -> None:
        """Until ``user_id`` has joined ``room_id`` (not merely been invited), as this member sees it."""

        def joined() -> bool:
            room = self.client.rooms.get(room_id)
            return room is not None and user_id in room.users and user_id not in room.invited_users

        await self.wait_until(joined, timeout)

    def messages_from(self, sender: str, room_id: str | None = None) -> list[Received]:
        return [r for r in self.received if r.sender == sender and (room_id is None or r.room_id == room_id)]

    async def direct_room_with(self, user_id: str, timeout: float = DEFAULT_TIMEOUT) -> str:
        """The direct room the bot created with this member (joined automatically)."""

        def find() -> str | None:
            for room_id, room in self.client.rooms.items():
                if user_id in room.users and self.user_id in room.users and len(room.users) == 2:
                    return str(room_id)
            return None

        await self.wait_until(lambda: find() is not None, timeout)
        found = find()
        assert found is not None
        return found


async def published_identity(member: Member, user_id: str) -> tuple[str | None, set[str]]:
    """The master key and the cross-signed devices of ``user_id``, as any member's client sees them."""
    response = await member.client.send(
        "POST",
        "/_matrix/client/v3/keys/query",
        json.dumps({"device_keys": {user_id: []}}),
        headers={"Authorization": f"Bearer {member.client.access_token}"},
    )
    body: dict[str, Any] = await response.json()
    master = body.get("master_keys", {}).get(user_id)
    signed = cross_signed_devices(
        user_id, master, body.get("self_signing_keys", {}).get(user_id), body["device_keys"].get(user_id, {})
    )
    master_key = next(iter(master["keys"].values())) if master else None
    return master_key, signed


class LoggedProcess:
    """A Python module run as a subprocess of the tests, its output in ``log_path``, ready when the log
    shows ``ready_line`` once more than before the start (so restarts after a kill wait for the new line)."""

    workdir: Path
    log_path: Path
    ready_line: str
    process: subprocess.Popen[bytes] | None

    def _spawn(
        self, args: list[str], *, extra_env: dict[str, str] | None = None, timeout: float = 60.0
    ) -> None:
        already_ready = self.ready_count()
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **(extra_env or {})}
        env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
        self.process = subprocess.Popen(
            [sys.executable, "-m", *args],
            cwd=self.workdir,
            env=env,
            stdout=open(self.log_path, "ab"),  # noqa: SIM115 - the child keeps writing to it
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{args[0]} exited with {self.process.returncode}:\n{self.log()[-4000:]}")
            if self.ready_count() > already_ready:
                return
            time.sleep(0.1)
        raise TimeoutError(f"{args[0]} not ready:\n{self.log()[-4000:]}")

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def ready_count(self) -> int:
        return self.log().count(self.ready_line)

    def kill(self) -> None:
        """SIGKILL: no cleanup at all, as in a crash."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        terminate(self.process, timeout=30)
        self.process = None


class BotProcess(LoggedProcess):
    """``python -m bot run`` as a subprocess with its own config, store and database."""

    def __init__(
        self,
        synapse: Synapse,
        workdir: Path,
        allowed_inviters: list[str],
        extra_config: str = "",
        env: dict[str, str] | None = None,
        localpart: str = "bot",
    ) -> None:
        self.synapse, self.workdir, self.allowed_inviters = synapse, workdir, allowed_inviters
        # Tests and benchmarks send commands faster than any person types: the per-member limit is lifted
        # unless a test sets it (tests/e2e/test_hardening.py checks the default limit).
        relaxed = {"COMMUNITY_BOT_BOT__COMMAND_BURST": "1000000"}
        self.extra_config, self.env, self.localpart = extra_config, {**relaxed, **(env or {})}, localpart
        self.process = None
        self.log_path = workdir / "bot.log"
        self.ready_line = "community-bot is ready"
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.password = "pw-" + secrets.token_hex(6)
        self.synapse.register(self.localpart, self.password)
        self.config_path = self.workdir / "config.toml"
        inviters = ", ".join(f'"{i}"' for i in self.allowed_inviters)
        self.config_path.write_text(
            "[matrix]\n"
            f'homeserver = "{self.synapse.url}"\n'
            f'user_id = "{self.user_id}"\n'
            f'password = "{self.password}"\n'
            f'store_path = "{self.workdir / "store"}"\n'
            f"allowed_inviters = [{inviters}]\n\n"
            "[storage]\n"
            f'database_url = "sqlite+aiosqlite:///{self.workdir / "bot.db"}"\n' + self.extra_config
        )

    @property
    def user_id(self) -> str:
        return self.synapse.user_id(self.localpart)

    def start(self, timeout: float = 60.0) -> None:
        self._spawn(["bot", "run", "--config", str(self.config_path)], extra_env=self.env, timeout=timeout)

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        """``community-bot <args>`` with this bot's configuration and environment, run to its end."""
        return subprocess.run(
            [sys.executable, "-m", "bot", *args, "--config", str(self.config_path)],
            cwd=self.workdir,
            env={**os.environ, "PYTHONPATH": str(ROOT), **self.env},
            capture_output=True,
            text=True,
            timeout=120,
        )


# Shares room keys with every device and answers them (the setting Element users do not have).
SHARES_WITH_ALL_DEVICES = {"COMMUNITY_BOT_MATRIX__EXCLUDE_INSECURE_DEVICES": "false"}


def module_bot(localpart: str, extra_config: str = "", env: dict[str, str] | None = None) -> Any:
    """A module-scoped fixture: a bot process of its own (its own account, database and settings)."""

    @pytest.fixture(scope="module")
    def fixture(synapse: Synapse, workdir: Path) -> Iterator[BotProcess]:
        process = BotProcess(
            synapse,
            workdir / localpart,
            ["localhost"],
            extra_config=extra_config,
            localpart=localpart,
            env=env,
        )
        process.start()
        yield process
        process.stop()

    return fixture

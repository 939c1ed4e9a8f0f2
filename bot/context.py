"""What a handler gets: who asked, where, in which language, and how to answer."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from bot.framework import Command, CommandError, Permission
from bot.i18n import Translate

if TYPE_CHECKING:
    from bot.app import App


@dataclass
class CommandContext:
    app: App
    room_id: str
    sender: str
    event_id: str
    language: str
    timezone: str
    is_direct: bool
    is_moderator: bool
    is_admin: bool
    command: Command | None = None
    body: str = ""
    replied_event_id: str | None = None
    thread_root: str | None = None
    received_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    _told_direct_refused: bool = False

    @property
    def t(self) -> Translate:
        return self.app.catalog.translator(self.language)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def prefix(self) -> str:
        return self.app.settings.bot.command_prefix

    def now_local(self) -> datetime:
        return self.received_at.astimezone(self.tz)

    def has_permission(self, permission: Permission) -> bool:
        if permission is Permission.ADMIN:
            return self.is_admin
        if permission is Permission.MODERATOR:
            return self.is_moderator or self.is_admin
        return True

    def require(self, permission: Permission) -> None:
        if not self.has_permission(permission):
            raise CommandError(
                "core_permission_moderator" if permission is Permission.MODERATOR else "core_permission_admin"
            )

    async def is_member_of(self, room_id: str) -> bool:
        """Whether the member may see things of ``room_id`` (an event, its sessions): the command comes
        from that room, or they have joined it (asked of the homeserver, cached briefly)."""
        if room_id == self.room_id:
            return True
        return await self.app.membership.is_member(room_id, self.sender)

    async def reply(
        self,
        markdown: str,
        *,
        mentions: tuple[str, ...] = (),
        track: tuple[str, int | None] | None = None,
        in_thread: bool = False,
    ) -> int:
        """Answer the command as a rich reply in the same room (or thread)."""
        return await self.app.sender.send(
            markdown,
            room_id=self.room_id,
            reply_to=self.event_id,
            mentions=mentions,
            track=track,
            thread_root=self.thread_root if in_thread or self.thread_root else None,
        )

    async def send_file(
        self, data: bytes, *, filename: str, mimetype: str, image_size: tuple[int, int] | None = None
    ) -> int:
        """A file that answers the command, in the command's room — and in its thread, if it came in one."""
        return await self.app.sender.send_file(
            data,
            filename=filename,
            mimetype=mimetype,
            room_id=self.room_id,
            image_size=image_size,
            thread_root=self.thread_root,
        )

    async def answer(self, key: str, /, **params: Any) -> int:
        """Reply with a catalog message in the member's language."""
        return await self.reply(self.t(key, p=self.prefix, **params))

    async def attachment(self) -> tuple[str, bytes] | None:
        """The file the command refers to: the replied-to message's file, if any (filename, data)."""
        if not self.replied_event_id:
            return None
        event = await self.app.matrix.fetch_event(self.room_id, self.replied_event_id)
        content = (getattr(event, "source", None) or {}).get("content", {})
        if content.get("msgtype") != "m.file" and "file" not in content and "url" not in content:
            return None
        name = str(content.get("filename") or content.get("body") or "upload")
        from bot.matrix import FileTooLarge

        try:
            return name, await self.app.matrix.download(content)
        except FileTooLarge as error:
            raise CommandError(
                "core_file_too_large", size_kb=-(-error.size // 1024), max_kb=error.limit // 1024
            ) from None

    async def direct(self, markdown: str, *, track: tuple[str, int | None] | None = None) -> int:
        """Send to the member's direct chat with the bot (created on first use). A member who refused the
        bot's direct chat is told here, once per command, how to get the message; it waits for them."""
        if self.app.matrix.direct_chat_refused(self.sender):
            await self.tell_direct_chat_refused()
        return await self.app.sender.send(markdown, to_user=self.sender, track=track)

    async def tell_direct_chat_refused(self) -> None:
        """Tell the member in the room, once per command, that a message waits for their direct chat."""
        if self._told_direct_refused:
            return
        self._told_direct_refused = True
        await self.reply(self.t("core_direct_chat_refused", p=self.prefix, bot=self.app.matrix.user_id))


def bare_key(key: str) -> str:
    """A reaction key without the emoji variation selector: clients send ✔️ and ✔, ❤️ and ❤ alike."""
    return key.replace("\ufe0f", "")


@dataclass
class ReactionContext:
    app: App
    room_id: str
    sender: str
    key: str
    added: bool
    kind: str
    ref_id: int | None
    target_event_id: str
    language: str

    @property
    def t(self) -> Translate:
        return self.app.catalog.translator(self.language)

    async def still_reacting_with(self, keys: Iterable[str]) -> bool:
        """Whether the member still has one of ``keys`` on the same message (taking back 👍 while ✅ stays).
        Keys compare without the emoji variation selector, as the router matches them."""
        from sqlalchemy import select

        from storage.models import Reaction

        async with self.app.db.session() as db:
            present = (
                await db.scalars(
                    select(Reaction.key).where(
                        Reaction.target_event_id == self.target_event_id, Reaction.sender == self.sender
                    )
                )
            ).all()
        wanted = {bare_key(key) for key in keys}
        return any(bare_key(key) in wanted for key in present)

    def is_one_of(self, keys: Iterable[str]) -> bool:
        """Whether the reaction is one of ``keys`` (compared as :func:`bare_key`)."""
        return self.key in {bare_key(key) for key in keys}


@dataclass
class RelationContext:
    """Another event (a poll response …) that refers to a tracked bot message: its type and content."""

    app: App
    room_id: str
    sender: str
    event_id: str
    event_type: str
    content: dict[str, Any]
    origin_ts: int
    kind: str
    ref_id: int | None
    target_event_id: str

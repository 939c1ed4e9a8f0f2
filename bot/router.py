"""From a room event to a handler call: prefix, aliases, language, permission, arguments, errors."""

from __future__ import annotations

import asyncio
import difflib
import logging
import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from html.parser import HTMLParser
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from nio import MatrixRoom, MegolmEvent, ReactionEvent, RedactionEvent, RoomMemberEvent
from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import BindParameter

from bot.context import CommandContext, ReactionContext, RelationContext
from bot.framework import Command, CommandError, fold, parse_arguments
from bot.i18n import normalize_language
from bot.matrix import DirectChatRefused, MatrixBot, RoomEvents
from bot.ratelimit import RateLimiter, Verdict
from bot.sender import pill
from storage.models import BotMessage, Member, ProcessedEvent, Reaction, RoomMembership, RoomSetting

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger(__name__)

# Built once: they run before every command, and a prebuilt statement saves SQLAlchemy's construction and
# cache-key work on each call. Parameters: event_id, room_id / sender, room_id.
CLAIM = insert(ProcessedEvent)
_SENDER: BindParameter[str] = bindparam("sender")
PREFERENCES = select(
    select(Member.language).where(Member.user_id == _SENDER).scalar_subquery(),
    select(Member.timezone).where(Member.user_id == _SENDER).scalar_subquery(),
    select(RoomSetting.language).where(RoomSetting.room_id == bindparam("room_id")).scalar_subquery(),
)


class _PillText(HTMLParser):
    """Formatted body → text, with user pills replaced by their Matrix IDs and replies' fallbacks dropped."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._pill_depth = 0
        self._skip_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        # A reply's fallback and quoted text ("> !hilfe") are someone else's words, never a command.
        if tag in ("mx-reply", "blockquote"):
            self._skip_depth += 1
            return
        if tag == "br":
            self.parts.append("\n")
        href = dict(attrs).get("href") or ""
        match = re.match(r"https://matrix\.to/#/(@[^/?\s]+)", href)
        if tag == "a" and match:
            self.parts.append(match.group(1).replace("%3A", ":").replace("%40", "@"))
            self._pill_depth += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("mx-reply", "blockquote"):
            self._skip_depth = max(0, self._skip_depth - 1)
        elif tag == "a" and self._pill_depth:
            self._pill_depth -= 1
        elif tag == "p":
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._pill_depth and not self._skip_depth:
            self.parts.append(data)


def command_text(event: Any) -> str:
    """The text of a message as the member meant it (pills as user IDs, no reply fallback)."""
    formatted = getattr(event, "formatted_body", None)
    if formatted and getattr(event, "format", None) == "org.matrix.custom.html":
        parser = _PillText()
        parser.feed(formatted)
        return "".join(parser.parts).strip()
    body: str = getattr(event, "body", "") or ""
    # Strip a plain-text reply fallback ("> <@user> quoted" lines followed by a blank line).
    lines = body.split("\n")
    while lines and lines[0].startswith(">"):
        lines.pop(0)
    return "\n".join(lines).strip()


@dataclass(eq=False)
class QueuedJob:
    """A command or reaction waiting in its room's queue, with the record that marks its event handled."""

    job: Callable[[], Awaitable[None]]
    claim: tuple[str, str] | None


@dataclass(frozen=True)
class Preferences:
    """The member's and the room's stored settings that shape a command's context."""

    language: str | None
    timezone: str | None
    room_language: str | None


class Router:
    def __init__(self, app: App) -> None:
        self.app = app
        self.commands: dict[str, Command] = {}
        for feature in app.features:
            for command in feature.commands:
                for name in command.names:
                    key = fold(name)
                    if key in self.commands and self.commands[key] is not command:
                        raise ValueError(f"command name {name!r} is declared twice")
                    self.commands[key] = command
        self._queues: dict[str, asyncio.Queue[QueuedJob]] = {}
        self._not_started: set[QueuedJob] = set()
        bot = app.settings.bot
        self.limiter = RateLimiter(bot.command_burst, bot.commands_per_minute)
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._pending_joins: dict[tuple[str, str], datetime] = {}

    def listen_to(self, matrix: MatrixBot) -> None:
        """Take the events the sync loop hands on: the router never calls into the sync loop itself."""
        matrix.add_event_handler(RoomEvents.MESSAGE, self.on_message)
        matrix.add_event_handler(RoomEvents.REACTION, self.on_reaction)
        matrix.add_event_handler(RoomEvents.REDACTION, self.on_redaction)
        matrix.add_event_handler(RoomEvents.RELATED, self.on_related_event, wants_type=self.wants_event_type)
        matrix.add_event_handler(RoomEvents.MEMBER_JOINED, self.on_member_joined)
        matrix.add_event_handler(RoomEvents.UNDECRYPTABLE, self.tell_undecryptable)
        matrix.add_event_handler(RoomEvents.SYNC_HANDLED, self.record_joins)

    # --- queues: one worker per room keeps a room's commands in order -----------------------------------

    def _submit(
        self, room_id: str, job: Callable[[], Awaitable[None]], *, claim: tuple[str, str] | None = None
    ) -> bool:
        """Queue ``job`` behind the room's earlier ones. ``claim`` ("command"/"reaction", event id) is the
        record that marks the event handled: it is taken back if the job never starts (shutdown).

        False when the room's queue is full (``[bot] max_queued_commands_per_room``): nothing was queued,
        and the caller takes the claim back and tells the member. What was accepted is never dropped."""
        queue = self._queues.get(room_id)
        if queue is None:
            queue = self._queues[room_id] = asyncio.Queue(self.app.settings.bot.max_queued_commands_per_room)
            self._workers[room_id] = asyncio.create_task(self._work(queue), name=f"room-worker {room_id}")
        if queue.full():
            return False
        item = QueuedJob(job, claim)
        self._not_started.add(item)
        queue.put_nowait(item)
        return True

    async def _refuse_busy(self, room: MatrixRoom, event: Any, claim: tuple[str, str]) -> None:
        """The room's queue is full: the command is not taken (its claim goes back) and the member is told at
        once, outside the queue, to send it again in a moment."""
        log.warning("the command queue of %s is full; a %s was refused", room.room_id, claim[0])
        kind, event_id = claim
        table = ProcessedEvent if kind == "command" else Reaction
        try:
            async with self.app.db.transaction() as connection:
                await connection.execute(delete(table).where(table.event_id == event_id))
        except Exception:
            log.exception("could not take back a refused %s", kind)
        if kind == "command":
            await self._tell(room, event, "core_room_busy")

    async def _work(self, queue: asyncio.Queue[QueuedJob]) -> None:
        while True:
            item = await queue.get()
            self._not_started.discard(item)
            try:
                await item.job()
            except Exception:
                log.exception("unhandled error in room worker")
            finally:
                queue.task_done()

    async def drain(self, timeout: float = 20.0) -> None:
        """Let queued commands finish (graceful shutdown); those that cannot start in time are taken back,
        so that the next start handles them (their events come again: the sync position is not past them)."""
        try:
            await asyncio.wait_for(asyncio.gather(*(q.join() for q in self._queues.values())), timeout)
        except TimeoutError:
            log.warning(
                "shutting down with %s commands not started; they run after the restart",
                len(self._not_started),
            )
        for task in self._workers.values():
            task.cancel()
        await asyncio.gather(*self._workers.values(), return_exceptions=True)
        await self._take_back_claims()

    async def _take_back_claims(self) -> None:
        claims = [item.claim for item in self._not_started if item.claim is not None]
        self._not_started.clear()
        if not claims:
            return
        commands = [event_id for kind, event_id in claims if kind == "command"]
        reactions = [event_id for kind, event_id in claims if kind == "reaction"]
        try:
            async with self.app.db.transaction() as connection:
                if commands:
                    await connection.execute(
                        delete(ProcessedEvent).where(ProcessedEvent.event_id.in_(commands))
                    )
                if reactions:
                    await connection.execute(delete(Reaction).where(Reaction.event_id.in_(reactions)))
        except Exception:
            log.exception("could not take back %s unfinished commands", len(claims))

    # --- messages -----------------------------------------------------------------------------------------

    def strip_invocation(self, text: str) -> str | None:
        """The command part of a message, or None if the message is not addressed to the bot."""
        prefix = self.app.settings.bot.command_prefix
        if text.startswith(prefix):
            rest = text[len(prefix) :]
            # "! hilfe": a space after the prefix, as phone keyboards like to insert.
            if rest[:1] == " " and rest.lstrip()[:1].isalpha():
                rest = rest.lstrip()
            return rest if rest[:1].strip() else None
        own = self.app.matrix.user_id
        localpart = own.split(":", 1)[0].lstrip("@")
        match = re.match(
            rf"^\s*(?:{re.escape(own)}|@?{re.escape(localpart)})\s*[:,]?\s+(.+)$", text, re.S | re.I
        )
        if match:
            rest = match.group(1)
            return rest[len(prefix) :] if rest.startswith(prefix) else rest
        return None

    async def on_message(self, room: MatrixRoom, event: Any) -> None:
        relates = ((getattr(event, "source", None) or {}).get("content") or {}).get("m.relates_to") or {}
        if relates.get("rel_type") == "m.replace":
            await self._on_edit(room, event, str(relates.get("event_id") or ""))
            return
        text = command_text(event)
        invocation = self.strip_invocation(text)
        if invocation is None:
            await self._on_answer(room, event, text, relates)
            return
        if not self.app.matrix.is_fresh(event, await self.app.matrix.joined_at_ms(room.room_id)):
            return
        preferences = await self._claim(event.event_id, room.room_id, event.sender)
        if preferences is None:
            return
        verdict = self.limiter.take(event.sender)
        if verdict is not Verdict.ALLOW:
            if verdict is Verdict.NOTIFY:
                log.info("%s is over the command limit; ignoring their commands for a moment", event.sender)
                self._submit(room.room_id, lambda: self._tell(room, event, "core_rate_limited", preferences))
            return
        claim = ("command", event.event_id)
        if not self._submit(
            room.room_id, lambda: self.dispatch(room, event, invocation, preferences), claim=claim
        ):
            await self._refuse_busy(room, event, claim)

    async def _on_edit(self, room: MatrixRoom, event: Any, original_id: str) -> None:
        """An edit (Element's "Bearbeiten") of a command that was refused as typed runs the corrected command
        once, as a reply to the original; edits of commands that ran, of other messages, and second edits are
        ignored — nothing is ever done twice."""
        new_content = ((event.source or {}).get("content") or {}).get("m.new_content") or {}
        edited = SimpleNamespace(
            event_id=original_id,
            sender=event.sender,
            server_timestamp=getattr(event, "server_timestamp", 0),
            body=new_content.get("body", ""),
            format=new_content.get("format"),
            formatted_body=new_content.get("formatted_body"),
            source={"content": {k: v for k, v in new_content.items() if k != "m.relates_to"}},
        )
        invocation = self.strip_invocation(command_text(edited))
        if invocation is None or not original_id or not self.app.matrix.is_fresh(event, None):
            return
        async with self.app.db.transaction() as connection:
            failed = (
                await connection.execute(
                    select(ProcessedEvent.failed).where(ProcessedEvent.event_id == original_id)
                )
            ).scalar_one_or_none()
        if not failed:
            return
        original = await self.app.matrix.fetch_event(room.room_id, original_id)
        if getattr(original, "sender", None) != event.sender:
            return  # only the author's own edit counts
        preferences = await self._claim(f"{original_id}:edit", room.room_id, event.sender)
        if preferences is None:
            return
        claim = ("command", f"{original_id}:edit")
        run = lambda: self.dispatch(room, edited, invocation, preferences)  # noqa: E731
        if not self._submit(room.room_id, run, claim=claim):
            await self._refuse_busy(room, event, claim)

    async def _tell(
        self, room: MatrixRoom, event: Any, key: str, preferences: Preferences | None = None
    ) -> None:
        """A notice about a member's message, in their language, mentioning them (rate limit, unreadable,
        busy) — in the message's thread if it was sent in one."""
        ctx = await self.context_for(room, event.sender, event.event_id, hint=None, preferences=preferences)
        content = (getattr(event, "source", None) or {}).get("content") or {}
        relates = content.get("m.relates_to") or {}
        await self.app.sender.send(
            ctx.t(key, user=pill(event.sender)),
            room_id=room.room_id,
            reply_to=event.event_id,
            mentions=(event.sender,),
            thread_root=relates.get("event_id") if relates.get("rel_type") == "m.thread" else None,
        )

    async def _claim(self, event_id: str, room_id: str, sender: str) -> Preferences | None:
        """Record the event as handled, and read what the context needs, in one transaction.

        None if the event was handled already (after a restart or a re-sync). The claim is written before
        the sync token is saved, so a crash can lose a command's execution but never repeat it."""
        try:
            async with self.app.db.transaction() as connection:
                await connection.execute(CLAIM, {"event_id": event_id, "room_id": room_id})
                return await self._preferences(connection, room_id, sender)
        except IntegrityError:
            return None

    @staticmethod
    async def _preferences(connection: AsyncConnection, room_id: str, sender: str) -> Preferences:
        """The member's and the room's settings in one query (each None if nothing is stored)."""
        row = (await connection.execute(PREFERENCES, {"sender": sender, "room_id": room_id})).one()
        return Preferences(language=row[0], timezone=row[1], room_language=row[2])

    async def context_for(
        self,
        room: MatrixRoom,
        sender: str,
        event_id: str,
        *,
        hint: str | None,
        preferences: Preferences | None = None,
    ) -> CommandContext:
        settings = self.app.settings
        if preferences is None:
            async with self.app.db.transaction() as connection:
                preferences = await self._preferences(connection, room.room_id, sender)
        language = preferences.language or hint or preferences.room_language or settings.bot.language
        is_direct = self.app.matrix.is_direct_room(room)
        is_admin = sender in settings.bot.admins
        is_moderator = sender in settings.bot.moderators or (
            not is_direct
            and await self.app.matrix.power_level(room.room_id, sender) >= settings.bot.moderator_power_level
        )
        return CommandContext(
            app=self.app,
            room_id=room.room_id,
            sender=sender,
            event_id=event_id,
            language=normalize_language(language),
            timezone=preferences.timezone or settings.bot.timezone,
            is_direct=is_direct,
            is_moderator=is_moderator,
            is_admin=is_admin,
        )

    def resolve(self, invocation: str) -> tuple[Command | None, str, str | None, tuple[Command, str] | None]:
        """(command, argument string, language hint from the alias used, free-text fallback).

        The fallback is set when a subcommand word follows a command that takes free text itself
        (``!neuigkeit Liste der Gewinner ist online``): that command with its whole argument string."""
        words = invocation.strip().split(None, 1)
        if not words:
            return None, "", None, None
        # "!hilfe." / "!Hilfe!": trailing punctuation and autocapitalisation are not part of the name.
        words[0] = _without_trailing_punctuation(words[0], self.commands)
        command = self.commands.get(fold(words[0]))
        rest = words[1] if len(words) > 1 else ""
        fallback: tuple[Command, str] | None = None
        if command is None:
            return None, rest, None, None
        hint = "en" if fold(words[0]) == fold(command.en) and command.en != command.de else None
        hint = "de" if fold(words[0]) == fold(command.de) and command.en != command.de else hint
        while command.subcommands:
            parts = rest.split(None, 1)
            if parts and command.find_subcommand(parts[0]) is None:
                parts[0] = parts[0].rstrip(TRAILING_PUNCTUATION)
            sub = command.find_subcommand(parts[0]) if parts else None
            if sub is None:
                break
            if hint is None or fold(parts[0]) in (fold(sub.en), fold(sub.de)):
                hint = "en" if fold(parts[0]) == fold(sub.en) and sub.en != sub.de else hint
            if command.handler is not None:
                fallback = (command, rest)
            command, rest = sub, parts[1] if len(parts) > 1 else ""
        return command, rest, hint, fallback

    @staticmethod
    def _meant_as_text(ctx: CommandContext, command: Command, rest: str, parent: Command, text: str) -> bool:
        """Whether words after a subcommand's name are rather the parent's free text: there are more words,
        they are no valid arguments of the subcommand, and they are valid ones of the parent.
        (``!neuigkeit ok 3`` stays the subcommand, refused or not; ``!profil ebene xyz`` gets the subcommand's
        error; without more words the subcommand's usage help is the better answer.)"""

        def parses(candidate: Command, words: str) -> bool:
            try:
                parse_arguments(candidate, words, ctx)
            except CommandError:
                return False
            return True

        return bool(rest.strip()) and not parses(command, rest) and parses(parent, text)

    async def dispatch(
        self, room: MatrixRoom, event: Any, invocation: str, preferences: Preferences | None = None
    ) -> None:
        command, rest, hint, fallback = self.resolve(invocation)
        ctx = await self.context_for(room, event.sender, event.event_id, hint=hint, preferences=preferences)
        if command is not None and fallback is not None:
            parent, text = fallback
            if self._meant_as_text(ctx, command, rest, parent, text):
                command, rest = parent, text
        ctx.body = invocation
        relates = (getattr(event, "source", None) or {}).get("content", {}).get("m.relates_to", {})
        ctx.replied_event_id = (relates.get("m.in_reply_to") or {}).get("event_id")
        if relates.get("rel_type") == "m.thread":
            ctx.thread_root = relates.get("event_id")
        if command is None:
            await self._unknown(ctx, invocation)
            await self._mark_failed(event.event_id)
            return
        ctx.command = command
        if not await self.run_command(ctx, command, rest):
            await self._mark_failed(event.event_id)

    async def _mark_failed(self, event_id: str) -> None:
        """Remember that the command was refused as typed: its author may correct it by editing."""
        try:
            async with self.app.db.transaction() as connection:
                await connection.execute(
                    update(ProcessedEvent).where(ProcessedEvent.event_id == event_id).values(failed=True)
                )
        except Exception:
            log.exception("could not record a refused command")

    async def run_command(self, ctx: CommandContext, command: Command, rest: str) -> bool:
        """Run the command; False when it was refused as typed (the member got the reason)."""
        t = ctx.t
        try:
            if command.handler is None:
                raise CommandError("core_group_usage", show_usage=True)
            ctx.require(command.permission)
            values = parse_arguments(command, rest, ctx)
            await command.handler(ctx, **values)
            return True
        except CommandError as error:
            text = t(
                error.key,
                p=ctx.prefix,
                command=self.usage_name(command, ctx.language),
                **_escaped(error.params),
            )
            if error.show_usage:
                text += "\n\n" + self.usage(command, ctx.language)
            await ctx.reply(text)
            return False
        except DirectChatRefused:
            # Something that can only go to the member's direct chat (a file), which they refused.
            await ctx.tell_direct_chat_refused()
            return True
        except Exception:
            error_id = uuid.uuid4().hex[:8]
            log.exception("command %r failed (error id %s)", ctx.body[:200], error_id)
            await ctx.reply(t("core_internal_error", error_id=error_id))
            return True

    def usage_name(self, command: Command, language: str) -> str:
        return self.app.settings.bot.command_prefix + command.name_in(language)

    def usage(self, command: Command, language: str) -> str:
        """Example and usage line of a command (or the list of its subcommands, each with an example).

        The example comes first: people copy what works; the ``<> [] |`` notation is the second line."""
        t = self.app.catalog.translator(language)
        p = self.app.settings.bot.command_prefix
        lines = []
        if command.handler is not None:
            lines.append(t("core_example_line", example=t(f"{command.help}_example", p=p)))
            lines.append(t("core_usage_line", usage=t(f"{command.help}_usage", p=p)))
        if command.subcommands:
            lines.append(t("core_subcommands"))
            lines.extend(
                f"- `{t(f'{sub.help}_example', p=p)}` — {t(f'{sub.help}_help', p=p)}"
                for sub in command.subcommands
            )
        return "\n".join(lines)

    async def _unknown(self, ctx: CommandContext, invocation: str) -> None:
        word = invocation.split(None, 1)[0] if invocation.strip() else ""
        names = [
            name
            for name, cmd in self.commands.items()
            if not cmd.hidden and ctx.has_permission(cmd.permission)
        ]
        guesses = difflib.get_close_matches(fold(word), names, n=1, cutoff=0.6)
        if guesses:
            suggestion = self.commands[guesses[0]]
            name = suggestion.en if ctx.language == "en" else suggestion.de
            await ctx.answer(
                "core_unknown_command_suggestion", command=_esc(word), suggestion=ctx.prefix + name
            )
        else:
            await ctx.answer("core_unknown_command", command=_esc(word))

    # --- answers: plain replies to a question the bot asked (Feature.on_reply) -----------------------------

    async def _on_answer(self, room: MatrixRoom, event: Any, text: str, relates: dict[str, Any]) -> None:
        """A message without the prefix that replies to a tracked bot message whose kind a feature answers."""
        target_id = (relates.get("m.in_reply_to") or {}).get("event_id")
        if not text.strip() or event.sender == self.app.matrix.user_id:
            return
        if not target_id:
            await self._on_direct_text(room, event, text)
            return
        kinds = {reply.kind for feature in self.app.features for reply in feature.replies}
        if not kinds:
            return
        async with self.app.db.session() as session:
            target = await session.get(BotMessage, str(target_id))
            if target is None or target.kind not in kinds:
                return
            kind, ref_id = target.kind, target.ref_id
        if not self.app.matrix.is_fresh(event, await self.app.matrix.joined_at_ms(room.room_id)):
            return
        preferences = await self._claim(event.event_id, room.room_id, event.sender)
        if preferences is None or self.limiter.take(event.sender) is not Verdict.ALLOW:
            return
        self._submit(
            room.room_id,
            lambda: self._answer(room, event, text, kind, ref_id, preferences),
            claim=("command", event.event_id),
        )

    async def _answer(
        self, room: MatrixRoom, event: Any, text: str, kind: str, ref_id: int | None, preferences: Preferences
    ) -> None:
        ctx = await self.context_for(room, event.sender, event.event_id, hint=None, preferences=preferences)
        ctx.body = text
        for feature in self.app.features:
            for reply in feature.replies:
                if reply.kind == kind:
                    await self._run_answer(ctx, kind, reply.handler(ctx, ref_id, text))

    async def _run_answer(self, ctx: CommandContext, what: str, call: Awaitable[Any]) -> Any:
        """Run an answer handler; a CommandError is replied from the catalog, a crash as an internal error
        (both count as handled: True)."""
        try:
            return await call
        except CommandError as error:
            await ctx.reply(ctx.t(error.key, p=ctx.prefix, command="", **_escaped(error.params)))
        except Exception:
            error_id = uuid.uuid4().hex[:8]
            log.exception("answer handler for %s failed (error id %s)", what, error_id)
            await ctx.reply(ctx.t("core_internal_error", error_id=error_id))
        return True

    async def _on_direct_text(self, room: MatrixRoom, event: Any, text: str) -> None:
        """A plain message in a direct chat with the bot, for features that read one
        (Feature.on_direct_text); the first handler that takes it ends the search."""
        if not any(f.direct_texts for f in self.app.features) or not self.app.matrix.is_direct_room(room):
            return
        if not self.app.matrix.is_fresh(event, await self.app.matrix.joined_at_ms(room.room_id)):
            return
        preferences = await self._claim(event.event_id, room.room_id, event.sender)
        if preferences is None or self.limiter.take(event.sender) is not Verdict.ALLOW:
            return

        async def offer() -> None:
            ctx = await self.context_for(
                room, event.sender, event.event_id, hint=None, preferences=preferences
            )
            ctx.body = text
            for handler in (h for feature in self.app.features for h in feature.direct_texts):
                if await self._run_answer(ctx, "a direct message", handler(ctx, text)):
                    return

        self._submit(room.room_id, offer, claim=("command", event.event_id))

    # --- reactions ----------------------------------------------------------------------------------------

    async def on_reaction(self, room: MatrixRoom, event: ReactionEvent) -> None:
        if not self.app.matrix.is_fresh(event, None):
            return
        async with self.app.db.session() as session:
            target = await session.get(BotMessage, event.reacts_to)
            if target is None:
                return
            if await session.get(Reaction, event.event_id) is not None:
                return
            session.add(
                Reaction(
                    event_id=event.event_id,
                    target_event_id=target.event_id,
                    room_id=room.room_id,
                    sender=event.sender,
                    key=event.key,
                )
            )
            kind, ref_id = target.kind, target.ref_id
        claim = ("reaction", event.event_id)
        if not self._submit(
            room.room_id,
            lambda: self._react(room, event.sender, event.key, True, kind, ref_id, event.reacts_to),
            claim=claim,
        ):
            await self._refuse_busy(room, event, claim)

    async def on_redaction(self, room: MatrixRoom, event: RedactionEvent) -> None:
        async with self.app.db.session() as session:
            reaction = await session.get(Reaction, event.redacts)
            if reaction is None or reaction.sender != event.sender:
                return
            target = await session.get(BotMessage, reaction.target_event_id)
            await session.delete(reaction)
            if target is None:
                return
            kind, ref_id, key = target.kind, target.ref_id, reaction.key
        if not self._submit(
            room.room_id, lambda: self._react(room, event.sender, key, False, kind, ref_id, target.event_id)
        ):
            log.warning("the command queue of %s is full; a removed reaction was not acted on", room.room_id)

    async def _react(
        self, room: MatrixRoom, sender: str, key: str, added: bool, kind: str, ref_id: int | None, target: str
    ) -> None:
        ctx = await self.context_for(room, sender, "", hint=None)
        reaction = ReactionContext(
            app=self.app,
            room_id=room.room_id,
            sender=sender,
            key=key.replace("\ufe0f", ""),
            added=added,
            kind=kind,
            ref_id=ref_id,
            target_event_id=target,
            language=ctx.language,
        )
        for feature in self.app.features:
            for subscription in feature.reactions:
                keys = {k.replace("\ufe0f", "") for k in subscription.keys}
                if subscription.kind == kind and reaction.key in keys:
                    try:
                        await subscription.handler(reaction)
                    except Exception:
                        log.exception("reaction handler for %s failed", kind)

    # --- other events that refer to a bot message (poll responses …) ---------------------------------------

    def wants_event_type(self, event_type: str) -> bool:
        """Whether a feature subscribed to events of this type (``Feature.on_relation``)."""
        return any(
            event_type in subscription.event_types
            for feature in self.app.features
            for subscription in feature.relations
        )

    async def on_related_event(self, room: MatrixRoom, event: Any) -> None:
        """An event of a type the bot has no handler of its own for: dispatched to the features subscribed
        to its type on the kind of bot message its ``m.relates_to`` points at (handlers are idempotent: the
        same event may come twice, e.g. after a restart)."""
        event_type = str(getattr(event, "type", "") or "")
        subscribed = [
            subscription
            for feature in self.app.features
            for subscription in feature.relations
            if event_type in subscription.event_types
        ]
        if not subscribed or not self.app.matrix.is_fresh(event, None):  # nothing to do, or history
            return
        content = (getattr(event, "source", None) or {}).get("content") or {}
        relates = content.get("m.relates_to") if isinstance(content, dict) else None
        target_id = relates.get("event_id") if isinstance(relates, dict) else None
        if not isinstance(target_id, str):
            return
        async with self.app.db.session() as session:
            target = await session.get(BotMessage, target_id)
            if target is None:
                return
            kind, ref_id = target.kind, target.ref_id
        context = RelationContext(
            app=self.app,
            room_id=room.room_id,
            sender=event.sender,
            event_id=event.event_id,
            event_type=event_type,
            content=dict(content),
            origin_ts=int(getattr(event, "server_timestamp", 0) or 0),
            kind=kind,
            ref_id=ref_id,
            target_event_id=target_id,
        )

        async def run() -> None:
            for subscription in subscribed:
                if subscription.kind == kind:
                    try:
                        await subscription.handler(context)
                    except Exception:
                        log.exception("handler for %s on %s failed", event_type, kind)

        self._submit(room.room_id, run)

    # --- membership and encryption trouble ----------------------------------------------------------------

    async def on_member_joined(self, room: MatrixRoom, event: RoomMemberEvent) -> None:
        """Collected per sync and written in one transaction by :meth:`record_joins` (a first sync of a big
        community brings hundreds of join events)."""
        if event.state_key == self.app.matrix.user_id:
            return
        joined_at = datetime.fromtimestamp(event.server_timestamp / 1000, UTC)
        self._pending_joins.setdefault((room.room_id, event.state_key), joined_at)

    async def record_joins(self) -> None:
        pending, self._pending_joins = self._pending_joins, {}
        if not pending:
            return
        rooms = {room_id for room_id, _ in pending}
        try:
            async with self.app.db.session() as session:
                known = set(
                    (
                        await session.execute(
                            select(RoomMembership.room_id, RoomMembership.user_id).where(
                                RoomMembership.room_id.in_(rooms)
                            )
                        )
                    )
                    .tuples()
                    .all()
                )
                session.add_all(
                    RoomMembership(room_id=room_id, user_id=user_id, joined_at=joined_at)
                    for (room_id, user_id), joined_at in pending.items()
                    if (room_id, user_id) not in known
                )
        except IntegrityError:
            log.info("room joins were recorded concurrently")

    async def tell_undecryptable(self, room_id: str, event: MegolmEvent) -> None:
        room = self.app.matrix.client.rooms.get(room_id)
        if room is not None:
            await self._tell(room, event, "core_undecryptable")


TRAILING_PUNCTUATION = ".,!?;:…"


def _without_trailing_punctuation(word: str, commands: dict[str, Command]) -> str:
    if fold(word) in commands:
        return word
    return word.rstrip(TRAILING_PUNCTUATION) or word


def _esc(value: str) -> str:
    """User input quoted in a reply: shortened and escaped."""
    from bot.format import esc, shorten

    return esc(shorten(value))


def _escaped(params: dict[str, Any]) -> dict[str, Any]:
    """Error parameters often echo user input: shorten and escape strings, keep numbers."""
    return {key: _esc(value) if isinstance(value, str) else value for key, value in params.items()}

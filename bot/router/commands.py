"""Commands: prefix, aliases (umlaut-insensitive), language hint, permission, arguments, errors; edits."""

from __future__ import annotations

import difflib
import logging
import re
import uuid
from types import SimpleNamespace
from typing import Any

from nio import MatrixRoom
from sqlalchemy import select, update

from bot.context import CommandContext
from bot.framework import Command, CommandError, fold, parse_arguments
from bot.matrix import DirectChatRefused
from bot.router.core import Preferences, RouterCore
from bot.router.text import TRAILING_PUNCTUATION, _esc, _escaped, _without_trailing_punctuation, command_text
from storage.models import ProcessedEvent

# One logger for the whole router, named as before the split.
log = logging.getLogger(__package__)


class CommandRouting(RouterCore):
    """Messages addressed to the bot: from the typed text to a handler call."""

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

    async def run_as_command(self, room: MatrixRoom, event: Any, text: str, preferences: Preferences) -> bool:
        """A plain message in a direct chat that starts with a command's name runs as that command."""
        command, *_ = self.resolve(text)
        if command is None:
            return False
        await self.dispatch(room, event, text, preferences)
        return True

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

"""Declarative commands: features declare commands with names per language, permission, typed arguments.

A feature module exposes ``feature = Feature(...)`` and decorates its handlers::

    @feature.command(de="erinnere", en="remind", help="reminders_remind", args=[Arg("rest", Text())])
    async def remind(ctx: CommandContext, rest: str) -> None: ...

Help texts, usage lines and examples come from the feature's catalog under ``<help>_help``, ``<help>_usage``
and ``<help>_example`` (``{p}`` in them is the command prefix).
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

# The argument machinery lives in bot.arguments and bot.options; features import it from here.
from bot.arguments import Arg as Arg
from bot.arguments import ArgError as ArgError
from bot.arguments import ArgType as ArgType
from bot.arguments import Choice as Choice
from bot.arguments import ClockArg as ClockArg
from bot.arguments import ClockRangeArg as ClockRangeArg
from bot.arguments import CommandError as CommandError
from bot.arguments import DateArg as DateArg
from bot.arguments import DurationArg as DurationArg
from bot.arguments import Int as Int
from bot.arguments import ParseState as ParseState
from bot.arguments import Quoted as Quoted
from bot.arguments import Text as Text
from bot.arguments import TimePhraseArg as TimePhraseArg
from bot.arguments import Token as Token
from bot.arguments import UserArg as UserArg
from bot.arguments import Word as Word
from bot.arguments import fold as fold
from bot.arguments import tokenize as tokenize
from bot.options import Flag as Flag
from bot.options import parse_arguments as parse_arguments

if TYPE_CHECKING:
    from bot.app import App
    from bot.context import CommandContext, ReactionContext, RelationContext


class Permission(enum.IntEnum):
    MEMBER = 0
    MODERATOR = 1
    ADMIN = 2


# --- commands and features ----------------------------------------------------------------------------------

Handler = Callable[..., Awaitable[None]]
ReactionHandler = Callable[["ReactionContext"], Awaitable[None]]
# An answer to a tracked bot message: ``async def handler(ctx, ref_id, text) -> None`` (see Feature.on_reply).
ReplyHandler = Callable[["CommandContext", "int | None", str], Awaitable[None]]
RelationHandler = Callable[["RelationContext"], Awaitable[None]]
# A plain message in a member's direct chat with the bot (no prefix, no reply): ``async def handler(ctx, text)
# -> bool``, True when it was the feature's business (see Feature.on_direct_text).
DirectTextHandler = Callable[["CommandContext", str], Awaitable[bool]]
PrivacyExport = Callable[["App", str], Awaitable[dict[str, Any]]]
PrivacyErase = Callable[["App", str], Awaitable[int]]
StartHook = Callable[["App"], Awaitable[None]]
# A scheduled job: ``async def job(app, *row_ids, scheduled_for: datetime) -> None`` (see bot/scheduler.py).
JobFunction = Callable[..., Awaitable[None]]


@dataclass
class Command:
    feature: Feature
    de: str
    en: str
    help: str
    aliases: tuple[str, ...] = ()
    permission: Permission = Permission.MEMBER
    args: list[Arg] = field(default_factory=list)
    flags: list[Flag] = field(default_factory=list)
    handler: Handler | None = None
    parent: Command | None = None
    subcommands: list[Command] = field(default_factory=list)
    hidden: bool = False

    @property
    def names(self) -> tuple[str, ...]:
        return (self.de, self.en, *self.aliases)

    def name_in(self, language: str) -> str:
        own = self.en if language == "en" else self.de
        return f"{self.parent.name_in(language)} {own}" if self.parent else own

    def find_subcommand(self, word: str) -> Command | None:
        folded = fold(word)
        for sub in self.subcommands:
            if folded in (fold(name) for name in sub.names):
                return sub
        return None

    def subcommand(
        self,
        *,
        de: str,
        en: str,
        help: str,
        aliases: Iterable[str] = (),
        permission: Permission | None = None,
        args: Sequence[Arg] = (),
        flags: Sequence[Flag] = (),
    ) -> Callable[[Handler], Command]:
        def register(handler: Handler) -> Command:
            sub = Command(
                feature=self.feature,
                de=de,
                en=en,
                help=help,
                aliases=tuple(aliases),
                permission=self.permission if permission is None else permission,
                args=list(args),
                flags=list(flags),
                handler=handler,
                parent=self,
            )
            self.subcommands.append(sub)
            return sub

        return register


@dataclass
class ReactionSubscription:
    kind: str
    keys: frozenset[str]
    handler: ReactionHandler


@dataclass(frozen=True)
class RelationSubscription:
    kind: str
    event_types: frozenset[str]
    handler: RelationHandler


@dataclass
class ReplySubscription:
    kind: str
    handler: ReplyHandler


@dataclass
class Feature:
    """One feature: its commands, catalog, reaction handlers, start hook and privacy hooks."""

    name: str
    messages: Path | None = None
    title_key: str | None = None
    order: int = 50
    # The feature's section of the configuration (``[<name>]``), a pydantic model with defaults.
    settings: type[BaseModel] | None = None
    commands: list[Command] = field(default_factory=list)
    reactions: list[ReactionSubscription] = field(default_factory=list)
    relations: list[RelationSubscription] = field(default_factory=list)
    start_hooks: list[StartHook] = field(default_factory=list)
    exporters: list[PrivacyExport] = field(default_factory=list)
    erasers: list[PrivacyErase] = field(default_factory=list)
    jobs: dict[str, JobFunction] = field(default_factory=dict)
    replies: list[ReplySubscription] = field(default_factory=list)
    direct_texts: list[DirectTextHandler] = field(default_factory=list)

    def command(
        self,
        *,
        de: str,
        en: str,
        help: str,
        aliases: Iterable[str] = (),
        permission: Permission = Permission.MEMBER,
        args: Sequence[Arg] = (),
        flags: Sequence[Flag] = (),
        hidden: bool = False,
    ) -> Callable[[Handler], Command]:
        def register(handler: Handler) -> Command:
            cmd = Command(
                feature=self,
                de=de,
                en=en,
                help=help,
                aliases=tuple(aliases),
                permission=permission,
                args=list(args),
                flags=list(flags),
                handler=handler,
                hidden=hidden,
            )
            self.commands.append(cmd)
            return cmd

        return register

    def group(
        self,
        *,
        de: str,
        en: str,
        help: str,
        aliases: Iterable[str] = (),
        permission: Permission = Permission.MEMBER,
    ) -> Command:
        """A command that only has subcommands (``!erinnerung löschen``)."""
        cmd = Command(feature=self, de=de, en=en, help=help, aliases=tuple(aliases), permission=permission)
        self.commands.append(cmd)
        return cmd

    def on_reaction(self, kind: str, keys: Iterable[str]) -> Callable[[ReactionHandler], ReactionHandler]:
        """Subscribe to reactions (and their removal) on bot messages sent with ``track=(kind, id)``."""

        def register(handler: ReactionHandler) -> ReactionHandler:
            self.reactions.append(ReactionSubscription(kind, frozenset(keys), handler))
            return handler

        return register

    def on_reply(self, kind: str) -> Callable[[ReplyHandler], ReplyHandler]:
        """Subscribe to plain answers (a Matrix reply without the command prefix) to bot messages sent with
        ``track=(kind, id)``: a question the bot asked ("ja", a result). Errors are CommandErrors, as in
        commands; the handler checks who may answer."""

        def register(handler: ReplyHandler) -> ReplyHandler:
            self.replies.append(ReplySubscription(kind, handler))
            return handler

        return register

    def on_relation(
        self, kind: str, event_types: Iterable[str]
    ) -> Callable[[RelationHandler], RelationHandler]:
        """Subscribe to other events (poll responses …) that refer to bot messages sent with
        ``track=(kind, id)`` through ``m.relates_to`` (plain or decrypted)."""

        def register(handler: RelationHandler) -> RelationHandler:
            self.relations.append(RelationSubscription(kind, frozenset(event_types), handler))
            return handler

        return register

    def on_direct_text(self, handler: DirectTextHandler) -> DirectTextHandler:
        """Subscribe to plain messages in a member's direct chat with the bot that are neither commands nor
        replies ("ja" when the bot asked them one thing). The handler returns False when the text is not its
        business (then the next feature's handler is asked; nobody answering is the normal case) and must
        stay silent then. Errors are CommandErrors, as in commands."""
        self.direct_texts.append(handler)
        return handler

    def on_start(self, hook: StartHook) -> StartHook:
        self.start_hooks.append(hook)
        return hook

    def job(self, name: str) -> Callable[[JobFunction], JobFunction]:
        """Register a scheduled job under a name that never changes (``"sessions.reminder"``).

        The job store keeps this name, not the function's import path, so the function may be moved or
        renamed freely; renaming the *name* would orphan every job already stored in an installation."""
        if not name.startswith(f"{self.name}."):
            raise ValueError(f"job names of feature {self.name!r} start with '{self.name}.': {name!r}")

        def register(job: JobFunction) -> JobFunction:
            if name in self.jobs:
                raise ValueError(f"job name {name!r} is registered twice")
            self.jobs[name] = job
            return job

        return register

    def privacy_export(self, exporter: PrivacyExport) -> PrivacyExport:
        self.exporters.append(exporter)
        return exporter

    def privacy_erase(self, eraser: PrivacyErase) -> PrivacyErase:
        self.erasers.append(eraser)
        return eraser

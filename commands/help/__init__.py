"""``!hilfe`` / ``!help``: an overview that fits a phone, the commands of a topic, the details of a command.

The overview is written by hand in the catalog (``help_overview``: the things a member does most, grouped by
what they want to do); topics are the features (``!hilfe sessions``) and ``moderation``; every command's
details show an example first and the notation second.
"""

from __future__ import annotations

import re
from pathlib import Path

from bot.context import CommandContext
from bot.framework import Arg, Command, CommandError, Feature, Permission, Text, fold

feature = Feature("help", messages=Path(__file__).with_name("messages.toml"), order=0)

MODERATION_TOPICS = frozenset({"moderation", "moderator", "moderatorin", "moderatoren", "moderators"})


def overview(ctx: CommandContext) -> str:
    t, p = ctx.t, ctx.prefix
    sections = [t("help_header", p=p), t("help_overview", p=p)]
    if ctx.has_permission(Permission.MODERATOR):
        sections.append(t("help_overview_moderator", p=p))
    sections.append(t("help_footer", p=p, topics=", ".join(topic_word(ctx, feat) for feat in topics(ctx))))
    return "\n\n".join(sections)


def _visible(ctx: CommandContext, command: Command) -> bool:
    return not command.hidden and ctx.has_permission(command.permission)


def runnable(ctx: CommandContext, feat: Feature) -> list[Command]:
    """The feature's commands the member may use, groups replaced by their subcommands."""
    found: list[Command] = []
    for command in feat.commands:
        if not _visible(ctx, command):
            continue
        if command.handler is not None:
            found.append(command)
        found.extend(sub for sub in command.subcommands if _visible(ctx, sub))
    return found


def topics(ctx: CommandContext) -> list[Feature]:
    return [feat for feat in ctx.app.features if feat.title_key is not None and runnable(ctx, feat)]


def topic_word(ctx: CommandContext, feat: Feature) -> str:
    """The word for ``!hilfe <Thema>``: the catalog's ``<feature>_topic``, else the title's first word."""
    key = f"{feat.name}_topic"
    if ctx.app.catalog.has(key, ctx.language):
        return ctx.t(key)
    assert feat.title_key is not None
    return re.split(r"\W+", ctx.t(feat.title_key).strip())[0].casefold()


def find_topic(ctx: CommandContext, word: str) -> Feature | None:
    """A feature named by its topic word (either language), its name, or a longer word of its title."""
    wanted = fold(word)
    catalog = ctx.app.catalog
    for feat in topics(ctx):
        names = {fold(feat.name), fold(topic_word(ctx, feat))}
        for language in ("de", "en"):
            translate = catalog.translator(language)
            if catalog.has(f"{feat.name}_topic", language):
                names.add(fold(translate(f"{feat.name}_topic")))
            assert feat.title_key is not None
            names.update(fold(w) for w in re.split(r"\W+", translate(feat.title_key)) if len(w) >= 4)
        if wanted in names:
            return feat
    return None


def line(ctx: CommandContext, command: Command) -> str:
    """One command as a phone shows it best: a working example, then what it does."""
    t, p = ctx.t, ctx.prefix
    return t(
        "help_topic_line", example=t(f"{command.help}_example", p=p), help=t(f"{command.help}_help", p=p)
    )


def topic_text(ctx: CommandContext, title: str, commands: list[Command]) -> str:
    lines = [f"**{title}**", *(line(ctx, command) for command in commands)]
    return "\n".join(lines) + "\n\n" + ctx.t("help_topic_footer", p=ctx.prefix)


def moderation_text(ctx: CommandContext) -> str:
    commands = [
        command
        for feat in ctx.app.features
        for command in runnable(ctx, feat)
        if command.permission >= Permission.MODERATOR
    ]
    return topic_text(ctx, ctx.t("help_moderation_title"), commands)


def details(ctx: CommandContext, command: Command) -> str:
    t, p = ctx.t, ctx.prefix
    other_language = "de" if ctx.language == "en" else "en"
    text = [f"**`{p}{command.name_in(ctx.language)}`** — {t(f'{command.help}_help', p=p)}"]
    text.append(ctx.app.router.usage(command, ctx.language))
    if command.name_in(other_language) != command.name_in(ctx.language):
        # The full path in the other language (`!bingo stop`, not `!stop`).
        text.append(t("help_alias", alias=f"{p}{command.name_in(other_language)}"))
    return "\n\n".join(text)


@feature.command(de="hilfe", en="help", aliases=("befehle", "commands", "?"), help="help_help",
                 args=[Arg("topic", Text(max_length=100), required=False)])  # fmt: skip
async def show_help(ctx: CommandContext, topic: str | None = None) -> None:
    words = (topic or "").strip().removeprefix(ctx.prefix).split()
    if not words:  # also `!hilfe " "` or `!hilfe !`
        await ctx.reply(overview(ctx))
        return
    if len(words) == 1 and fold(words[0]) in MODERATION_TOPICS and ctx.has_permission(Permission.MODERATOR):
        await ctx.reply(moderation_text(ctx))
        return
    found = find_topic(ctx, words[0]) if len(words) == 1 else None
    if found is not None and found.title_key is not None:
        await ctx.reply(topic_text(ctx, ctx.t(found.title_key), runnable(ctx, found)))
        return
    command = ctx.app.router.commands.get(fold(words[0]))
    if command is None:
        raise CommandError("help_unknown", topic=topic)
    for word in words[1:]:
        sub = command.find_subcommand(word)
        if sub is None:
            break
        command = sub
    await ctx.reply(details(ctx, command))

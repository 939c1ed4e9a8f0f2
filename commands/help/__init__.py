"""``!hilfe`` / ``!help``: the commands a member may use, grouped by feature, in their language."""

from __future__ import annotations

from pathlib import Path

from bot.context import CommandContext
from bot.framework import Arg, Command, CommandError, Feature, Text, fold

feature = Feature("help", messages=Path(__file__).with_name("messages.toml"), order=0)


def overview(ctx: CommandContext) -> str:
    t, p = ctx.t, ctx.prefix
    sections = [t("help_header", p=p)]
    for feat in ctx.app.features:
        visible = [c for c in feat.commands if not c.hidden and ctx.has_permission(c.permission)]
        if not visible or feat.title_key is None:
            continue
        lines = [f"**{t(feat.title_key)}**"]
        for command in visible:
            lines.append(f"- `{p}{command.name_in(ctx.language)}` — {t(f'{command.help}_help', p=p)}")
            for sub in command.subcommands:
                if ctx.has_permission(sub.permission):
                    lines.append(f"  - `{p}{sub.name_in(ctx.language)}` — {t(f'{sub.help}_help', p=p)}")
        sections.append("\n".join(lines))
    sections.append(t("help_footer", p=p))
    return "\n\n".join(sections)


def details(ctx: CommandContext, command: Command) -> str:
    t, p = ctx.t, ctx.prefix
    other = command.de if ctx.language == "en" else command.en
    text = [f"**`{p}{command.name_in(ctx.language)}`** — {t(f'{command.help}_help', p=p)}"]
    if other != command.name_in(ctx.language):
        text.append(t("help_alias", alias=f"{p}{other}"))
    text.append(ctx.app.router.usage(command, ctx.language))
    return "\n\n".join(text)


@feature.command(de="hilfe", en="help", aliases=("befehle", "commands", "?"), help="help_help",
                 args=[Arg("topic", Text(max_length=100), required=False)])  # fmt: skip
async def show_help(ctx: CommandContext, topic: str | None = None) -> None:
    words = (topic or "").strip().removeprefix(ctx.prefix).split()
    if not words:  # also `!hilfe " "` or `!hilfe !`
        await ctx.reply(overview(ctx))
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

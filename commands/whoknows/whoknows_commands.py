"""Handlers: ``!profil auffindbar``, ``!wer-kennt``, ``!wer-kennt synonym``, ``!vorstellen`` (+ ja/nein), and
the found person's answer to the question by reaction or by a plain reply ("ja", "lieber nicht")."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.answers import YesNo, classify_answer, classify_short_answer
from bot.context import CommandContext, ReactionContext
from bot.format import esc
from bot.framework import Arg, Choice, CommandError, Int, Permission, Text
from commands.profile import feature as profile_feature
from commands.profile import show_profile

from .feature import NO_KEYS, REQUEST_KIND, YES_KEYS, feature
from .introductions import answer, answer_by_reaction, open_requests, request_introduction
from .service import Found, add_synonym, is_findable, parse_synonym, search, set_findable

YES_NO = {"ja": ("yes", "an", "on", "y", "j"), "nein": ("no", "aus", "off", "n")}


@show_profile.subcommand(
    de="auffindbar", en="findable", help="whoknows_findable", args=[Arg("value", Choice(YES_NO))]
)
async def findable(ctx: CommandContext, value: str) -> None:
    await set_findable(ctx.app, ctx.sender, value == "ja")
    await ctx.answer("whoknows_findable_on" if value == "ja" else "whoknows_findable_off")


@profile_feature.profile_line
async def findable_line(ctx: CommandContext) -> str:
    """``!profil`` says whether the member can be found with ``!wer-kennt``, and how to change it."""
    async with ctx.app.db.session() as session:
        findable_now = await is_findable(session, ctx.sender)
    return ctx.t(
        "whoknows_profile_findable" if findable_now else "whoknows_profile_not_findable", p=ctx.prefix
    )


def _result_line(ctx: CommandContext, found: Found) -> str:
    dash = ctx.t("whoknows_not_set")
    return ctx.t(
        "whoknows_result",
        number=found.number,
        name=esc(found.name),
        organisation=esc(found.organisation) if found.organisation else dash,
        level=ctx.t(f"profile_level_{found.level}") if found.level else dash,
        topics=", ".join(esc(topic) for topic in found.topics) or dash,
    )


async def _in_direct_chat(ctx: CommandContext, markdown: str) -> None:
    """Answers with names go to the member's direct chat, never into a room."""
    if ctx.is_direct:
        await ctx.reply(markdown)
        return
    await ctx.direct(markdown)
    await ctx.answer("whoknows_sent_dm")


@feature.command(
    de="wer-kennt", en="who-knows", aliases=("werkennt", "wer_kennt", "whoknows", "who_knows"),
    help="whoknows_search", args=[Arg("topic", Text(max_length=200))],
)  # fmt: skip
async def who_knows(ctx: CommandContext, topic: str) -> None:
    found = await search(ctx.app, ctx.sender, topic, datetime.now(UTC), language=ctx.language, tz=ctx.tz)
    if not found:
        await _in_direct_chat(ctx, ctx.t("whoknows_none", topic=esc(topic.strip()), p=ctx.prefix))
        return
    lines = "\n".join(_result_line(ctx, item) for item in found)
    text = ctx.t("whoknows_results", topic=esc(topic.strip()), lines=lines, count=len(found), p=ctx.prefix)
    await _in_direct_chat(ctx, text)


@who_knows.subcommand(
    de="synonym", en="synonym", help="whoknows_synonym", permission=Permission.MODERATOR,
    args=[Arg("text", Text(max_length=210))],
)  # fmt: skip
async def synonym(ctx: CommandContext, text: str) -> None:
    word, other = parse_synonym(text)
    await add_synonym(ctx.app, word, other, by=ctx.sender)
    await ctx.answer("whoknows_synonym_added", word=esc(word), other=esc(other))


@feature.command(
    de="vorstellen", en="introduce", aliases=("vorstellung", "introduction"),
    help="whoknows_introduce", args=[Arg("number", Int(minimum=1))],
)  # fmt: skip
async def introduce(ctx: CommandContext, number: int) -> None:
    asked = await request_introduction(
        ctx.app, ctx.sender, number, datetime.now(UTC), language=ctx.language, tz=ctx.tz
    )
    await _in_direct_chat(ctx, ctx.t("whoknows_asked", name=esc(asked.name), topic=esc(asked.topic)))


@introduce.subcommand(
    de="ja", en="yes", aliases=("ok", "gerne"), help="whoknows_accept",
    args=[Arg("number", Int(minimum=1), required=False)],
)  # fmt: skip
async def accept(ctx: CommandContext, number: int | None) -> None:
    name = await answer(ctx.app, ctx.sender, number, accept=True)
    await ctx.answer("whoknows_accept_done", name=esc(name))


@introduce.subcommand(
    de="nein", en="no", aliases=("ablehnen", "decline"), help="whoknows_decline",
    args=[Arg("number", Int(minimum=1), required=False)],
)  # fmt: skip
async def decline(ctx: CommandContext, number: int | None) -> None:
    name = await answer(ctx.app, ctx.sender, number, accept=False)
    await ctx.answer("whoknows_decline_done", name=esc(name))


@feature.on_reaction(REQUEST_KIND, (*YES_KEYS, *NO_KEYS))
async def answered_by_reaction(reaction: ReactionContext) -> None:
    """👍/✅ or 👎/❌ on the question; only the asked person's own reaction counts, removing one does
    nothing."""
    if reaction.added and reaction.ref_id is not None:
        yes = reaction.is_one_of(YES_KEYS)
        await answer_by_reaction(reaction.app, reaction.ref_id, reaction.sender, accept=yes)


@feature.on_reply(REQUEST_KIND)
async def answered_by_reply(ctx: CommandContext, request_id: int | None, text: str) -> None:
    """A plain reply to the question ("Ja, gerne!", "ok", "lieber nicht", "no thanks"); only the asked
    person's own answer counts (``answer`` looks for an open request to the sender); anything unclear is told
    what to reply."""
    meaning = classify_answer(text)
    if meaning not in (YesNo.YES, YesNo.NO):
        raise CommandError("whoknows_reply_unclear", number=request_id or "")
    accept = meaning is YesNo.YES
    name = await answer(ctx.app, ctx.sender, request_id, accept=accept)
    await ctx.answer("whoknows_accept_done" if accept else "whoknows_decline_done", name=esc(name))


@feature.on_direct_text
async def answered_in_direct_chat(ctx: CommandContext, text: str) -> bool:
    """A short "ja" / "nein" in the direct chat without replying to the question: the answer when exactly
    one request waits for this person; with several, they are told how to say which one."""
    meaning = classify_short_answer(text)
    if meaning not in (YesNo.YES, YesNo.NO):
        return False
    waiting = await open_requests(ctx.app, ctx.sender)
    if not waiting:
        return False
    if len(waiting) > 1:
        raise CommandError("whoknows_reply_which", count=len(waiting))
    accept = meaning is YesNo.YES
    name = await answer(ctx.app, ctx.sender, waiting[0], accept=accept)
    await ctx.answer("whoknows_accept_done" if accept else "whoknows_decline_done", name=esc(name))
    return True

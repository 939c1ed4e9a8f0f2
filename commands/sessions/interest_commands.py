"""Interest in proposals: `!interesse`, 👍/⭐ on a proposal's announcement, polls, the ranking."""

from __future__ import annotations

from bot.context import CommandContext, ReactionContext, RelationContext
from bot.format import esc
from bot.framework import Arg, CommandError, Int, Text
from bot.i18n import Translate

from .feature import event_group, feature, tr
from .interest_service import (
    INTEREST_KEYS,
    POLL_KIND,
    PROPOSAL_KIND,
    InterestSource,
    create_polls,
    event_sessions,
    interest_counts,
    mark_interest,
    my_interest,
    parse_numbers,
    ranking,
    record_poll_response,
    unmark_interest,
)
from .lookups import check_managed_event, events_for, get_event
from .polls import POLL_START_TYPE, RESPONSE_TYPES, poll_content, selections
from .queries import room_language
from .rules import SessionStatus, with_prefix


@feature.command(
    de="interesse",
    en="interest",
    help="sessions_interest",
    args=[Arg("numbers", Text(max_length=500, allow_empty=True), required=False, default="")],
)
async def interest(ctx: CommandContext, numbers: str) -> None:
    t = tr(ctx)
    wanted = parse_numbers(numbers)
    if wanted is None:
        raise CommandError("sessions_interest_error_numbers", given=numbers)
    if not wanted:
        mine = await my_interest(ctx.app, ctx.sender)
        if not mine:
            await ctx.reply(t("sessions_interest_none"))
            return
        lines = [t("sessions_interest_mine_title")]
        lines += [t("sessions_interest_line", session_id=i, title=esc(title)) for i, title in mine]
        await ctx.reply("\n".join(lines))
        return
    marked = await mark_interest(ctx.app, ctx.sender, wanted, InterestSource.COMMAND)
    if not marked.added:
        raise CommandError("sessions_interest_error_unknown", numbers=_numbers(marked.unknown))
    text = t("sessions_interest_marked", sessions=_titles(marked.added))
    if marked.unknown:
        text += "\n" + t("sessions_interest_unknown", numbers=_numbers(marked.unknown))
    await ctx.reply(text)


def _numbers(numbers: list[int]) -> str:
    return ", ".join(str(n) for n in numbers)


def _titles(sessions: list[tuple[int, str]]) -> str:
    return ", ".join(f"**{esc(title)}** ({i})" for i, title in sessions)


async def interest_line(ctx: CommandContext, session_id: int) -> str:
    """The line under ``!session <Nr.>``: how many are interested (never who)."""
    async with ctx.app.db.session() as db:
        count = (await interest_counts(db, [session_id]))[session_id]
    return "\n" + tr(ctx)("sessions_interest_count", count=count)


async def announce_proposal(
    ctx: CommandContext, session_id: int, title: str, event_room: str, open_: bool
) -> None:
    """The reply to a proposal; while proposals are open it is (or is followed by) the proposal's own
    announcement in the event room, on which 👍 or ⭐ marks interest."""
    t = tr(ctx)
    reply = t("sessions_proposed", session_id=session_id, title=esc(title))
    if not open_:
        await ctx.reply(reply)
        return
    if ctx.room_id == event_room:
        await ctx.reply(reply + "\n" + t("sessions_interest_react_hint"), track=(PROPOSAL_KIND, session_id))
        return
    await ctx.reply(reply)
    async with ctx.app.db.session() as db:
        language = await room_language(ctx.app, db, event_room)
    room_t = with_prefix(ctx.app.catalog.translator(language), ctx.prefix)
    text = room_t("sessions_interest_announcement", session_id=session_id, title=esc(title))
    await ctx.app.sender.send(text, room_id=event_room, track=(PROPOSAL_KIND, session_id))


@feature.on_reaction(PROPOSAL_KIND, INTEREST_KEYS)
async def react_to_proposal(reaction: ReactionContext) -> None:
    if reaction.ref_id is None:
        return
    if reaction.added:
        await mark_interest(reaction.app, reaction.sender, [reaction.ref_id], InterestSource.REACTION)
    elif not await reaction.still_reacting_with(INTEREST_KEYS):
        await unmark_interest(reaction.app, reaction.sender, reaction.ref_id, InterestSource.REACTION)


@feature.on_relation(POLL_KIND, RESPONSE_TYPES)
async def poll_response(relation: RelationContext) -> None:
    answers = selections(relation.content)
    if relation.ref_id is None or answers is None:
        return
    await record_poll_response(relation.app, relation.ref_id, relation.sender, answers, relation.origin_ts)


@feature.command(
    de="vorschläge",
    en="proposals",
    aliases=("vorschlaege",),
    help="sessions_proposals",
    args=[Arg("event_id", Int(minimum=1), required=False)],
)
async def proposals(ctx: CommandContext, event_id: int | None) -> None:
    async with ctx.app.db.session() as db:
        events = await events_for(ctx, db, event_id)
        if len(events) > 1:
            raise CommandError(
                "sessions_error_which_event", events=", ".join(f"{e.id} ({e.title})" for e in events)
            )
        event = events[0]
        rows = [r for r in await event_sessions(db, event.id) if r.status == SessionStatus.PROPOSED]
        counts = await interest_counts(db, [r.id for r in rows])
    t = tr(ctx)
    if not rows:
        await ctx.reply(t("sessions_proposals_none", title=esc(event.title)))
        return
    lines = [t("sessions_proposals_title", title=esc(event.title))]
    lines += [
        t("sessions_proposals_line", session_id=r.id, title=esc(r.title), count=counts[r.id]) for r in rows
    ]
    lines.append(t("sessions_proposals_hint"))
    await ctx.reply("\n".join(lines))


@event_group.subcommand(
    de="interesse",
    en="interest",
    aliases=("ranking",),
    help="sessions_event_interest",
    args=[Arg("event_id", Int(minimum=1))],
)
async def event_interest(ctx: CommandContext, event_id: int) -> None:
    await check_managed_event(ctx, event_id)
    title, ranked = await ranking(ctx.app, event_id)
    t = tr(ctx)
    if not ranked:
        raise CommandError("sessions_poll_error_no_proposals", event_id=event_id)
    lines = [t("sessions_interest_ranking_title", title=esc(title))]
    lines += [
        t("sessions_interest_ranking_line", place=place, session_id=i, title=esc(name), count=count)
        for place, (i, name, count) in enumerate(ranked, start=1)
    ]
    await ctx.reply("\n".join(lines))


@event_group.subcommand(
    de="umfrage",
    en="poll",
    aliases=("abstimmung",),
    help="sessions_event_poll",
    args=[Arg("event_id", Int(minimum=1))],
)
async def event_poll(ctx: CommandContext, event_id: int) -> None:
    await check_managed_event(ctx, event_id)
    title, polls = await create_polls(ctx.app, event_id)
    async with ctx.app.db.session() as db:
        room_id = (await get_event(db, event_id)).room_id
        room_t = with_prefix(
            ctx.app.catalog.translator(await room_language(ctx.app, db, room_id)), ctx.prefix
        )
    for index, poll in enumerate(polls, start=1):
        content = _poll(room_t, title, index, len(polls), poll.answers)
        await ctx.app.sender.enqueue(
            content, room_id=room_id, track=(POLL_KIND, poll.poll_id), event_type=POLL_START_TYPE
        )
    await ctx.reply(tr(ctx)("sessions_poll_posted", event_id=event_id, polls=len(polls)))


def _poll(
    t: Translate, title: str, index: int, parts: int, answers: list[tuple[str, int, str]]
) -> dict[str, object]:
    key = "sessions_poll_question" if parts == 1 else "sessions_poll_question_part"
    question = t(key, title=title, part=index, parts=parts)
    texts = [
        (answer, t("sessions_poll_answer", session_id=number, title=name)) for answer, number, name in answers
    ]
    fallback = "\n".join([question, *(text for _, text in texts), t("sessions_poll_fallback_hint")])
    return poll_content(question, texts, fallback)

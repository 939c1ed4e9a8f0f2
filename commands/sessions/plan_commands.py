"""``!veranstaltung planen <Nr.> [übernehmen]`` and the one-reaction sign-up on a personal suggestion."""

from __future__ import annotations

from bot.context import CommandContext, ReactionContext
from bot.framework import Arg, Choice, Int
from bot.i18n import plural

from .feature import event_group, feature, tr
from .lookups import check_managed_event
from .plan_service import apply_preview, compute_preview
from .plan_view import preview_text
from .planning import after_scheduling
from .suggestions import SUGGESTION_KEYS, SUGGESTION_KIND, accept_suggestion

APPLY_WORDS = {"übernehmen": ("uebernehmen", "anwenden", "apply")}


@event_group.subcommand(
    de="planen",
    en="plan",
    aliases=("plan-vorschlag",),
    help="sessions_plan",
    args=[Arg("event_id", Int(minimum=1)), Arg("apply", Choice(APPLY_WORDS), required=False, default=None)],
)
async def plan_event(ctx: CommandContext, event_id: int, apply: str | None) -> None:
    t = tr(ctx)
    await check_managed_event(ctx, event_id)
    if apply is None:
        data, plan = await compute_preview(
            ctx.app,
            event_id,
            by=ctx.sender,
            started=lambda: ctx.reply(t("sessions_plan_computing", event_id=event_id)),
        )
        text = preview_text(data.event_id, data.title, data.slots, data.locations, data.sessions, plan, t)
        await ctx.reply(text)
        return
    applied = await apply_preview(ctx.app, event_id, by=ctx.sender, t=t)
    for session_id, scheduled in applied.scheduled:
        await after_scheduling(ctx.app, session_id, scheduled)
    ctx.app.sender.wake()
    moved = sum(1 for _, scheduled in applied.scheduled if scheduled.moved)
    clashes = sum(scheduled.clashes for _, scheduled in applied.scheduled)
    text = t(
        "sessions_plan_applied",
        event_id=event_id,
        scheduled=len(applied.scheduled) - moved,
        moved=moved,
        unchanged=applied.unchanged,
        suggestions=applied.suggestions,
    )
    if clashes:
        text += "\n" + t("sessions_moved_clashes_told", people=plural(t, "sessions_people_count", clashes))
    await ctx.reply(text)


@feature.on_reaction(SUGGESTION_KIND, SUGGESTION_KEYS)
async def react_to_suggestion(reaction: ReactionContext) -> None:
    if reaction.ref_id is None or not reaction.added:
        return
    text = await accept_suggestion(reaction.app, reaction.ref_id, reaction.sender, reaction.language)
    if text:
        await reaction.app.sender.send(text, to_user=reaction.sender)

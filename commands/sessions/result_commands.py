"""Results of sessions: ``!ergebnis`` (hosts and moderators add, replace, clear), a plain answer to the
end-of-session direct message, and ``!ergebnisse`` (the summary for the plenum)."""

from __future__ import annotations

from collections.abc import Callable

from bot.context import CommandContext
from bot.format import esc
from bot.framework import Arg, CommandError, Int, Text
from bot.i18n import plural
from bot.names import name_or_localpart
from storage.sessions import SessionEvent

from .feature import feature, tr
from .lookups import events_for, is_event_moderator
from .queries import load_event_data
from .results_format import ResultVerb, parse_result_answer, plenum_summary, result_lines
from .results_service import RESULTS_REQUEST_KIND, change_results, event_by_title, load_results


async def _record(ctx: CommandContext, session_id: int, text: str) -> None:
    """Apply what the host wrote and confirm it with the session's results as they are now."""
    change = await change_results(
        ctx.app,
        session_id,
        parse_result_answer(text),
        by=ctx.sender,
        is_moderator=lambda event: is_event_moderator(ctx, event),
    )
    t = tr(ctx)
    key = "sessions_results_cleared" if change.verb is ResultVerb.CLEAR else "sessions_results_saved"
    entries = plural(t, "sessions_entries_count", len(change.entries))
    lines = [t(key, session_id=session_id, title=esc(change.title), entries=entries)]
    lines.extend(result_lines(change.entries, t))
    if change.entries:
        lines.append(t("sessions_results_saved_hint", session_id=session_id))
    await ctx.reply("\n".join(lines))


@feature.command(
    de="ergebnis",
    en="result",
    aliases=("resultat",),
    help="sessions_result",
    args=[Arg("session_id", Int(minimum=1)), Arg("text", Text(max_length=4000))],
)
async def add_result(ctx: CommandContext, session_id: int, text: str) -> None:
    await _record(ctx, session_id, text)


@feature.on_reply(RESULTS_REQUEST_KIND)
async def answer_results_request(ctx: CommandContext, session_id: int | None, text: str) -> None:
    if session_id is not None:
        await _record(ctx, session_id, text[:4000])


@feature.command(
    de="ergebnisse",
    en="results",
    help="sessions_results_cmd",
    args=[Arg("event", Text(max_length=200, allow_empty=True), required=False, default="")],
)
async def results_summary(ctx: CommandContext, event: str) -> None:
    wanted = event.strip().lstrip("#")
    async with ctx.app.db.session() as db:
        if wanted and not wanted.isdigit():
            found: list[SessionEvent] = list(await event_by_title(db, wanted))
            if not found:
                raise CommandError("sessions_results_error_unknown_event", title=wanted)
            events = found[:1]
        else:
            events = await events_for(ctx, db, int(wanted) if wanted else None)
        texts = []
        for chosen in events:
            data = await load_event_data(db, chosen)
            results = await load_results(db, [s.id for s in data.sessions])
            names = _namer(ctx, chosen)
            t = tr(ctx)
            texts.append(
                plenum_summary(chosen.title, data.slot_views, data.sessions, results, t, name_of=names)
            )
    await ctx.reply("\n\n".join(texts))


def _namer(ctx: CommandContext, event: SessionEvent) -> Callable[[str], str]:
    """Hosts by their display name in the event room (the localpart when they have none)."""

    def name_of(user_id: str) -> str:
        return name_or_localpart(ctx.app, user_id, event.room_id)

    return name_of

"""Personal suggestions after a plan is applied: one direct message per interested member with a session per
time slot, and one reaction (👍 or ✅) on it signs them up for all of them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from sqlalchemy import select

from bot.format import esc
from storage.sessions import BarcampSession, SessionHost, SessionSignup, SessionSuggestion

from .feature import SIGNUP_KEYS
from .plan_view import suggestion_for
from .queries import translator_for
from .rules import SessionStatus, with_prefix
from .service import invite_all, sign_up

if TYPE_CHECKING:
    from bot.app import App

    from .plan_service import PlanData
    from .planner import Placement

SUGGESTION_KIND = "session_suggestion"
SUGGESTION_KEYS = SIGNUP_KEYS


def suggested_ids(row: SessionSuggestion) -> list[int]:
    return [int(part) for part in row.session_ids.split(",") if part]


async def _busy_rounds(app: App, member: str, event_id: int) -> set[int]:
    """Time slots in which the member already hosts a session or is signed up for one."""
    async with app.db.session() as db:
        hosting = select(BarcampSession.slot_id).join(SessionHost).where(SessionHost.user_id == member)
        signed = select(BarcampSession.slot_id).join(SessionSignup).where(SessionSignup.user_id == member)
        rows = await db.scalars(
            select(BarcampSession.slot_id).where(
                BarcampSession.event_id == event_id,
                BarcampSession.status == SessionStatus.SCHEDULED,
                BarcampSession.slot_id.in_(hosting.union(signed)),
            )
        )
        return {slot_id for slot_id in rows if slot_id is not None}


async def queue_suggestions(app: App, data: PlanData, placements: Sequence[Placement]) -> int:
    """Queue each interested member's suggestion (unless it is the same as the last one they got); returns
    how many were queued. Call ``sender.wake()`` afterwards."""
    sessions = {s.id: s for s in data.sessions}
    capacity = {loc.id: loc.capacity for loc in data.locations}
    slots = {s.id: s for s in data.slots}
    members = sorted({m for p in placements for m in sessions[p.proposal_id].interested})
    queued = 0
    for member in members:
        busy = await _busy_rounds(app, member, data.event_id)
        chosen = suggestion_for(member, placements, sessions, capacity, busy)
        if not chosen:
            continue
        ordered = sorted(chosen.items(), key=lambda item: slots[item[0]].number)
        ids = [session_id for _, session_id in ordered]
        async with app.db.session() as db:
            last = await db.scalar(
                select(SessionSuggestion)
                .where(SessionSuggestion.event_id == data.event_id, SessionSuggestion.user_id == member)
                .order_by(SessionSuggestion.id.desc())
                .limit(1)
            )
            if last is not None and suggested_ids(last) == ids:
                continue
            row = SessionSuggestion(
                event_id=data.event_id, user_id=member, session_ids=",".join(str(i) for i in ids)
            )
            db.add(row)
            await db.flush()
            t = with_prefix(await translator_for(app, db, member), app.settings.bot.command_prefix)
            lines = [
                t(
                    "sessions_plan_suggestion_line",
                    number=slots[round_id].number,
                    name=esc(slots[round_id].name),
                    start=slots[round_id].start,
                    end=slots[round_id].end,
                    session_id=session_id,
                    title=esc(sessions[session_id].title),
                )
                for round_id, session_id in ordered
            ]
            text = t("sessions_plan_suggestion_dm", title=esc(data.title), lines="\n".join(lines))
            db.add(app.sender.prepare(text, to_user=member, track=(SUGGESTION_KIND, row.id)))
        queued += 1
    return queued


async def accept_suggestion(app: App, suggestion_id: int, member: str, language: str) -> str | None:
    """Sign the member up for every session of their suggestion; the combined answer (None: not theirs)."""
    async with app.db.session() as db:
        row = await db.get(SessionSuggestion, suggestion_id)
        if row is None or row.user_id != member:
            return None
        ids = suggested_ids(row)
    t = with_prefix(app.catalog.translator(language), app.settings.bot.command_prefix)
    texts = []
    for session_id in ids:
        change = await sign_up(app, session_id, member, switch=False, t=t)
        await invite_all(app, change.invite)
        if change.text:
            texts.append(change.text)
    return "\n".join(texts) or None

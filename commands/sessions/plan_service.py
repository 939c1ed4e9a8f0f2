"""Planning an event: its data as the planner's input, the preview (computed off the event loop and stored),
and applying it — sessions scheduled through ``!session einplanen``'s service path, the moves told, each
interested member one direct message with their personal suggestion.

A preview is applied only if the data it was computed from is unchanged: a fingerprint of the planner's input
is stored with it and compared when the moderator says ``übernehmen``.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.framework import CommandError
from bot.i18n import Translate
from storage.sessions import (
    SessionLocation,
    SessionPlacement,
    SessionPlanPreview,
    SessionSlot,
    SessionUnavailable,
)

from .feature import sessions_settings
from .interest_service import event_sessions, interested_members
from .locations import location_by_name
from .lookups import get_event, get_session
from .plan_view import LocationInfo, SessionInfo, SlotInfo
from .planner import Location, Placement, Plan, PlanningInput, Proposal, Round, plan_sessions
from .planning import Scheduled, schedule_session, tell_location_changed
from .rules import SessionStatus
from .suggestions import queue_suggestions

if TYPE_CHECKING:
    from bot.app import App

PLAN_WORKERS = 2


@dataclass(frozen=True)
class PlanData:
    event_id: int
    title: str
    slots: list[SlotInfo]
    locations: list[LocationInfo]
    sessions: list[SessionInfo]
    problem: PlanningInput

    @property
    def fingerprint(self) -> str:
        p = self.problem
        data = {
            "proposals": [[x.id, sorted(x.hosts), sorted(x.interested)] for x in p.proposals],
            "rounds": [[r.id, r.order] for r in p.rounds],
            "locations": [[loc.id, loc.capacity] for loc in p.locations],
            "unavailable": sorted(map(list, p.unavailable)),
            "current": sorted([c.proposal_id, c.round_id, c.location_id] for c in p.current),
            "move_weight": p.move_weight,
        }
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def _unavailable_host(session_id: int) -> str:
    """A stand-in host per session for ``!session verhindert``: the hosts of this session cannot make
    those slots, which says nothing about their other sessions."""
    return f"session:{session_id}"


async def load_plan_data(app: App, db: AsyncSession, event_id: int) -> PlanData:
    event = await get_event(db, event_id)
    slots = list(
        await db.scalars(
            select(SessionSlot).where(SessionSlot.event_id == event_id).order_by(SessionSlot.number)
        )
    )
    locations = list(
        await db.scalars(
            select(SessionLocation)
            .where(SessionLocation.event_id == event_id)
            .order_by(SessionLocation.number)
        )
    )
    rows = await event_sessions(db, event_id)
    interest = await interested_members(db, [r.id for r in rows])
    ids = [r.id for r in rows]
    blocked = (
        (await db.execute(select(SessionUnavailable).where(SessionUnavailable.session_id.in_(ids))))
        .scalars()
        .all()
    )
    placed = {
        p.session_id: p.location_id
        for p in (await db.scalars(select(SessionPlacement).where(SessionPlacement.session_id.in_(ids))))
    }
    location_ids = {loc.id for loc in locations}
    blocked_sessions = {b.session_id for b in blocked}
    sessions = [
        SessionInfo(r.id, r.title, frozenset(h.user_id for h in r.hosts), frozenset(interest[r.id]))
        for r in rows
    ]
    current = []
    for r in rows:
        if r.status == SessionStatus.SCHEDULED and r.slot_id is not None:
            location_id = placed.get(r.id) or location_by_name(locations, r.location)
            if location_id in location_ids and location_id is not None:
                current.append(Placement(r.id, r.slot_id, location_id))
    problem = PlanningInput(
        proposals=tuple(
            Proposal(
                s.id,
                s.hosts | ({_unavailable_host(s.id)} if s.id in blocked_sessions else set()),
                s.interested,
            )
            for s in sessions
        ),
        rounds=tuple(Round(s.id, s.number) for s in slots),
        locations=tuple(Location(loc.id, loc.name, loc.capacity) for loc in locations),
        unavailable=frozenset((_unavailable_host(b.session_id), b.slot_id) for b in blocked),
        current=tuple(current),
        move_weight=sessions_settings(app).plan_move_weight,
    )
    return PlanData(
        event_id=event.id,
        title=event.title,
        slots=[SlotInfo(s.id, s.number, s.name, s.start, s.end) for s in slots],
        locations=[LocationInfo(loc.id, loc.number, loc.name, loc.capacity, loc.link) for loc in locations],
        sessions=sessions,
        problem=problem,
    )


async def compute_preview(
    app: App, event_id: int, *, by: str, started: Callable[[], Awaitable[object]]
) -> tuple[PlanData, Plan]:
    """Plan the event (in a worker thread: the bot keeps answering) and store the result as the preview;
    ``started`` is awaited once the input is checked and the search begins."""
    async with app.locks.for_key("sessions-plan", event_id):
        async with app.db.session() as db:
            data = await load_plan_data(app, db, event_id)
        if not data.slots:
            raise CommandError("sessions_plan_error_no_slots", event_id=event_id)
        if not data.locations:
            raise CommandError("sessions_plan_error_no_locations", event_id=event_id)
        if not data.sessions:
            raise CommandError("sessions_plan_error_no_proposals", event_id=event_id)
        limit = sessions_settings(app).plan_time_limit_seconds
        await started()
        plan = await asyncio.to_thread(plan_sessions, data.problem, time_limit=limit, workers=PLAN_WORKERS)
        async with app.db.session() as db:
            await db.execute(delete(SessionPlanPreview).where(SessionPlanPreview.event_id == event_id))
            db.add(
                SessionPlanPreview(
                    event_id=event_id,
                    fingerprint=data.fingerprint,
                    placements=json.dumps(
                        [[p.proposal_id, p.round_id, p.location_id] for p in plan.placements]
                    ),
                    created_by=by,
                )
            )
    return data, plan


@dataclass
class Applied:
    scheduled: list[tuple[int, Scheduled]]  # sessions newly scheduled or moved
    unchanged: int
    suggestions: int


async def apply_preview(app: App, event_id: int, *, by: str, t: Translate) -> Applied:
    """Apply the stored preview if the event's data has not changed since it was computed."""
    async with app.locks.for_key("sessions-plan", event_id):
        async with app.db.session() as db:
            data = await load_plan_data(app, db, event_id)
            preview = await db.get(SessionPlanPreview, event_id)
            if preview is None:
                raise CommandError("sessions_plan_error_no_preview", event_id=event_id)
            if preview.fingerprint != data.fingerprint:
                raise CommandError("sessions_plan_error_changed", event_id=event_id)
            placements = [Placement(int(a), int(b), int(c)) for a, b, c in json.loads(preview.placements)]
            await db.delete(preview)
        current = {c.proposal_id: c for c in data.problem.current}
        slot_number = {s.id: s.number for s in data.slots}
        where = {loc.id: loc for loc in data.locations}
        applied = Applied([], 0, 0)
        for placement in sorted(placements, key=lambda p: (slot_number[p.round_id], p.proposal_id)):
            before = current.get(placement.proposal_id)
            if before == placement:
                applied.unchanged += 1
                continue
            location = where[placement.location_id]
            scheduled = await schedule_session(
                app,
                event_id,
                placement.proposal_id,
                str(slot_number[placement.round_id]),
                location.text,
                by=by,
                t=t,
            )
            applied.scheduled.append((placement.proposal_id, scheduled))
            async with app.db.session() as db:
                await db.merge(SessionPlacement(session_id=placement.proposal_id, location_id=location.id))
                if before is not None and not scheduled.moved:
                    await tell_location_changed(app, db, await get_session(db, placement.proposal_id), by=by)
        applied.suggestions = await queue_suggestions(app, data, placements)
    app.sender.wake()
    return applied

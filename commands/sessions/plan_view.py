"""The planner's answer for people: the moderators' preview table and each member's personal suggestion.

Pure: plain views in, Markdown (through the catalog) or decisions out; no database, no Matrix.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import time

from bot.format import esc
from bot.i18n import Translate

from .planner import Placement, Plan, Reason, pair_weights
from .planner import Proposal as PlannerProposal


@dataclass(frozen=True)
class SlotInfo:
    id: int
    number: int
    name: str
    start: time
    end: time


@dataclass(frozen=True)
class LocationInfo:
    id: int
    number: int
    name: str
    capacity: int
    link: str | None

    @property
    def text(self) -> str:
        """How the location is stored on a scheduled session (and shown): its name, then its link."""
        return f"{self.name} – {self.link}" if self.link else self.name


@dataclass(frozen=True)
class SessionInfo:
    id: int
    title: str
    hosts: frozenset[str]
    interested: frozenset[str]


REASON_KEYS: Mapping[Reason, str] = {
    Reason.NO_ROUNDS: "sessions_plan_reason_no_slots",
    Reason.NO_LOCATIONS: "sessions_plan_reason_no_locations",
    Reason.HOSTS_UNAVAILABLE: "sessions_plan_reason_hosts_unavailable",
    Reason.HOST_OVERBOOKED: "sessions_plan_reason_host_overbooked",
    Reason.NO_FREE_SLOT: "sessions_plan_reason_no_free_slot",
}


def session_conflicts(sessions: Iterable[SessionInfo], placements: Iterable[Placement]) -> dict[int, int]:
    """Per placed session: members interested in it and in another session of the same time slot (counted
    per pair, as the planner counts them)."""
    weights = pair_weights(PlannerProposal(s.id, s.hosts, s.interested) for s in sessions)
    round_of = {p.proposal_id: p.round_id for p in placements}
    conflicts: dict[int, int] = dict.fromkeys(round_of, 0)
    for (a, b), weight in weights.items():
        if a in round_of and b in round_of and round_of[a] == round_of[b]:
            conflicts[a] += weight
            conflicts[b] += weight
    return conflicts


def preview_text(
    event_id: int,
    title: str,
    slots: list[SlotInfo],
    locations: list[LocationInfo],
    sessions: list[SessionInfo],
    plan: Plan,
    t: Translate,
) -> str:
    """The moderators' preview: per time slot a compact list (two short lines per session, readable on a
    phone, where a table would be too wide), the totals, what could not be placed and why."""
    by_id = {s.id: s for s in sessions}
    where = {loc.id: loc for loc in locations}
    conflicts = session_conflicts(sessions, plan.placements)
    lines = [t("sessions_plan_preview_title", event_id=event_id, title=esc(title))]
    for slot in slots:
        placed = sorted(
            (p for p in plan.placements if p.round_id == slot.id), key=lambda p: where[p.location_id].number
        )
        lines.append("")
        lines.append(
            t("sessions_plan_slot", number=slot.number, name=esc(slot.name), start=slot.start, end=slot.end)
        )
        if not placed:
            lines.append(t("sessions_plan_slot_empty"))
            continue
        for p in placed:
            session, loc = by_id[p.proposal_id], where[p.location_id]
            lines.append(t("sessions_plan_item", session_id=session.id, title=esc(session.title)))
            lines.append(
                t(
                    "sessions_plan_item_detail",
                    location=esc(loc.name),
                    capacity=loc.capacity,
                    interest=len(session.interested),
                    conflicts=conflicts.get(session.id, 0),
                )
            )
    lines.append("")
    lines.append(
        t(
            "sessions_plan_totals",
            placed=len(plan.placements),
            total=len(sessions),
            conflicts=plan.conflicts,
            overflow=plan.overflow,
            moves=plan.moves,
            seconds=round(plan.seconds, 1),
        )
    )
    for unplaced in plan.unplaced:
        session = by_id[unplaced.proposal_id]
        reason = t(REASON_KEYS[unplaced.reason])
        lines.append(
            t("sessions_plan_unplaced", session_id=session.id, title=esc(session.title), reason=reason)
        )
    lines.append(t("sessions_plan_apply_hint", event_id=event_id))
    return "\n".join(lines)


def suggestion_for(
    member: str,
    placements: Iterable[Placement],
    sessions: Mapping[int, SessionInfo],
    capacity: Mapping[int, int],
    busy_rounds: set[int],
) -> dict[int, int]:
    """round id → session id: per time slot the member is free in (``busy_rounds``: hosting or signed up
    there), the session of interest to them with the most seats to spare (then the lower number)."""
    candidates: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for p in placements:
        session = sessions[p.proposal_id]
        if member in session.interested and p.round_id not in busy_rounds:
            spare = capacity[p.location_id] - len(session.interested)
            candidates[p.round_id].append((-spare, session.id))
    return {round_id: min(options)[1] for round_id, options in candidates.items()}

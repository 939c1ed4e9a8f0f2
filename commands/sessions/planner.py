"""Session planner: proposals, interest, rounds and locations in; rounds and locations per proposal out.

A pure function (no I/O, no database, no Matrix): :func:`plan_sessions` takes a :class:`PlanningInput` and
returns a :class:`Plan`. The chat commands map their rows onto these dataclasses and show or apply the plan.

Hard rules: a host is never in two sessions of the same round; a host's unavailable rounds are respected; at
most one session per location and round. Objective, lexicographic — each stage is solved on its own and its
result fixed before the next one starts, so no weight can trade a later goal for an earlier one:

0. place as many proposals as the hard rules allow (never leave one out to save conflicts);
1. fewest interest conflicts: for every member, the pairs of their interesting sessions in the same round;
2. least expected overflow: Σ max(0, interest − capacity) over placed sessions;
3. fewest moves against the current plan (re-planning);
4. ties: popular sessions not in the same round, larger rooms for more interest.

The solver is OR-Tools CP-SAT (docs/decisions.md); the model is in ``planner_model.py``, the baselines
(random, greedy) in ``planner_baselines.py``. :func:`violations` and :func:`evaluate` check and score any
assignment straight from the input data, independent of the model, for tests, benchmarks and hand-made plans.
"""

from __future__ import annotations

import enum
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import combinations

# --- input -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Proposal:
    """A proposed session: who hosts it and who is interested (member ids, e.g. Matrix user ids)."""

    id: int
    hosts: frozenset[str] = frozenset()
    interested: frozenset[str] = frozenset()

    @property
    def interest(self) -> int:
        return len(self.interested)


@dataclass(frozen=True)
class Round:
    """A session round; ``order`` is its position in the day (used for reporting and tie-breaking only)."""

    id: int
    order: int


@dataclass(frozen=True)
class Location:
    """A room (or a virtual room) with its number of seats."""

    id: int
    name: str
    capacity: int


@dataclass(frozen=True)
class Placement:
    """A proposal in a round at a location."""

    proposal_id: int
    round_id: int
    location_id: int


@dataclass(frozen=True)
class PlanningInput:
    """Everything the planner needs.

    ``unavailable`` holds (host id, round id) pairs: that host cannot make that round. ``current`` is the plan
    in force when re-planning (placements of proposals that are already scheduled); moving one of them costs
    ``move_weight`` conflicts in stage 1 — 0 (the default) keeps the order above strict, so moves only break
    ties after conflicts and overflow; with a positive weight a scheduled session only changes round if that
    saves more than ``move_weight`` conflicts.
    """

    proposals: tuple[Proposal, ...]
    rounds: tuple[Round, ...]
    locations: tuple[Location, ...]
    unavailable: frozenset[tuple[str, int]] = frozenset()
    current: tuple[Placement, ...] = ()
    move_weight: int = 0

    def __post_init__(self) -> None:
        for kind, ids in (
            ("proposal", [p.id for p in self.proposals]),
            ("round", [r.id for r in self.rounds]),
            ("location", [loc.id for loc in self.locations]),
        ):
            duplicates = sorted(key for key, count in Counter(ids).items() if count > 1)
            if duplicates:
                raise ValueError(f"duplicate {kind} ids: {duplicates}")
        if any(location.capacity <= 0 for location in self.locations):
            raise ValueError("every location needs a capacity > 0")
        if self.move_weight < 0:
            raise ValueError("move_weight must be ≥ 0")
        if len({placement.proposal_id for placement in self.current}) != len(self.current):
            raise ValueError("the current plan places a proposal twice")


# --- output ------------------------------------------------------------------------------------------------


class Status(enum.StrEnum):
    """How good the plan is known to be.

    ``optimal``: every stage proven optimal. ``feasible``: placement and conflicts proven optimal, the time
    ran out in a later stage (overflow, moves, ties). ``timeout``: the time ran out before the placement count
    or the conflicts were proven; the plan is the best found so far (``conflict_bound`` says how far off it
    can be).
    """

    OPTIMAL = "optimal"
    FEASIBLE = "feasible"
    TIMEOUT = "timeout"


class Reason(enum.StrEnum):
    """Why a proposal is not in the plan."""

    NO_ROUNDS = "no_rounds"  # the event has no rounds
    NO_LOCATIONS = "no_locations"  # the event has no locations
    HOSTS_UNAVAILABLE = "hosts_unavailable"  # its hosts together cannot make any round
    HOST_OVERBOOKED = "host_overbooked"  # a host has more proposals than rounds they can make
    NO_FREE_SLOT = "no_free_slot"  # every round × location slot the hosts could use is taken


REASON_TEXT: Mapping[Reason, str] = {
    Reason.NO_ROUNDS: "the event has no session rounds",
    Reason.NO_LOCATIONS: "the event has no locations",
    Reason.HOSTS_UNAVAILABLE: "its hosts together cannot make any round",
    Reason.HOST_OVERBOOKED: "a host has more proposals than rounds they can make",
    Reason.NO_FREE_SLOT: "all slots in the rounds its hosts can make are taken",
}


@dataclass(frozen=True)
class Unplaced:
    proposal_id: int
    reason: Reason

    @property
    def text(self) -> str:
        return REASON_TEXT[self.reason]


@dataclass(frozen=True)
class Plan:
    """The planner's answer.

    ``conflict_bound`` is the solver's proven lower bound on the stage-1 objective (conflicts, plus
    ``move_weight`` × round changes when that is positive) over all plans that place as many proposals; it
    equals ``conflicts`` when the status is optimal or feasible (and ``move_weight`` is 0).
    """

    placements: tuple[Placement, ...]
    unplaced: tuple[Unplaced, ...]
    conflicts: int
    overflow: int
    moves: int
    conflict_bound: int
    status: Status
    seconds: float

    def by_proposal(self) -> dict[int, Placement]:
        return {placement.proposal_id: placement for placement in self.placements}


# --- independent checks and scores -------------------------------------------------------------------------


def allowed_rounds(problem: PlanningInput) -> dict[int, tuple[int, ...]]:
    """Round ids each proposal's hosts can all make, in the order of the day."""
    ordered = [r.id for r in sorted(problem.rounds, key=lambda r: (r.order, r.id))]
    return {
        p.id: tuple(r for r in ordered if not any((host, r) in problem.unavailable for host in p.hosts))
        for p in problem.proposals
    }


def violations(problem: PlanningInput, placements: Iterable[Placement]) -> list[str]:
    """Every hard-rule violation of ``placements``, as readable sentences; empty when the plan is valid.

    Computed from the input data alone (not from the solver's model), so it checks the solver as well.
    """
    proposals = {p.id: p for p in problem.proposals}
    round_ids = {r.id for r in problem.rounds}
    location_ids = {loc.id for loc in problem.locations}
    found: list[str] = []
    seen_proposals: set[int] = set()
    slots: dict[tuple[int, int], int] = {}
    host_rounds: dict[tuple[str, int], int] = {}
    for placement in placements:
        pid, rid, lid = placement.proposal_id, placement.round_id, placement.location_id
        if pid not in proposals:
            found.append(f"unknown proposal {pid}")
            continue
        if pid in seen_proposals:
            found.append(f"proposal {pid} placed twice")
        seen_proposals.add(pid)
        if rid not in round_ids or lid not in location_ids:
            found.append(f"proposal {pid} in unknown round {rid} or location {lid}")
        if (rid, lid) in slots:
            found.append(f"proposals {slots[rid, lid]} and {pid} share location {lid} in round {rid}")
        slots[rid, lid] = pid
        for host in sorted(proposals[pid].hosts):
            if (host, rid) in problem.unavailable:
                found.append(f"host {host} of proposal {pid} is unavailable in round {rid}")
            if (host, rid) in host_rounds:
                found.append(f"host {host} has proposals {host_rounds[host, rid]} and {pid} in round {rid}")
            host_rounds[host, rid] = pid
    return found


def evaluate(problem: PlanningInput, placements: Iterable[Placement]) -> tuple[int, int, int]:
    """(conflicts, overflow, moves) of ``placements``, counted per member straight from the input."""
    proposals = {p.id: p for p in problem.proposals}
    capacity = {loc.id: loc.capacity for loc in problem.locations}
    chosen = list(placements)
    per_member_round: Counter[tuple[str, int]] = Counter()
    overflow = 0
    for placement in chosen:
        proposal = proposals[placement.proposal_id]
        for member in proposal.interested:
            per_member_round[member, placement.round_id] += 1
        overflow += max(0, proposal.interest - capacity[placement.location_id])
    conflicts = sum(count * (count - 1) // 2 for count in per_member_round.values())
    # A withdrawn proposal's old slot is no move: there is nobody to tell.
    current = [before for before in problem.current if before.proposal_id in proposals]
    return conflicts, overflow, count_moves(current, chosen)


def count_moves(current: Iterable[Placement], placements: Iterable[Placement]) -> int:
    """Proposals of the current plan that are now elsewhere (other round or location) or no longer placed."""
    now = {placement.proposal_id: placement for placement in placements}
    return sum(1 for before in current if now.get(before.proposal_id) != before)


def pair_weights(proposals: Iterable[Proposal]) -> dict[tuple[int, int], int]:
    """w(p, q) for p < q: the number of members interested in both; only pairs with w > 0 appear.

    Conflicts of a plan = Σ w(p, q) over pairs placed in the same round; aggregating members into pair weights
    is what keeps the model small (at most one variable per pair and round instead of per member).
    """
    interests: dict[str, list[int]] = defaultdict(list)
    for proposal in proposals:
        for member in proposal.interested:
            interests[member].append(proposal.id)
    weights: Counter[tuple[int, int]] = Counter()
    for ids in interests.values():
        for pair in combinations(sorted(ids), 2):
            weights[pair] += 1
    return dict(weights)


def unplaced_reason(problem: PlanningInput, proposal_id: int) -> Reason:
    """The most specific reason a proposal could not be placed (the solver only says that it was not)."""
    if not problem.rounds:
        return Reason.NO_ROUNDS
    if not problem.locations:
        return Reason.NO_LOCATIONS
    allowed = allowed_rounds(problem)
    if not allowed[proposal_id]:
        return Reason.HOSTS_UNAVAILABLE
    proposal = next(p for p in problem.proposals if p.id == proposal_id)
    for host in proposal.hosts:
        # Rounds in which this host could hold at least one of their proposals.
        own = [p.id for p in problem.proposals if host in p.hosts]
        usable = {r for pid in own for r in allowed[pid]}
        if len(own) > len(usable):
            return Reason.HOST_OVERBOOKED
    return Reason.NO_FREE_SLOT


def plan_sessions(
    problem: PlanningInput,
    *,
    time_limit: float = 10.0,
    workers: int = 2,
    seed: int = 0,
    deterministic: bool = False,
) -> Plan:
    """Compute a plan; see the module docstring for the rules and the objective.

    ``time_limit`` (seconds, wall clock) covers all stages; when it runs out the best plan found so far is
    returned (status ``timeout`` or ``feasible``). ``workers`` is CP-SAT's thread count (2 on the production
    machine), ``seed`` its random seed. With several workers CP-SAT's threads race, so a search cut off by the
    clock can end at a different plan from run to run (never a worse guarantee: the same stages, the same
    rules). ``deterministic=True`` makes runs reproducible for a given seed and worker count: CP-SAT then
    interleaves its workers in fixed batches and stops on its deterministic work count (``time_limit`` of
    those units, the wall-clock limit stays as a safety net) — at the price of a somewhat weaker plan when
    the time is short.
    """
    # Imported here so that importing the dataclasses does not load OR-Tools (the chat commands import them).
    from commands.sessions.planner_model import solve

    return solve(problem, time_limit=time_limit, workers=workers, seed=seed, deterministic=deterministic)


def build_plan(
    problem: PlanningInput,
    placements: Iterable[Placement],
    *,
    status: Status,
    conflict_bound: int,
    seconds: float,
) -> Plan:
    """Wrap an assignment into a :class:`Plan`: scores from :func:`evaluate`, reasons for the rest."""
    chosen = tuple(sorted(placements, key=lambda pl: pl.proposal_id))
    conflicts, overflow, moves = evaluate(problem, chosen)
    placed = {placement.proposal_id for placement in chosen}
    unplaced = tuple(
        Unplaced(p.id, unplaced_reason(problem, p.id))
        for p in sorted(problem.proposals, key=lambda p: p.id)
        if p.id not in placed
    )
    return Plan(chosen, unplaced, conflicts, overflow, moves, conflict_bound, status, seconds)

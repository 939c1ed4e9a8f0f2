"""Baselines for the session planner: a seeded random assignment and the obvious greedy.

Both respect the hard rules (host never twice in a round, host availability, one session per location and
round). They are what the planner is measured against (``benchmarks/planner.py``), and the greedy plan is the
planner's starting solution (a hint to CP-SAT) and its fallback if the solver finds nothing in time.
"""

from __future__ import annotations

import random
import time
from collections import defaultdict

from commands.sessions.planner import (
    Placement,
    Plan,
    PlanningInput,
    Proposal,
    Status,
    allowed_rounds,
    build_plan,
    pair_weights,
)


class _Slots:
    """Free locations per round and busy hosts per round while a baseline fills the plan."""

    def __init__(self, problem: PlanningInput) -> None:
        # Largest location first: the greedy takes the largest free one, the random baseline shuffles anyway.
        ordered = sorted(problem.locations, key=lambda loc: (-loc.capacity, loc.id))
        self.free: dict[int, list[int]] = {r.id: [loc.id for loc in ordered] for r in problem.rounds}
        self.busy: set[tuple[str, int]] = set()
        self.allowed = allowed_rounds(problem)

    def rounds_for(self, proposal: Proposal) -> list[int]:
        return [
            r
            for r in self.allowed[proposal.id]
            if self.free[r] and not any((host, r) in self.busy for host in proposal.hosts)
        ]

    def take(self, proposal: Proposal, round_id: int, location_id: int) -> Placement:
        self.free[round_id].remove(location_id)
        self.busy.update((host, round_id) for host in proposal.hosts)
        return Placement(proposal.id, round_id, location_id)


def random_plan(problem: PlanningInput, seed: int = 0) -> Plan:
    """Proposals in random order, each into a random free (round, location) its hosts can make."""
    started = time.perf_counter()
    rng = random.Random(seed)
    slots = _Slots(problem)
    proposals = sorted(problem.proposals, key=lambda p: p.id)
    rng.shuffle(proposals)
    placements = []
    for proposal in proposals:
        rounds = slots.rounds_for(proposal)
        if rounds:
            round_id = rng.choice(rounds)
            placements.append(slots.take(proposal, round_id, rng.choice(slots.free[round_id])))
    return build_plan(
        problem, placements, status=Status.FEASIBLE, conflict_bound=0, seconds=time.perf_counter() - started
    )


def greedy_plan(problem: PlanningInput) -> Plan:
    """Most popular proposal first, each into the round with the fewest added conflicts, largest free room.

    Ties between rounds: more free locations (keeps room for later proposals), then the earlier round.
    """
    started = time.perf_counter()
    weights = pair_weights(problem.proposals)
    slots = _Slots(problem)
    in_round: dict[int, list[int]] = defaultdict(list)
    placements = []
    for proposal in sorted(problem.proposals, key=lambda p: (-p.interest, p.id)):
        rounds = slots.rounds_for(proposal)
        if not rounds:
            continue

        def cost(round_id: int, pid: int = proposal.id) -> tuple[int, int]:
            added = sum(weights.get((min(pid, q), max(pid, q)), 0) for q in in_round[round_id])
            return added, -len(slots.free[round_id])

        # min() keeps the first of equal rounds, and rounds_for lists them in the order of the day.
        round_id = min(rounds, key=cost)
        in_round[round_id].append(proposal.id)
        placements.append(slots.take(proposal, round_id, slots.free[round_id][0]))
    return build_plan(
        problem, placements, status=Status.FEASIBLE, conflict_bound=0, seconds=time.perf_counter() - started
    )

"""Baselines for the session planner: a seeded random assignment and the obvious greedy.

Both respect the hard rules (host never twice in a round, host availability, one session per location and
round). They are what the planner is measured against (``benchmarks/planner.py``), and the greedy plan is the
planner's starting solution (a hint to CP-SAT) and its fallback if the solver finds nothing in time.
"""

from __future__ import annotations

import random
import time
from collections import Counter, defaultdict
from collections.abc import Sequence

import numpy as np

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


def improve_rounds(problem: PlanningInput, placements: Sequence[Placement]) -> list[Placement]:
    """Local search on the rounds of a valid plan: best improving move or swap until none is left.

    Only conflicts count here (rooms are reassigned afterwards); every step keeps the hard rules, so the
    result is a valid plan with no more conflicts than the input. This only polishes the solver's starting
    hint: CP-SAT's own neighbourhood search starts from a far better point on large instances (1,000
    participants, 80 proposals: it barely improves on the greedy in 20 s when started from it alone).
    """
    proposals = sorted(problem.proposals, key=lambda p: p.id)
    if not placements or not problem.rounds:
        return list(placements)
    index = {p.id: i for i, p in enumerate(proposals)}
    rounds = sorted(problem.rounds, key=lambda r: (r.order, r.id))
    round_index = {r.id: k for k, r in enumerate(rounds)}
    n, n_rounds, n_locations = len(proposals), len(rounds), len(problem.locations)
    weights = np.zeros((n, n), dtype=np.int64)
    for (a, b), w in pair_weights(proposals).items():
        weights[index[a], index[b]] = weights[index[b], index[a]] = w
    allowed = np.zeros((n, n_rounds), dtype=bool)
    for pid, ok in allowed_rounds(problem).items():
        allowed[index[pid], [round_index[r] for r in ok]] = True
    where = np.full(n, -1)
    for pl in placements:
        where[index[pl.proposal_id]] = round_index[pl.round_id]
    placed = np.flatnonzero(where >= 0)
    busy: Counter[tuple[str, int]] = Counter((h, int(where[i])) for i in placed for h in proposals[i].hosts)

    def hosts_free(i: int, k: int, leaving: int = -1) -> bool:
        spare = proposals[leaving].hosts if leaving >= 0 else frozenset()
        return all(busy[h, k] - (h in spare) == 0 for h in proposals[i].hosts)

    def shift(i: int, k: int) -> None:
        for h in proposals[i].hosts:
            busy[h, int(where[i])] -= 1
            busy[h, k] += 1
        where[i] = k

    while True:
        one_hot = np.zeros((n, n_rounds), dtype=np.int64)
        one_hot[placed, where[placed]] = 1
        towards = weights @ one_hot  # towards[i, k]: conflicts i would have in round k
        own = towards[placed, where[placed]]
        counts = one_hot.sum(axis=0)
        # Moves into rounds with a free location: (gain, proposal, round).
        move_delta = towards[placed] - own[:, None]
        move_delta[~allowed[placed] | (counts >= n_locations)[None, :]] = 0
        # Swaps of two placed proposals in different rounds.
        cross = towards[np.ix_(placed, where[placed])]  # cross[a, b] = towards[a, round of b]
        swap_delta = cross - own[:, None] + cross.T - own[None, :] - 2 * weights[np.ix_(placed, placed)]
        ok = allowed[np.ix_(placed, where[placed])] & allowed[np.ix_(placed, where[placed])].T
        swap_delta[~ok | (where[placed][:, None] == where[placed][None, :])] = 0
        candidates = sorted(
            [
                (int(move_delta[a, k]), 0, int(placed[a]), k)
                for a, k in zip(*np.nonzero(move_delta < 0), strict=True)
            ]
            + [
                (int(swap_delta[a, b]), 1, int(placed[a]), int(placed[b]))
                for a, b in zip(*np.nonzero(swap_delta < 0), strict=True)
                if a < b
            ]
        )
        for _, kind, i, target in candidates:
            if kind == 0 and hosts_free(i, target):
                shift(i, target)
                break
            if kind == 1:
                k_i, k_j = int(where[i]), int(where[target])
                if hosts_free(i, k_j, leaving=target) and hosts_free(target, k_i, leaving=i):
                    shift(i, k_j)
                    shift(target, k_i)
                    break
        else:
            break
    # Rooms: whatever is free in the new round, largest first (the solver re-seats them anyway).
    free = {k: sorted(problem.locations, key=lambda loc: (-loc.capacity, loc.id)) for k in range(n_rounds)}
    return [
        Placement(proposals[i].id, rounds[int(where[i])].id, free[int(where[i])].pop(0).id) for i in placed
    ]

"""The CP-SAT model behind :func:`commands.sessions.planner.plan_sessions`.

Variables (proposal p, round r, location l; only rounds all hosts of p can make exist):

* ``y[p, r]`` — p is in round r; ``Σ_r y[p, r] ≤ 1`` (1 = placed);
* ``z[p, q, r]`` — p and q both in round r, only for pairs with w(p, q) > 0 (members interested in both),
  as the clause ``¬y[p, r] ∨ ¬y[q, r] ∨ z[p, q, r]`` (z only ever needs a lower bound, it is minimised);
  conflicts = Σ w(p, q) · z[p, q, r];
* ``x[p, r, l]`` — p in round r at location l, only in the second model (overflow and later stages), since
  conflicts and the placement count depend on rounds alone: any round with no more sessions than locations
  can be seated, so the first model only needs ``Σ_p y[p, r] ≤ #locations``.

Stages are separate solves; each one's optimum (or best value when the time runs out) becomes a constraint
of the next one and its solution the next one's hint, so a later stage never loses an earlier stage's value.

Bounds. The LP relaxation of the AND-linearisation is weak (y = 1/R makes every z = 0). Two kinds of cuts lift
it: when every proposal is placed, each member's interest set S gets the pigeonhole cut Σ_{pairs in S}
same-round ≥ T(|S|, R), T being the fewest same-round pairs |S| sessions can have in R rounds (Turán); and the
round capacity multiplied by y[p, r] (RLT, ``_capacity_cuts``). Rounds that no host's availability tells apart
(and with no current plan) are interchangeable: proposal number i (by popularity) may only use the first
i + 1 of them.

Starting point: the greedy plan, polished by a move/swap local search (``improve_rounds``), is the hint of
the conflict stage; CP-SAT's neighbourhood search continues from there.

Determinism: a fixed seed and worker count; with ``deterministic`` the workers are interleaved in fixed
batches and stopped on CP-SAT's deterministic work count (see ``plan_sessions``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Sequence
from itertools import combinations

from ortools.sat.python import cp_model

from commands.sessions.planner import (
    Placement,
    Plan,
    PlanningInput,
    Status,
    build_plan,
)
from commands.sessions.planner_baselines import greedy_plan, improve_rounds
from commands.sessions.planner_data import ModelData, pigeonhole_bound, turan

__all__ = ["ModelData", "pigeonhole_bound", "solve", "turan"]

# Share of the remaining time each stage may use; the conflict stage is the hard one.
_SHARE_PLACE = 0.2
_SHARE_CONFLICTS = 0.75
_SHARE_LATER = 0.5
# Above this many pair × round variables only pairs with w > 0 get one (and no capacity cuts): the model
# would take longer to build and presolve than it gains.
_MAX_PAIR_VARIABLES = 20_000


def _total(terms: Iterable[cp_model.LinearExprT]) -> cp_model.LinearExpr:
    """Σ of model terms as one CP-SAT expression (Python's sum() builds a chain and loses the types)."""
    return cp_model.LinearExpr.sum(*terms)


class _Model:
    """One CP-SAT model: rounds only (stage 0), with pairs (conflicts), with locations (later stages)."""

    def __init__(self, data: ModelData, *, pairs: bool, locations: bool) -> None:
        self.data = data
        m = self.model = cp_model.CpModel()
        n_rounds, n_locations = len(data.rounds), len(data.locations)
        self.y = {(i, k): m.new_bool_var(f"y{i}_{k}") for i, ok in enumerate(data.allowed) for k in ok}
        self.placed = [_total(self.y[i, k] for k in ok) for i, ok in enumerate(data.allowed)]
        for i, ok in enumerate(data.allowed):
            if ok:
                m.add_at_most_one(self.y[i, k] for k in ok)
        for k in range(n_rounds):
            m.add(_total(self.y[i, k] for i in range(len(data.proposals)) if (i, k) in self.y) <= n_locations)
            for own in data.hosted.values():
                in_round = [self.y[i, k] for i in own if (i, k) in self.y]
                if len(in_round) > 1:
                    m.add_at_most_one(in_round)
        self.z: dict[tuple[int, int, int], cp_model.IntVar] = {}
        n = len(data.proposals)
        if not pairs:
            pass
        elif n * (n - 1) // 2 * n_rounds <= _MAX_PAIR_VARIABLES:
            # Every pair, w = 0 ones too: the capacity cuts below need them all.
            for a, b in combinations(range(n), 2):
                self._pair(a, b)
            self._capacity_cuts()
        else:
            for a, b in data.weights:
                self._pair(a, b)
        self.conflicts = _total(
            w * self.z[a, b, k] for (a, b), w in data.weights.items() for k in self._common(a, b) if pairs
        )
        self.placed_count = _total(self.placed)
        self.round_moves = self._round_moves()
        for group in data.interchangeable_rounds():
            members = [i for i, ok in enumerate(data.allowed) if group[0] in ok]
            for position, i in enumerate(members):
                for k in group[position + 1 :]:
                    m.add(self.y[i, k] == 0)
        self.x: dict[tuple[int, int, int], cp_model.IntVar] = {}
        if locations:
            self._locations()

    def _common(self, a: int, b: int) -> list[int]:
        return sorted(set(self.data.allowed[a]) & set(self.data.allowed[b]))

    def _pair(self, a: int, b: int) -> None:
        for k in self._common(a, b):
            if (a, b, k) not in self.z:
                z = self.z[a, b, k] = self.model.new_bool_var(f"z{a}_{b}_{k}")
                self.model.add_bool_or([self.y[a, k].negated(), self.y[b, k].negated(), z])

    def _capacity_cuts(self) -> None:
        """The round capacity Σ_q y[q, r] ≤ L multiplied by y[p, r] and by 1 − y[p, r] (RLT).

        With z = y[p, r] · y[q, r] exact this gives Σ_q z[p, q, r] ≤ (L − 1) · y[p, r] and
        Σ_q z[p, q, r] ≥ Σ_q y[q, r] − L · (1 − y[p, r]): a session in a full round has L − 1 partners in it.
        Without them the LP relaxation sets y = 1/R and every z = 0; with them each session needs partners,
        which lifts the proven bound (NTMY instance: 557 → ≈ 570 in 10 s).
        """
        data, m = self.data, self.model
        n_locations = len(data.locations)
        for (a, b, k), z in self.z.items():
            m.add_implication(z, self.y[a, k])
            m.add_implication(z, self.y[b, k])
        for (i, k), y in self.y.items():
            partners = [
                self.z[min(i, q), max(i, q), k]
                for q in range(len(data.proposals))
                if (q, k) in self.y and q != i
            ]
            others = [self.y[q, k] for q in range(len(data.proposals)) if (q, k) in self.y and q != i]
            m.add(_total(partners) <= (n_locations - 1) * y)
            m.add(_total(partners) >= _total(others) - n_locations + n_locations * y)

    def _round_moves(self) -> cp_model.LinearExpr:
        data = self.data
        moves: list[cp_model.LinearExprT] = []
        for before in data.problem.current:
            i, k = data.index.get(before.proposal_id), data.round_index.get(before.round_id)
            if i is None:
                continue  # a withdrawn proposal: nothing to keep
            moves.append(1 - self.y[i, k] if k is not None and (i, k) in self.y else 1)
        return _total(moves)

    def add_turan_cuts(self) -> None:
        """Pigeonhole cuts per member interest set; valid only when every proposal is placed."""
        n_rounds = len(self.data.rounds)
        for members in self.data.member_sets:
            bound = turan(len(members), n_rounds)
            if bound:
                same = [self.z[a, b, k] for a, b in combinations(members, 2) for k in self._common(a, b)]
                self.model.add(_total(same) >= bound)

    def _locations(self) -> None:
        data, m = self.data, self.model
        n_locations = len(data.locations)
        for (i, k), y in self.y.items():
            row = [m.new_bool_var(f"x{i}_{k}_{j}") for j in range(n_locations)]
            for j, var in enumerate(row):
                self.x[i, k, j] = var
            m.add(_total(row) == y)
        for k in range(len(data.rounds)):
            for j in range(n_locations):
                here = [self.x[i, k, j] for i in range(len(data.proposals)) if (i, k, j) in self.x]
                if len(here) > 1:
                    m.add_at_most_one(here)
        capacity = [loc.capacity for loc in data.locations]
        self.overflow = _total(
            max(0, data.interest[i] - capacity[j]) * var for (i, _, j), var in self.x.items()
        )
        moves: list[cp_model.LinearExprT] = []
        for before in data.problem.current:
            index = data.index.get(before.proposal_id)
            if index is None:
                continue
            key = (
                index,
                data.round_index.get(before.round_id, -1),
                data.location_index.get(before.location_id, -1),
            )
            moves.append(1 - self.x[key] if key in self.x else 1)
        self.moves = _total(moves)
        # Ties: the 3 × rounds most popular sessions apart, weighted by the product of their interest (only
        # those: pair variables for every pair would double the model for a tie-break); larger rooms for more
        # interest (rank of the capacity).
        top = list(range(min(len(data.proposals), 3 * len(data.rounds))))
        for a, b in combinations(top, 2):
            self._pair(a, b)
        spread = _total(
            data.interest[a] * data.interest[b] * self.z[a, b, k]
            for a, b in combinations(top, 2)
            for k in self._common(a, b)
        )
        ranks = {c: r for r, c in enumerate(sorted(set(capacity)))}
        fit = _total(data.interest[i] * ranks[capacity[j]] * var for (i, _, j), var in self.x.items())
        fit_range = sum(data.interest) * max(ranks.values(), default=0) + 1
        self.ties = spread * fit_range - fit

    def hint(self, placements: Sequence[Placement]) -> None:
        data, m = self.data, self.model
        m.clear_hints()  # type: ignore[no-untyped-call]  # untyped in OR-Tools 9.15
        chosen = {
            data.index[pl.proposal_id]: (data.round_index[pl.round_id], data.location_index[pl.location_id])
            for pl in placements
        }
        for (i, k), var in self.y.items():
            m.add_hint(var, chosen.get(i, (-1, -1))[0] == k)
        for (i, k, j), var in self.x.items():
            m.add_hint(var, chosen.get(i) == (k, j))
        for (a, b, k), var in self.z.items():
            m.add_hint(var, chosen.get(a, (-1,))[0] == k and chosen.get(b, (-2,))[0] == k)

    def read(self, solver: cp_model.CpSolver) -> list[Placement]:
        """The solution as placements; without location variables rooms come from :func:`seat`."""
        data = self.data
        rounds = {i: k for (i, k), var in self.y.items() if solver.boolean_value(var)}
        if not self.x:
            return seat(data, rounds)
        return [
            Placement(data.proposals[i].id, data.rounds[k].id, data.locations[j].id)
            for (i, k, j), var in self.x.items()
            if solver.boolean_value(var)
        ]


def seat(data: ModelData, rounds: dict[int, int]) -> list[Placement]:
    """Most interest into the largest room, round by round — optimal for the overflow of a fixed partition
    (Σ max(0, interest − capacity) is convex in the difference, so the sorted matching minimises it)."""
    placements = []
    for k in range(len(data.rounds)):
        here = sorted((i for i, rk in rounds.items() if rk == k), key=lambda i: (-data.interest[i], i))
        for j, i in enumerate(here):
            placements.append(Placement(data.proposals[i].id, data.rounds[k].id, data.locations[j].id))
    return placements


def canonical(data: ModelData, placements: list[Placement]) -> list[Placement]:
    """Relabel interchangeable rounds in order of first use (by popularity), as the symmetry breaking wants,
    so that a plan from elsewhere (the greedy) is a valid hint; whole rounds swap, rooms and all."""
    rename: dict[int, int] = {}
    rounds = {data.index[pl.proposal_id]: data.round_index[pl.round_id] for pl in placements}
    for group in data.interchangeable_rounds():
        used: list[int] = []
        for i in sorted(rounds):
            if rounds[i] in group and rounds[i] not in used:
                used.append(rounds[i])
        used += [k for k in group if k not in used]
        rename.update(
            {data.rounds[old].id: data.rounds[new].id for old, new in zip(used, group, strict=True)}
        )
    return [
        Placement(pl.proposal_id, rename.get(pl.round_id, pl.round_id), pl.location_id) for pl in placements
    ]


class _Stages:
    """Runs the solves one after another within one deadline and keeps track of what was proven."""

    def __init__(self, workers: int, seed: int, deadline: float, deterministic_budget: float | None) -> None:
        self.workers, self.seed, self.deadline = workers, seed, deadline
        self.budget = deterministic_budget
        self.all_optimal = True

    def solve(
        self, model: _Model, objective: cp_model.LinearExprT, share: float, *, maximize: bool = False
    ) -> tuple[cp_model.CpSolver, bool]:
        """Solve with ``share`` of the remaining time; (solver, found a solution)."""
        if maximize:
            model.model.maximize(objective)
        else:
            model.model.minimize(objective)
        solver = cp_model.CpSolver()
        solver.parameters.max_time_in_seconds = max(0.05, share * (self.deadline - time.perf_counter()))
        solver.parameters.num_workers = self.workers
        solver.parameters.random_seed = self.seed
        if self.budget is not None:
            # Reproducible: interleaved workers and a limit in CP-SAT's deterministic work units.
            solver.parameters.interleave_search = True
            solver.parameters.max_deterministic_time = max(0.05, share * self.budget)
        status = solver.solve(model.model)
        if self.budget is not None:
            self.budget = max(0.0, self.budget - solver.response_proto.deterministic_time)
        self.all_optimal &= status == cp_model.OPTIMAL
        return solver, status in (cp_model.OPTIMAL, cp_model.FEASIBLE)


def solve(problem: PlanningInput, *, time_limit: float, workers: int, seed: int, deterministic: bool) -> Plan:
    started = time.perf_counter()
    data = ModelData(problem)
    greedy = list(greedy_plan(problem).placements)
    if not data.rounds or not data.locations or not data.proposals:
        return build_plan(problem, [], status=Status.OPTIMAL, conflict_bound=0, seconds=_since(started))
    stages = _Stages(workers, seed, started + time_limit, time_limit if deterministic else None)

    # Stage 0: as many proposals as possible; among those the most wanted (total interest, weighted below
    # one proposal), so which proposals stay out is never decided by conflicts. Skipped when the greedy
    # places everything: nothing can beat that.
    best = canonical(data, greedy)
    total_interest = sum(data.interest)
    if len(best) < len(data.proposals):
        zeroth = _Model(data, pairs=False, locations=False)
        zeroth.hint(best)
        solver, found = stages.solve(zeroth, _wanted(zeroth, total_interest), _SHARE_PLACE, maximize=True)
        if found and _wanted_value(data, zeroth.read(solver)) >= _wanted_value(data, best):
            best = zeroth.read(solver)
    wanted = _wanted_value(data, best)

    # Stage 1: fewest conflicts (plus weighted round changes when re-planning asks for stability), starting
    # from the stage-0 plan polished by local search.
    first = _Model(data, pairs=True, locations=False)
    first.model.add(_wanted(first, total_interest) >= wanted)
    if len(best) == len(data.proposals):
        first.add_turan_cuts()
    best = canonical(data, improve_rounds(problem, best))
    first.hint(best)
    value = _objective_value(data, problem, best)
    solver, found = stages.solve(
        first, first.conflicts + problem.move_weight * first.round_moves, _SHARE_CONFLICTS
    )
    # The pigeonhole sum is itself a proven bound; on large instances CP-SAT's LP may not reach it in time.
    bound = pigeonhole_bound(problem) if len(best) == len(data.proposals) else 0
    if found:
        bound = max(bound, math.ceil(solver.best_objective_bound - 1e-6))
        if round(solver.objective_value) <= value:
            best, value = first.read(solver), round(solver.objective_value)
    primary_optimal = stages.all_optimal

    # Stages 2–4 on the model with locations: overflow, moves, ties; each keeps the values before it.
    second = _Model(data, pairs=True, locations=True)
    second.model.add(_wanted(second, total_interest) >= wanted)
    second.model.add(second.conflicts + problem.move_weight * second.round_moves <= value)
    later: list[cp_model.LinearExprT] = [second.overflow]
    if problem.current:
        later.append(second.moves)
    later.append(second.ties)
    best = seat(data, {data.index[pl.proposal_id]: data.round_index[pl.round_id] for pl in best})
    for objective in later:
        second.hint(best)
        solver, found = stages.solve(second, objective, _SHARE_LATER)
        if not found:
            break
        best = second.read(solver)
        second.model.add(objective <= round(solver.objective_value))
    status = Status.OPTIMAL if stages.all_optimal else Status.FEASIBLE if primary_optimal else Status.TIMEOUT
    return build_plan(problem, best, status=status, conflict_bound=min(bound, value), seconds=_since(started))


def _wanted(model: _Model, total_interest: int) -> cp_model.LinearExprT:
    """Stage-0 objective: placed proposals first, their total interest second."""
    interest = model.data.interest
    return model.placed_count * (total_interest + 1) + _total(
        count * placed for count, placed in zip(interest, model.placed, strict=True)
    )


def _wanted_value(data: ModelData, placements: Sequence[Placement]) -> int:
    interest = sum(data.interest[data.index[pl.proposal_id]] for pl in placements)
    return len(placements) * (sum(data.interest) + 1) + interest


def _objective_value(data: ModelData, problem: PlanningInput, placements: Sequence[Placement]) -> int:
    """Stage-1 objective of a plan the solver did not produce (greedy, local search)."""
    rounds = {pl.proposal_id: pl.round_id for pl in placements}
    conflicts = sum(
        w
        for (a, b), w in data.weights.items()
        if data.proposals[a].id in rounds
        and rounds.get(data.proposals[a].id) == rounds.get(data.proposals[b].id)
    )
    moved = sum(
        1
        for before in problem.current
        if before.proposal_id in data.index and rounds.get(before.proposal_id) != before.round_id
    )
    return conflicts + problem.move_weight * moved


def _since(started: float) -> float:
    return time.perf_counter() - started

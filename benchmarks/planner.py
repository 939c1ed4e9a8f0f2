"""Benchmark of the session planner (CP-SAT) against a random assignment and the greedy baseline.

Synthetic barcamps with fixed seeds, as in issue 16: NTMY-like (220 participants, 30 proposals, 3 rounds ×
10 locations with 15–60 seats), small (40 / 8 / 2 × 4) and large (1,000 / 80 / 4 × 20). Every participant is
interested in 2–8 proposals drawn with Zipf-like popularity (weight 1/rank); every proposal has a host,
one in five a co-host, one in ten comes from a host with another proposal; 10 % of the hosts cannot make
one round.

Run with ``python -m benchmarks.planner`` (about a minute on 2 cores); ``--quick`` for small time limits.
Hard-rule violations come from ``planner.violations``, which checks the plan against the input data and
knows nothing of the model.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from commands.sessions.planner import (
    Location,
    Plan,
    PlanningInput,
    Proposal,
    Round,
    plan_sessions,
    violations,
)
from commands.sessions.planner_baselines import greedy_plan, random_plan


@dataclass(frozen=True)
class Spec:
    name: str
    participants: int
    proposals: int
    rounds: int
    locations: int
    time_limit: float
    seed: int


SPECS = (
    Spec("small", 40, 8, 2, 4, 10.0, seed=1),
    Spec("NTMY", 220, 30, 3, 10, 10.0, seed=2),
    Spec("large", 1000, 80, 4, 20, 30.0, seed=3),
)


def instance(spec: Spec) -> PlanningInput:
    """A synthetic barcamp; the same spec always gives the same instance."""
    rng = random.Random(spec.seed)
    members = [f"@m{index:04d}:example.org" for index in range(spec.participants)]
    # Zipf-like popularity: the proposal at rank r is drawn with weight 1 / r.
    ranks = list(range(1, spec.proposals + 1))
    rng.shuffle(ranks)
    popularity = [1.0 / rank for rank in ranks]
    interested: list[set[str]] = [set() for _ in range(spec.proposals)]
    for member in members:
        choices: set[int] = set()
        wanted = rng.randint(2, min(8, spec.proposals))
        while len(choices) < wanted:
            choices.add(rng.choices(range(spec.proposals), weights=popularity)[0])
        for index in choices:
            interested[index].add(member)
    # Mostly one host per proposal; one in ten proposals comes from someone who already has one (at most
    # two each), one in five has a co-host as well.
    hosts: list[frozenset[str]] = []
    single: list[str] = []
    fresh = iter(rng.sample(members, len(members)))
    for _ in range(spec.proposals):
        if single and rng.random() < 0.1:
            host = single.pop(rng.randrange(len(single)))
        else:
            host = next(fresh)
            single.append(host)
        own = {host}
        if rng.random() < 0.2:
            own.add(rng.choice(members))
        hosts.append(frozenset(own))
    everyone = sorted({host for own in hosts for host in own})
    away = rng.sample(everyone, round(len(everyone) * 0.1))
    unavailable = frozenset((host, rng.randrange(spec.rounds) + 1) for host in away)
    return PlanningInput(
        proposals=tuple(
            Proposal(index + 1, hosts[index], frozenset(interested[index])) for index in range(spec.proposals)
        ),
        rounds=tuple(Round(index + 1, index + 1) for index in range(spec.rounds)),
        locations=tuple(
            Location(index + 1, f"Raum {index + 1}", rng.randint(15, 60)) for index in range(spec.locations)
        ),
        unavailable=unavailable,
    )


def table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    cells = [list(map(str, header))] + [[str(cell) for cell in row] for row in rows]
    widths = [max(len(row[column]) for row in cells) for column in range(len(header))]

    def line(row: Sequence[str]) -> str:
        return "| " + " | ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) + " |"

    separator = "|" + "|".join("-" * (width + 2) for width in widths) + "|"
    return "\n".join([line(cells[0]), separator, *(line(row) for row in cells[1:])])


def run(spec: Spec, time_limit: float) -> tuple[list[list[object]], list[tuple[str, bool]]]:
    problem = instance(spec)
    plans: list[tuple[str, Plan, float]] = []
    methods: list[tuple[str, Callable[[], Plan]]] = [
        ("random", lambda: random_plan(problem, seed=spec.seed)),
        ("greedy", lambda: greedy_plan(problem)),
        ("planner", lambda: plan_sessions(problem, time_limit=time_limit, workers=2, seed=0)),
    ]
    for name, method in methods:
        started = time.perf_counter()
        plan = method()
        plans.append((name, plan, time.perf_counter() - started))
    rows: list[list[object]] = []
    for name, plan, seconds in plans:
        bound = f"{plan.conflict_bound}" if name == "planner" else "–"
        rows.append(
            [
                spec.name,
                name,
                f"{len(plan.placements)}/{len(problem.proposals)}",
                plan.conflicts,
                plan.overflow,
                len(violations(problem, plan.placements)),
                bound,
                plan.status.value if name == "planner" else "–",
                f"{seconds:.2f}",
            ]
        )
    _, greedy, _ = plans[1]
    _, ours, seconds = plans[2]
    goals = [(f"{spec.name}: 0 hard-rule violations", all(row[5] == 0 for row in rows))]
    goals.append((f"{spec.name}: placed ≥ greedy", len(ours.placements) >= len(greedy.placements)))
    if spec.name == "NTMY":
        goals.append(("NTMY: conflicts ≤ 50 % of greedy", ours.conflicts <= 0.5 * greedy.conflicts))
        goals.append(("NTMY: within 2 % of the proven bound", ours.conflicts <= 1.02 * ours.conflict_bound))
        goals.append(("NTMY: ≤ 10 s on 2 cores", seconds <= 10.0))
    if spec.name == "large":
        goals.append(("large: ≤ 30 s on 2 cores", seconds <= 30.0))
    return rows, goals


def main(argv: list[str] | None = None) -> bool:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--quick", action="store_true", help="1 s per instance: a smoke test, not a measurement"
    )
    parser.add_argument("--only", choices=[spec.name for spec in SPECS], help="run one instance only")
    args = parser.parse_args(argv)
    machine = platform.processor() or platform.machine()
    print(f"Machine: {os.cpu_count()} cores, {machine}, Python {platform.python_version()}")
    rows: list[list[object]] = []
    goals: list[tuple[str, bool]] = []
    for spec in SPECS:
        if args.only and spec.name != args.only:
            continue
        more_rows, more_goals = run(spec, 1.0 if args.quick else spec.time_limit)
        rows += more_rows
        goals += more_goals
    print()
    print(
        table(
            (
                "instance",
                "method",
                "placed",
                "conflicts",
                "overflow",
                "violations",
                "bound",
                "status",
                "time [s]",
            ),
            rows,
        )
    )
    print()
    for goal, ok in goals:
        print(f"- {goal}: {'met' if ok else 'MISSED'}")
    return all(ok for _, ok in goals)


if __name__ == "__main__":
    raise SystemExit(0 if main() else 1)

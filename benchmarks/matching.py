"""Benchmark of the networking matcher against a random-shuffle baseline.

Run with ``python -m benchmarks.matching``; it takes well under a minute on 2 cores.
"""

from __future__ import annotations

import itertools
import os
import platform
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from functools import cache
from pathlib import Path
from types import ModuleType

import rustworkx as rx

from commands.networking.matching import (
    LEVELS,
    Grouping,
    History,
    Participant,
    cross_level_pairs,
    cross_level_upper_bound,
    group_sizes,
    pairs_in,
    plan_round,
    repeated_pairs,
)

Planner = Callable[[Sequence[Participant], History, int, int], Grouping]


def ours(people: Sequence[Participant], history: History, group_size: int, seed: int) -> Grouping:
    return plan_round(people, history, group_size=group_size, seed=seed)


# The matcher as it was before issue 18.3, read from the repository's history rather than kept as a copy.
BEFORE_COMMIT = "eb5219608b737cbcc095cbff5ed9641af3f816b7"
ROOT = Path(__file__).resolve().parents[1]


@cache
def matcher_before() -> ModuleType:
    source = subprocess.run(
        ["git", "show", f"{BEFORE_COMMIT}:commands/networking/matching.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    module = ModuleType("matching_before")
    sys.modules[module.__name__] = module  # dataclasses look their module up while the code runs
    exec(compile(source, f"matching.py@{BEFORE_COMMIT[:7]}", "exec"), module.__dict__)
    return module


def before_matcher(people: Sequence[Participant], history: History, group_size: int, seed: int) -> Grouping:
    """The matcher as it was before issue 18.3 (from git history)."""
    before = matcher_before()
    converted = [before.Participant(person.id, person.organisation, person.level) for person in people]
    result: Grouping = before.plan_round(converted, history, group_size=group_size, seed=seed)
    return result


def shuffled(people: Sequence[Participant], history: History, group_size: int, seed: int) -> Grouping:
    """Baseline: shuffle and cut into the same group sizes, ignoring the history."""
    ids = [person.id for person in people]
    random.Random(seed).shuffle(ids)
    groups, start = [], 0
    for size in group_sizes(len(ids), group_size):
        groups.append(tuple(ids[start : start + size]))
        start += size
    return groups


def population(count: int, seed: int = 0) -> list[Participant]:
    """Members spread over levels (bund most frequent) and about count/3 organisations."""
    rng = random.Random(seed)
    weights = (4, 3, 2, 1)
    return [
        Participant(
            f"@member{index:04d}:example.org",
            f"org{rng.randrange(max(2, count // 3))}",
            rng.choices(LEVELS, weights)[0],
        )
        for index in range(count)
    ]


def simulate(planner: Planner, people: Sequence[Participant], rounds: int, group_size: int, seed: int):
    """Consecutive rounds fed back into the history: repeats, cross-level counts and seconds per round."""
    history: dict[frozenset[str], int] = {}
    repeats, cross, seconds = [], [], []
    for round_index in range(rounds):
        started = time.perf_counter()
        groups = planner(people, history, group_size, seed * 1000 + round_index)
        seconds.append(time.perf_counter() - started)
        repeats.append(len(repeated_pairs(groups, history)))
        cross.append(cross_level_pairs(groups, people))
        for pair in pairs_in(groups):
            history[pair] = round_index
    return repeats, cross, seconds


def table(title: str, header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    cells = [list(map(str, header))] + [[str(cell) for cell in row] for row in rows]
    widths = [max(len(row[column]) for row in cells) for column in range(len(header))]

    def line(row: Sequence[str]) -> str:
        return "| " + " | ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) + " |"

    separator = "|" + "|".join("-" * (width + 2) for width in widths) + "|"
    return "\n".join([f"### {title}", "", line(cells[0]), separator, *(line(row) for row in cells[1:]), ""])


def timing_table() -> str:
    rows = []
    for count in (100, 1000):
        people = population(count)
        for name, planner in (("matcher", ours), ("before 18.3", before_matcher), ("shuffle", shuffled)):
            _, _, seconds = simulate(planner, people, 5, 2, seed=1)
            rows.append((count, name, f"{seconds[0]:.3f}", f"{statistics.mean(seconds[1:]):.3f}"))
    return table("Time per round (pairs)", ("n", "method", "round 1 [s]", "rounds 2–5, mean [s]"), rows)


def repeats_table() -> str:
    rows = []
    for count in (8, 16, 32, 100):
        people = population(count)
        checkpoints = sorted({1, 2, 3, 5, count // 2, count - 1})
        mine, _, _ = simulate(ours, people, count - 1, 2, seed=1)
        trials = 5 if count < 100 else 2
        baseline = [simulate(shuffled, people, count - 1, 2, seed=trial)[0] for trial in range(trials)]
        for checkpoint in checkpoints:
            shuffle_mean = statistics.mean(sum(run[:checkpoint]) for run in baseline)
            rows.append((count, checkpoint, sum(mine[:checkpoint]), f"{shuffle_mean:.1f}"))
    return table(
        "Repeated pairs after r rounds (pairs, cumulative)",
        ("n", "r", "matcher", f"shuffle (mean of {5}/{2} runs)"),
        rows,
    )


def first_repeat(repeats: Sequence[int]) -> int:
    return next((index for index, count in enumerate(repeats) if count), len(repeats))


def golfer_table() -> str:
    rows = []
    for count, group_size, record in ((12, 3, 4), (15, 3, 7), (16, 4, 5), (24, 4, 7), (9, 3, 4), (20, 4, 5)):
        people = population(count)
        mine, _, _ = simulate(ours, people, record + 1, group_size, seed=1)
        baseline = [
            first_repeat(simulate(shuffled, people, record + 1, group_size, seed)[0]) for seed in range(20)
        ]
        rows.append(
            (f"{count} in {group_size}s", record, first_repeat(mine), f"{statistics.mean(baseline):.1f}")
        )
    return table(
        "Social Golfer: repeat-free rounds reached",
        ("instance", "best known", "matcher", "shuffle (mean of 20)"),
        rows,
    )


MIXES: tuple[tuple[str, tuple[int, ...]], ...] = (
    ("4:3:2:1", (4, 3, 2, 1)),
    ("15/35/50", (15, 35, 50)),
    ("50/50", (50, 50)),
    ("70/20/10", (70, 20, 10)),
    ("one level", (1,)),
)
GOAL_SHARE = 0.99
FRONT = 5


def mixed_population(count: int, weights: Sequence[int], seed: int = 0) -> list[Participant]:
    """Exactly the level mix (largest remainder rounding), levels and about count/3 organisations shuffled."""
    total = sum(weights)
    sizes = [count * weight // total for weight in weights]
    remainders = sorted(range(len(weights)), key=lambda index: -(count * weights[index] % total))
    for index in remainders[: count - sum(sizes)]:
        sizes[index] += 1
    levels = [LEVELS[index] for index, size in enumerate(sizes) for _ in range(size)]
    rng = random.Random(seed)
    rng.shuffle(levels)
    return [
        Participant(f"@member{index:04d}:example.org", f"org{rng.randrange(max(2, count // 3))}", level)
        for index, level in enumerate(levels)
    ]


def shares(planner: Planner, people: Sequence[Participant], seed: int) -> tuple[list[float], list[float]]:
    bound = cross_level_upper_bound(people)
    _, cross, seconds = simulate(planner, people, min(FRONT, len(people) - 1), 2, seed)
    return [count / bound if bound else 1.0 for count in cross], seconds


def share_cells(values: Sequence[float]) -> str:
    return " ".join(f"{value:.2f}" for value in values)


def mixing_table() -> tuple[str, list[str]]:
    rows, failures = [], []
    for name, weights in MIXES:
        for count in (8, 16, 32, 100, 1000):
            people = mixed_population(count, weights)
            mine, seconds = shares(ours, people, seed=1)
            before, _ = shares(before_matcher, people, seed=1)
            shuffle = [
                statistics.mean(run)
                for run in zip(*(shares(shuffled, people, seed)[0] for seed in range(3)), strict=True)
            ]
            ok = min(mine) >= GOAL_SHARE
            if count >= 16 and not ok:
                failures.append(f"{name}, n = {count}")
            verdict = ("yes" if ok else "no") + ("" if count >= 16 else " (n < 16, no goal)")
            rows.append(
                (
                    name,
                    count,
                    cross_level_upper_bound(people),
                    share_cells(mine),
                    share_cells(before),
                    share_cells(shuffle),
                    f"{max(seconds):.3f}",
                    verdict,
                )
            )
    return (
        table(
            "Cross-level share per round (rounds 1–5) of the maximum min(⌊n/2⌋, n − largest level), pairs",
            (
                "mix",
                "n",
                "max",
                "matcher",
                "before 18.3",
                "shuffle (mean of 3)",
                "slowest round [s]",
                "all ≥ 0.99",
            ),
            rows,
        ),
        failures,
    )


def stable_repeats_table() -> tuple[str, list[str]]:
    rows, failures = [], []
    for name, weights in MIXES:
        for count in (8, 16, 32, 100):
            people = mixed_population(count, weights)
            repeats, _, _ = simulate(ours, people, count - 1, 2, seed=1)
            if sum(repeats):
                failures.append(f"{name}, n = {count}")
            rows.append((name, count, count - 1, sum(repeats)))
    return table(
        "Repeats through n − 1 rounds, stable participants", ("mix", "n", "rounds", "repeats"), rows
    ), failures


def possible_cross(people: Sequence[Participant], history: History) -> int:
    """Most cross-level pairs of a repeat-free round (exact max-weight matching on the never-met pairs)."""
    graph: rx.PyGraph = rx.PyGraph()
    graph.add_nodes_from(range(len(people)))
    for first, second in itertools.combinations(range(len(people)), 2):
        if frozenset((people[first].id, people[second].id)) not in history:
            cross = people[first].level != people[second].level
            graph.add_edge(first, second, 1 + len(people) * cross)
    matching = rx.max_weight_matching(graph, max_cardinality=True, weight_fn=lambda weight: int(weight))
    return sum(people[first].level != people[second].level for first, second in matching)


def come_and_go_table() -> str:
    rows = []
    for name, weights in MIXES[:4]:
        for count in (16, 32, 100):
            people = mixed_population(count + 2, weights)
            before, after = people[:count], people[4:]  # 3 rounds, then four leave and two others join
            for label, planner in (("matcher", ours), ("before 18.3", before_matcher)):
                history: dict[frozenset[str], int] = {}
                for round_index in range(3):
                    for pair in pairs_in(planner(before, history, 2, round_index)):
                        history[pair] = round_index
                cells, repeats = [], 0
                for round_index in range(3, 3 + FRONT):
                    reachable = possible_cross(after, history)
                    groups = planner(after, history, 2, round_index)
                    repeats += len(repeated_pairs(groups, history))
                    cells.append(cross_level_pairs(groups, after) / reachable if reachable else 1.0)
                    for pair in pairs_in(groups):
                        history[pair] = round_index
                rows.append((name, count, label, share_cells(cells), repeats))
    return table(
        "Come and go: 3 rounds, then 4 leave and 2 join; share of the best repeat-free round, next 5 rounds",
        ("mix", "n before", "method", "rounds 4–8", "repeats"),
        rows,
    )


def main() -> None:
    machine = platform.processor() or platform.machine()
    print(f"Machine: {os.cpu_count()} cores, {machine}, Python {platform.python_version()}")
    print()
    mixing, mixing_failures = mixing_table()
    stable, stable_failures = stable_repeats_table()
    for part in (timing_table(), repeats_table(), golfer_table(), mixing, stable, come_and_go_table()):
        print(part)
    print(
        "Goal: rounds 1–5 ≥ 0.99 of the maximum for n ≥ 16:",
        mixing_failures or "met",
    )
    print("Goal: 0 repeats through n − 1 rounds:", stable_failures or "met")


if __name__ == "__main__":
    main()

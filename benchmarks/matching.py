"""Benchmark of the networking matcher against a random-shuffle baseline.

Run with ``python -m benchmarks.matching``; it takes well under a minute on 2 cores.
"""

from __future__ import annotations

import os
import platform
import random
import statistics
import time
from collections.abc import Callable, Sequence

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
        for name, planner in (("matcher", ours), ("shuffle", shuffled)):
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


def cross_level_table() -> str:
    rows = []
    for count in (8, 16, 32, 100, 1000):
        people = population(count)
        bound = cross_level_upper_bound(people)
        rounds = min(5, count - 1)
        _, mine, _ = simulate(ours, people, rounds, 2, seed=1)
        _, baseline, _ = simulate(shuffled, people, rounds, 2, seed=1)
        rows.append(
            (
                count,
                bound,
                f"{mine[0] / bound:.3f}",
                f"{statistics.mean(mine) / bound:.3f}",
                f"{statistics.mean(baseline) / bound:.3f}",
            )
        )
    return table(
        "Cross-level share of the maximum min(⌊n/2⌋, n − largest level), pairs",
        ("n", "max", "matcher round 1", f"matcher rounds 1–{5} mean", "shuffle mean"),
        rows,
    )


def main() -> None:
    machine = platform.processor() or platform.machine()
    print(f"Machine: {os.cpu_count()} cores, {machine}, Python {platform.python_version()}")
    print()
    for part in (timing_table, repeats_table, golfer_table, cross_level_table):
        print(part())


if __name__ == "__main__":
    main()

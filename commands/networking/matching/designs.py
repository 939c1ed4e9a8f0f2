"""Designs: repeat-free multi-round schedules on positions 0..n−1 (round-robin for pairs, resolvable
group designs for threes and fours), found by construction or search and repaired."""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .context import stable_seed
from .model import DESIGN_SEARCH_ITERATIONS, DESIGN_SEARCH_LIMIT, IntArray

# --- designs: repeat-free multi-round schedules on positions 0..n−1 -----------------------------------------


@dataclass(frozen=True)
class Design:
    """Rounds as rows of a matrix; each row lists the people group by group (sizes as in ``sizes``).

    Row 0 is always ``0, 1, …, n−1`` so that any first round can be mapped onto it.
    """

    sizes: tuple[int, ...]
    rows: IntArray  # shape (rounds, n)
    pair_slots: tuple[IntArray, IntArray]  # column positions of every pair inside a row
    round_by_key: dict[int, int]  # smallest partner of person 0 -> round


def _pair_slots(sizes: tuple[int, ...]) -> tuple[IntArray, IntArray]:
    firsts: list[int] = []
    seconds: list[int] = []
    start = 0
    for size in sizes:
        for first, second in itertools.combinations(range(start, start + size), 2):
            firsts.append(first)
            seconds.append(second)
        start += size
    return np.array(firsts, dtype=np.int64), np.array(seconds, dtype=np.int64)


def group_ranges(sizes: tuple[int, ...]) -> list[range]:
    ranges, start = [], 0
    for size in sizes:
        ranges.append(range(start, start + size))
        start += size
    return ranges


@lru_cache(maxsize=32)
def design_for(sizes: tuple[int, ...]) -> Design | None:
    rows = _design_rows(sizes)
    if rows is None or len(rows) < 2:
        return None
    # Relabel so that row 0 is the identity.
    relabel = np.empty(rows.shape[1], dtype=np.int64)
    relabel[rows[0]] = np.arange(rows.shape[1])
    rows = relabel[rows]
    slot_of_zero = np.argmax(rows == 0, axis=1)
    group_of_slot = [group for group in group_ranges(sizes) for _ in group]
    round_by_key: dict[int, int] = {}
    for round_index, slot in enumerate(slot_of_zero.tolist()):
        members = rows[round_index, group_of_slot[slot].start : group_of_slot[slot].stop].tolist()
        round_by_key[min(member for member in members if member != 0)] = round_index
    return Design(sizes, rows, _pair_slots(sizes), round_by_key)


def _design_rows(sizes: tuple[int, ...]) -> IntArray | None:
    count = sum(sizes)
    if all(size == 2 for size in sizes):
        return _circle_rows(count)
    if sizes == (4,) * 6:
        return _rows_24_in_fours()
    if count <= DESIGN_SEARCH_LIMIT:
        return _searched_rows(sizes)
    return None


def _circle_rows(count: int) -> IntArray:
    """Circle method: person ``count−1`` stays put, the others rotate; count−1 rounds, every pair once."""
    modulus = count - 1
    rounds = np.arange(modulus)[:, None]
    offsets = np.arange(1, count // 2)[None, :]
    lefts = (rounds - offsets) % modulus
    rights = (rounds + offsets) % modulus
    rows = np.empty((modulus, count), dtype=np.int64)
    rows[:, 0] = modulus
    rows[:, 1] = rounds[:, 0]
    rows[:, 2::2] = lefts
    rows[:, 3::2] = rights
    return rows


# Base round of a 1-rotational design for 24 people in fours: points (x, c) with x in Z_7 and c in {0, 1, 2},
# plus three fixed points. Shifting x by 0..6 gives 7 rounds in which no pair meets twice (the maximum, since
# everyone meets 3 people per round and 7 · 3 = 21 ≤ 23). Found by a small backtracking search over
# difference conditions; checked when the design is built.
_BASE_ROUND_24: tuple[tuple[tuple[int, int] | str, ...], ...] = (
    ("inf0", (0, 0), (0, 1), (0, 2)),
    ("inf1", (1, 0), (2, 1), (4, 2)),
    ("inf2", (3, 0), (6, 1), (5, 2)),
    ((2, 0), (4, 0), (5, 0), (3, 2)),
    ((6, 0), (1, 1), (3, 1), (4, 1)),
    ((5, 1), (1, 2), (2, 2), (6, 2)),
)


def _rows_24_in_fours() -> IntArray:
    fixed = {"inf0": 21, "inf1": 22, "inf2": 23}
    rows = []
    for shift in range(7):
        row = []
        for group in _BASE_ROUND_24:
            for point in group:
                if isinstance(point, str):
                    row.append(fixed[point])
                else:
                    row.append(7 * point[1] + (point[0] + shift) % 7)
        rows.append(row)
    result = np.array(rows, dtype=np.int64)
    if _conflicts(result, (4,) * 6):
        raise AssertionError("24-in-fours design has a repeated pair")
    return result


def _conflicts(rows: IntArray, sizes: tuple[int, ...]) -> int:
    first_slots, second_slots = _pair_slots(sizes)
    firsts = np.minimum(rows[:, first_slots], rows[:, second_slots]).ravel()
    seconds = np.maximum(rows[:, first_slots], rows[:, second_slots]).ravel()
    codes = firsts * rows.shape[1] + seconds
    return int(len(codes) - len(np.unique(codes)))


def _searched_rows(sizes: tuple[int, ...]) -> IntArray:
    """Add rounds one at a time, each time repairing conflicts by tabu search (deterministic budget)."""
    count = sum(sizes)
    most_rounds = (count - 1) // (min(sizes) - 1)
    rng = random.Random(stable_seed("design", sizes))
    solution: list[list[list[int]]] = [[list(group) for group in group_ranges(sizes)]]
    while len(solution) < most_rounds:
        people = list(range(count))
        rng.shuffle(people)
        fresh = [[people[slot] for slot in group] for group in group_ranges(sizes)]
        attempt = [[list(group) for group in round_groups] for round_groups in solution] + [fresh]
        if not _repair(attempt, count, rng):
            break
        solution = attempt
    return np.array([[person for group in round_groups for person in group] for round_groups in solution])


def _repair(rounds: list[list[list[int]]], count: int, rng: random.Random) -> bool:
    """Tabu search swapping two people of one round (round 0 fixed) until no pair meets twice."""
    met = [[0] * count for _ in range(count)]
    group_of: list[list[int]] = []
    for round_groups in rounds:
        where = [0] * count
        for index, group in enumerate(round_groups):
            for person in group:
                where[person] = index
            for first, second in itertools.combinations(group, 2):
                met[first][second] += 1
                met[second][first] += 1
        group_of.append(where)
    cost = sum(max(0, met[a][b] - 1) for a in range(count) for b in range(a + 1, count))
    best_cost = cost
    tabu: dict[tuple[int, int, int], int] = {}
    for iteration in range(DESIGN_SEARCH_ITERATIONS):
        if cost == 0:
            return True
        best_delta: int | None = None
        moves: list[tuple[int, int, int, int, int]] = []
        for round_index in range(1, len(rounds)):
            round_groups, where = rounds[round_index], group_of[round_index]
            for own, group in enumerate(round_groups):
                for person in group:
                    if not any(met[person][other] > 1 for other in group if other != person):
                        continue
                    for swap in range(count):
                        theirs = where[swap]
                        if theirs == own:
                            continue
                        delta = 0
                        for other in group:
                            if other != person:
                                delta += (met[swap][other] >= 1) - (met[person][other] > 1)
                        for other in round_groups[theirs]:
                            if other != swap:
                                delta += (met[person][other] >= 1) - (met[swap][other] > 1)
                        forbidden = tabu.get((round_index, min(person, swap), max(person, swap)), -1)
                        if forbidden > iteration and cost + delta >= best_cost:
                            continue
                        if best_delta is None or delta < best_delta:
                            best_delta, moves = delta, [(round_index, own, person, theirs, swap)]
                        elif delta == best_delta:
                            moves.append((round_index, own, person, theirs, swap))
        if best_delta is None:
            return False
        round_index, own, person, theirs, swap = rng.choice(moves)
        round_groups = rounds[round_index]
        for other in round_groups[own]:
            if other != person:
                met[person][other] -= 1
                met[other][person] -= 1
                met[swap][other] += 1
                met[other][swap] += 1
        for other in round_groups[theirs]:
            if other != swap:
                met[swap][other] -= 1
                met[other][swap] -= 1
                met[person][other] += 1
                met[other][person] += 1
        round_groups[own][round_groups[own].index(person)] = swap
        round_groups[theirs][round_groups[theirs].index(swap)] = person
        group_of[round_index][swap], group_of[round_index][person] = own, theirs
        cost += best_delta
        best_cost = min(best_cost, cost)
        tabu[(round_index, min(person, swap), max(person, swap))] = iteration + rng.randint(4, 12)
    return cost == 0

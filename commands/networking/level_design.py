"""Repeat-free pairing schedules whose first rounds are cross-level-maximal (pure, no I/O).

Construction (explained in ``docs/matching.md``): split the n = 2m people into two halves X and Y of m each.
K_n is the union of the complete bipartite graph X×Y and the complete graphs on X and on Y:

- X×Y splits into the m *shift rounds* ``X[i] – Y[(i + r) mod m]`` (r = 0 … m−1);
- the complete graphs on X and on Y split into m − 1 *inner rounds* by the circle method run on both halves in
  parallel (m even), or into m rounds when m is odd: then both halves leave one person out per round, those
  two meet, and that uses up one shift round.

Together that is n − 1 rounds in which every pair meets exactly once, whatever X, Y and their orders are.
The halves and orders are chosen from the people's levels so that several shift rounds are entirely (or
maximally) cross-level: if the largest level has at least m people, X is m of them and *every* shift round
reaches the maximum; otherwise X holds the largest level and whole other levels, at most one level is split
between the halves, and the split level's Y-part is placed where the first shifts cannot reach it. For small
halves a few deterministic reorderings are tried as well; the candidate whose five best rounds are best wins.
"""

from __future__ import annotations

import hashlib
import itertools
import random
from collections.abc import Sequence
from functools import lru_cache

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]

FRONT_ROUNDS = 5
"""Number of rounds the construction optimises for (a networking block rarely has more)."""

_RANDOM_TRIES_UP_TO = 40  # half size up to which random reorderings are tried too
_RANDOM_TRIES = 60
_FLOW_SEARCH_UP_TO = 20  # half size up to which halves with a cross-level 5-factor are searched


def cross_counts(rows: IntArray, classes: IntArray) -> IntArray:
    """Per row (pairs in consecutive columns): number of pairs whose classes differ."""
    return np.asarray((classes[rows[:, 0::2]] != classes[rows[:, 1::2]]).sum(axis=1), dtype=np.int64)


def pairing_bound(classes: Sequence[int]) -> int:
    """Most pairs with different classes one round can have: min(⌊n/2⌋, n − size of the largest class)."""
    sizes: dict[int, int] = {}
    for value in classes:
        sizes[value] = sizes.get(value, 0) + 1
    return min(len(classes) // 2, len(classes) - max(sizes.values(), default=0))


@lru_cache(maxsize=16)
def level_rows(classes: tuple[int, ...], variant: int = 0) -> IntArray:
    """All n − 1 rounds (rows of positions, pairs in consecutive columns) for people with these classes.

    ``classes[i]`` is the level code of position i (unknown levels must be merged into one class by the
    caller). ``variant`` > 0 permutes people within each class (cross-level counts stay the same, the pairs
    change), seeded by the classes and the variant so that every call rebuilds the same rows.
    """
    rows = _base_rows(classes)
    if not variant:
        return rows
    shuffler = random.Random(_stable_seed("variant", classes, variant))
    relabel = np.arange(len(classes), dtype=np.int64)
    for value in set(classes):
        members = [position for position, code in enumerate(classes) if code == value]
        shuffled = members[:]
        shuffler.shuffle(shuffled)
        relabel[members] = shuffled
    return relabel[rows]


@lru_cache(maxsize=8)
def _base_rows(classes: tuple[int, ...]) -> IntArray:
    count = len(classes)
    if count < 4 or count % 2:
        raise ValueError("level designs need an even number of at least four people")
    codes = np.array(classes, dtype=np.int64)
    by_class: dict[int, list[int]] = {}
    for position, value in enumerate(classes):
        by_class.setdefault(value, []).append(position)
    bound = pairing_bound(classes)
    half = count // 2
    # Small halves: judge candidates by all their rounds; large ones by the shift rounds only (fast).
    full = half <= _RANDOM_TRIES_UP_TO
    best: tuple[tuple[int, int, int], tuple[IntArray, IntArray]] | None = None
    for halves in _candidate_halves(by_class, half, classes):
        first, second = (np.array(side, dtype=np.int64) for side in halves)
        rows = _rows_for(first, second, codes) if full else _shift_rows(first, second)
        counts = np.sort(cross_counts(rows, codes))[::-1]
        front = counts[:FRONT_ROUNDS]
        key = (int(np.minimum(front, bound).sum()), int(front.sum()), int(counts.sum()))
        if best is None or key > best[0]:
            best = (key, (first, second))
    assert best is not None
    if best[0][0] < FRONT_ROUNDS * bound and half <= _FLOW_SEARCH_UP_TO:
        searched = _searched_front(by_class, half, classes, codes)
        if searched is not None:
            return searched
    return _rows_for(*best[1], codes)


def _searched_front(
    by_class: dict[int, list[int]], half: int, classes: tuple[int, ...], codes: IntArray
) -> IntArray | None:
    """Small cases the orderings miss (e.g. 6/5/5): halves whose cross-level X×Y graph has a 5-factor.

    Such a factor splits into FRONT_ROUNDS perfect matchings (König) and the rest of X×Y, being regular,
    into perfect matchings as well; both are found with augmenting paths. Every one of those front rounds
    is a perfect cross-level matching.
    """
    for first, second in _candidate_halves(by_class, half, classes):
        adjacent = [{j for j in range(half) if codes[first[i]] != codes[second[j]]} for i in range(half)]
        factor = _regular_subgraph(adjacent, FRONT_ROUNDS, half)
        if factor is None:
            continue
        front = _split_regular(factor, FRONT_ROUNDS, half)
        rest = _split_regular([set(range(half)) - chosen for chosen in factor], half - FRONT_ROUNDS, half)
        if front is None or rest is None:
            continue
        partners = np.array(front + rest, dtype=np.int64)
        return _rows_for(np.array(first, dtype=np.int64), np.array(second, dtype=np.int64), codes, partners)
    return None


def _regular_subgraph(adjacent: list[set[int]], degree: int, half: int) -> list[set[int]] | None:
    """A spanning subgraph in which every vertex on both sides has ``degree`` edges (max flow), or None."""
    chosen: list[set[int]] = [set() for _ in range(half)]
    load_x = [0] * half
    load_y = [0] * half
    for _ in range(degree * half):
        # Breadth-first search for an augmenting path: X with spare load → Y (unused edge) → X (used edge) …
        parent: dict[tuple[str, int], tuple[str, int] | None] = {}
        queue = [("x", i) for i in range(half) if load_x[i] < degree]
        for start in queue:
            parent[start] = None
        end: tuple[str, int] | None = None
        for side, vertex in queue:
            if side == "x":
                for j in adjacent[vertex] - chosen[vertex]:
                    if ("y", j) not in parent:
                        parent[("y", j)] = (side, vertex)
                        if load_y[j] < degree:
                            end = ("y", j)
                            break
                        queue.append(("y", j))
            else:
                for i in range(half):
                    if vertex in chosen[i] and ("x", i) not in parent:
                        parent[("x", i)] = (side, vertex)
                        queue.append(("x", i))
            if end is not None:
                break
        if end is None:
            return None
        load_y[end[1]] += 1
        step: tuple[str, int] | None = end
        while step is not None:
            previous = parent[step]
            if previous is None:
                load_x[step[1]] += 1
            elif step[0] == "y":
                chosen[previous[1]].add(step[1])
            else:
                chosen[step[1]].discard(previous[1])
            step = previous
    return chosen


def _split_regular(adjacent: list[set[int]], degree: int, half: int) -> list[list[int]] | None:
    """Split a ``degree``-regular bipartite graph into perfect matchings (partner in Y for every X)."""
    remaining = [set(edges) for edges in adjacent]
    matchings = []
    for _ in range(degree):
        partner_of_y: dict[int, int] = {}
        for i in range(half):
            if not _augment(i, remaining, partner_of_y, set()):
                return None
        partner_of_x = [0] * half
        for j, i in partner_of_y.items():
            partner_of_x[i] = j
            remaining[i].discard(j)
        matchings.append(partner_of_x)
    return matchings


def _augment(i: int, remaining: list[set[int]], partner_of_y: dict[int, int], seen: set[int]) -> bool:
    for j in sorted(remaining[i]):
        if j in seen:
            continue
        seen.add(j)
        if j not in partner_of_y or _augment(partner_of_y[j], remaining, partner_of_y, seen):
            partner_of_y[j] = i
            return True
    return False


def _stable_seed(*parts: object) -> int:
    return int.from_bytes(hashlib.sha256(repr(parts).encode()).digest()[:8], "big")


def _candidate_halves(
    by_class: dict[int, list[int]], half: int, classes: tuple[int, ...]
) -> list[tuple[list[int], list[int]]]:
    order = sorted(by_class, key=lambda value: (-len(by_class[value]), value))
    largest = by_class[order[0]]
    candidates: list[tuple[list[int], list[int]]] = []
    if len(largest) >= half:
        # Every person outside the largest level can meet one of it in every shift round.
        rest = [person for value in order for person in by_class[value]][half:]
        candidates.append((largest[:half], rest))
        return candidates
    candidates.extend(_whole_level_halves(by_class, order, half))
    candidates.append(_split_every_level(by_class, order, half))
    if half <= _RANDOM_TRIES_UP_TO:
        shuffler = random.Random(_stable_seed("tries", classes))
        bases = list(candidates)
        everyone = [person for value in order for person in by_class[value]]
        for attempt in range(_RANDOM_TRIES):
            if attempt % 2:
                shuffler.shuffle(everyone)
                first, second = everyone[:half], everyone[half:]
            else:
                first, second = (list(side) for side in bases[attempt // 2 % len(bases)])
                shuffler.shuffle(first)
                shuffler.shuffle(second)
            candidates.append((first, second))
    return candidates


def _whole_level_halves(
    by_class: dict[int, list[int]], order: list[int], half: int
) -> list[tuple[list[int], list[int]]]:
    """X = the largest level, whole other levels and part of at most one split level; Y = everyone else.

    The split level's part in X sits at the start of X; its part in Y is placed right after the positions
    that shifts 0 … FRONT_ROUNDS−1 map X's part to, so those shift rounds have no same-level pair if it fits.
    """
    largest, others = order[0], order[1:]
    missing = half - len(by_class[largest])
    candidates = []
    for split in [None, *others]:
        rest = [value for value in others if value != split]
        for size in range(len(rest) + 1):
            for whole in itertools.combinations(rest, size):
                taken = sum(len(by_class[value]) for value in whole)
                if split is None:
                    if taken != missing:
                        continue
                    in_x = 0
                elif not 0 < missing - taken < len(by_class[split]):
                    continue
                else:
                    in_x = missing - taken
                split_members = by_class[split] if split is not None else []
                first = split_members[:in_x] + by_class[largest]
                first += [person for value in whole for person in by_class[value]]
                second: list[int | None] = [None] * half
                for index, person in enumerate(split_members[in_x:]):
                    second[(in_x + FRONT_ROUNDS - 1 + index) % half] = person
                others_in_y = iter(
                    person for value in rest if value not in whole for person in by_class[value]
                )
                filled = [slot if slot is not None else next(others_in_y) for slot in second]
                candidates.append((first, filled))
    return candidates


def _split_every_level(
    by_class: dict[int, list[int]], order: list[int], half: int
) -> tuple[list[int], list[int]]:
    """Every level split in halves, both halves sorted by level, Y rotated by half the half size."""
    first: list[int] = []
    second: list[int] = []
    for value in order:
        members = by_class[value]
        # Alternate the rounding so that both halves get m people.
        take = (len(members) + (1 if len(first) <= len(second) else 0)) // 2
        first += members[:take]
        second += members[take:]
    while len(first) > half:
        second.append(first.pop())
    while len(second) > half:
        first.append(second.pop())
    shift = half // 2
    return first, second[shift:] + second[:shift]


def _circle(count: int) -> IntArray:
    """Circle method on ``count`` (even) positions: count − 1 rows, pairs in consecutive columns."""
    modulus = count - 1
    rounds = np.arange(modulus)[:, None]
    offsets = np.arange(1, count // 2)[None, :]
    rows = np.empty((modulus, count), dtype=np.int64)
    rows[:, 0] = modulus
    rows[:, 1] = rounds[:, 0]
    rows[:, 2::2] = (rounds - offsets) % modulus
    rows[:, 3::2] = (rounds + offsets) % modulus
    return rows


def _shift_rows(first: IntArray, second: IntArray) -> IntArray:
    half = len(first)
    indices = np.arange(half)
    shifts = np.empty((half, 2 * half), dtype=np.int64)
    shifts[:, 0::2] = first[None, :]
    shifts[:, 1::2] = second[(indices[None, :] + indices[:, None]) % half]
    return shifts


def _rows_for(
    first: IntArray, second: IntArray, codes: IntArray, partners: IntArray | None = None
) -> IntArray:
    """All rounds for halves ``first`` (X) and ``second`` (Y).

    ``partners[r, i]`` is the index in Y of X[i]'s partner in bipartite round r (a Latin square); the default
    is the cyclic shifts ``(i + r) mod m``.
    """
    half = len(first)
    if partners is None:
        shifts = _shift_rows(first, second)
    else:
        shifts = np.empty((half, 2 * half), dtype=np.int64)
        shifts[:, 0::2] = first[None, :]
        shifts[:, 1::2] = second[partners]
    if half % 2 == 0:
        circle = _circle(half)
        inner = np.concatenate([first[circle], second[circle]], axis=1)
        return np.concatenate([shifts, inner])
    # Odd halves: each inner round leaves X[t] and its partner Y[p] of one bipartite round out, and they meet
    # (that bipartite round is used up; the one with the fewest cross-level pairs).
    counts = cross_counts(shifts, codes)
    used = int(np.argmin(counts))
    used_partner = partners[used] if partners is not None else (np.arange(half) + used) % half
    circle = _circle(half + 1)  # column 0 is the extra position ``half``, column 1 the one left out
    inner_rows = []
    for row in range(half):
        other = int(used_partner[row])
        inner_rows.append(
            np.concatenate(
                [
                    [first[circle[row, 1]], second[circle[other, 1]]],
                    first[circle[row, 2:]],
                    second[circle[other, 2:]],
                ]
            )
        )
    keep = np.arange(half) != used
    return np.concatenate([shifts[keep], np.array(inner_rows, dtype=np.int64)])

"""Pure matching logic for networking rounds and partner requests (no Matrix, no database).

How it works is described in ``docs/matching.md``. In short: every round is either the next unused round of a
repeat-free *design* (round-robin schedule for pairs, resolvable group design for threes and fours) that is
anchored on rounds already played in the current block, or — when people came or went, or the design is used
up — the best single round found by maximum-weight matching (pairs) or exact/local search (groups).
"""

from __future__ import annotations

import hashlib
import itertools
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt
import rustworkx as rx

from commands.networking.level_design import FRONT_ROUNDS, cross_counts, level_rows

LEVELS: tuple[str, ...] = ("bund", "land", "kommune", "wissenschaft")

History = Mapping[frozenset[str], int]
"""Pair of Matrix IDs -> when they last met (round index or timestamp; larger = more recent).

All pairs placed in the same round must carry the same value: that is how rounds of a block are recognised.
"""

Grouping = list[tuple[str, ...]]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

# Affinity of a pair: meeting someone from another level counts more than another organisation.
_CROSS_LEVEL_POINTS = 2
_CROSS_ORG_POINTS = 1
# Repeats are graded by age into a few levels: few distinct weights keep the matching fast.
_AGE_LEVELS = 4
# Above this size the matching graph only gets a sample of candidate partners per person (speed).
_FULL_GRAPH_LIMIT = 400
_CANDIDATES_PER_PERSON = 32
# Designs for groups are searched only for small blocks; the iteration budget keeps it deterministic.
_DESIGN_SEARCH_LIMIT = 40
_DESIGN_SEARCH_ITERATIONS = 3000
# Number of relabelings of a design tried per anchor (more = better cross-level share, slower).
_DESIGN_VARIANTS_SMALL = 8
_DESIGN_VARIANTS_LARGE = 2
# Exact enumeration of groupings below this many candidates, local search above.
_ENUMERATION_LIMIT = 20_000
# Variants of the level design tried when earlier meetings block some of its rounds (see level_design.py).
_LEVEL_VARIANTS_SMALL = 8
_LEVEL_VARIANTS_LARGE = 3


@dataclass(frozen=True)
class Participant:
    """Someone to be placed; ``level`` is one of :data:`LEVELS` or ``None`` when unknown."""

    id: str
    organisation: str | None = None
    level: str | None = None


def affinity(first: Participant, second: Participant) -> int:
    """How desirable a meeting is: 2 for another level, +1 for another organisation (unknown counts 0)."""
    points = 0
    if first.level and second.level and first.level != second.level:
        points += _CROSS_LEVEL_POINTS
    first_org, second_org = _normalised(first.organisation), _normalised(second.organisation)
    if first_org and second_org and first_org != second_org:
        points += _CROSS_ORG_POINTS
    return points


def _normalised(text: str | None) -> str:
    return " ".join((text or "").casefold().split())


def group_sizes(count: int, group_size: int = 2) -> list[int]:
    """Sizes (largest first) for ``count`` people: balanced, none below ``group_size - 1``, no singleton.

    Pairs with an odd count give exactly one trio. If groups of ``group_size - 1`` or more cannot be formed
    (e.g. 5 people in fours) the groups get one person more than requested instead.
    """
    if group_size < 2:
        raise ValueError("group_size must be at least 2")
    if count < 2:
        raise ValueError("at least two participants are needed")
    smallest_allowed = max(2, group_size - 1)
    groups = -(-count // group_size)
    if count // groups < smallest_allowed:
        groups = max(1, count // group_size)
    base, extra = divmod(count, groups)
    return [base + 1] * extra + [base] * (groups - extra)


def pairs_in(groups: Iterable[Sequence[str]]) -> list[frozenset[str]]:
    """All pairs of people who meet in ``groups``."""
    return [frozenset(pair) for group in groups for pair in itertools.combinations(group, 2)]


def repeated_pairs(groups: Iterable[Sequence[str]], history: History) -> list[frozenset[str]]:
    """Pairs in ``groups`` that already met according to ``history``."""
    return [pair for pair in pairs_in(groups) if pair in history]


def cross_level_pairs(groups: Iterable[Sequence[str]], participants: Iterable[Participant]) -> int:
    """Number of pairs in ``groups`` whose (known) levels differ."""
    level_of = {person.id: person.level for person in participants}
    count = 0
    for pair in pairs_in(groups):
        first, second = sorted(pair)
        if level_of.get(first) and level_of.get(second) and level_of[first] != level_of[second]:
            count += 1
    return count


def cross_level_upper_bound(participants: Sequence[Participant]) -> int:
    """Most cross-level pairs one pairing round can have: min(⌊n/2⌋, n − size of the largest level)."""
    sizes: dict[str | None, int] = {}
    for person in participants:
        sizes[person.level] = sizes.get(person.level, 0) + 1
    unknown = sizes.pop(None, 0)
    largest = max(sizes.values(), default=0)
    # Unknown levels never count as cross-level, so they act like the largest level.
    return min(len(participants) // 2, len(participants) - largest - unknown)


def pick_partner(requester: Participant, waiting: Sequence[Participant], history: History) -> str | None:
    """Partner for a ``!partner`` request among ``waiting`` (oldest request first), or ``None``.

    Preference: never met ≫ met longer ago; then another organisation, another level; then longest waiting.
    """
    best: tuple[int, int, int, int, int] | None = None
    chosen: str | None = None
    for rank, candidate in enumerate(waiting):
        if candidate.id == requester.id:
            continue
        last_met = history.get(frozenset((requester.id, candidate.id)))
        key = (
            1 if last_met is None else 0,
            -(last_met if last_met is not None else 0),
            1 if affinity(requester, candidate) & _CROSS_ORG_POINTS else 0,
            1 if affinity(requester, candidate) >= _CROSS_LEVEL_POINTS else 0,
            -rank,
        )
        if best is None or key > best:
            best, chosen = key, candidate.id
    return chosen


def plan_round(
    participants: Sequence[Participant],
    history: History,
    *,
    group_size: int = 2,
    seed: int | None = None,
) -> Grouping:
    """Place everyone into groups for the next networking round.

    Pairs by default (one trio when the count is odd), balanced groups of three or four on request. No pair
    from ``history`` is repeated whenever a repeat-free placement exists; otherwise as few and as long-ago
    repeats as possible. Among repeat-free placements cross-level and cross-organisation pairs are preferred,
    and consecutive calls follow a repeat-free schedule (n−1 rounds for an even number of pairs). The result
    is deterministic for a given ``seed``.
    """
    people = sorted(participants, key=lambda person: person.id)
    ids = [person.id for person in people]
    if len(set(ids)) != len(ids):
        raise ValueError("participant ids must be unique")
    sizes = tuple(group_sizes(len(people), group_size))
    rng = random.Random(seed)
    if len(sizes) == 1:
        return [tuple(ids)]
    context = _Context.build(people, history, sizes)
    if all(size == 2 for size in sizes) and len(people) >= 4:
        from_levels = _next_level_round(context, rng)
        if from_levels is not None:
            return context.as_groups(from_levels)
    from_design = _next_design_round(context, rng)
    if from_design is not None:
        return context.as_groups(from_design)
    return context.as_groups(_best_single_round(context, rng))


# --- shared state of one call -------------------------------------------------------------------------------


@dataclass
class _Context:
    """Participants as positions 0..n−1 (sorted by id) plus affinity and history as matrices.

    Inside the matcher affinity is lexicographic: one cross-level pair outweighs cross-organisation pairs in
    all of a round (``max_affinity`` is the value of a pair that is both).
    """

    people: list[Participant]
    sizes: tuple[int, ...]
    affinity: IntArray
    last_met: dict[tuple[int, int], int]  # (i, j) with i < j -> value from history
    levels: IntArray  # level code per position, −1 when unknown
    max_affinity: int

    @classmethod
    def build(cls, people: list[Participant], history: History, sizes: tuple[int, ...]) -> _Context:
        position = {person.id: index for index, person in enumerate(people)}
        count = len(people)
        levels = _codes([person.level for person in people])
        orgs = _codes([_normalised(person.organisation) or None for person in people])
        cross_level = (levels[:, None] != levels[None, :]) & (levels[:, None] >= 0) & (levels[None, :] >= 0)
        cross_org = (orgs[:, None] != orgs[None, :]) & (orgs[:, None] >= 0) & (orgs[None, :] >= 0)
        level_points = sum(size * (size - 1) // 2 for size in sizes) + 1
        matrix = cross_level * level_points + cross_org * _CROSS_ORG_POINTS
        np.fill_diagonal(matrix, 0)
        last_met: dict[tuple[int, int], int] = {}
        if count * count < 4 * len(history):
            for first, second in itertools.combinations(range(count), 2):
                value = history.get(frozenset((people[first].id, people[second].id)))
                if value is not None:
                    last_met[(first, second)] = value
        else:
            for pair, value in history.items():
                if len(pair) != 2:
                    continue
                first_id, second_id = sorted(pair)
                if first_id in position and second_id in position:
                    last_met[(position[first_id], position[second_id])] = value
        return cls(people, sizes, matrix.astype(np.int64), last_met, levels, level_points + _CROSS_ORG_POINTS)

    @property
    def count(self) -> int:
        return len(self.people)

    def met_matrix(self, before: int | None = None) -> BoolArray:
        """Who met whom (optionally only meetings with a value below ``before``)."""
        matrix = np.zeros((self.count, self.count), dtype=np.bool_)
        for (first, second), value in self.last_met.items():
            if before is None or value < before:
                matrix[first, second] = matrix[second, first] = True
        return matrix

    def level_classes(self) -> tuple[int, ...]:
        """Level codes with unknown levels merged into the largest level (they never count as cross-level)."""
        known = self.levels[self.levels >= 0]
        largest = int(np.bincount(known).argmax()) if len(known) else 0
        return tuple(np.where(self.levels >= 0, self.levels, largest).tolist())

    def cross_level(self, groups: Sequence[Sequence[int]]) -> int:
        return sum(
            1
            for group in groups
            for first, second in itertools.combinations(group, 2)
            if self.levels[first] >= 0
            and self.levels[second] >= 0
            and self.levels[first] != self.levels[second]
        )

    def as_groups(self, groups: Sequence[Sequence[int]]) -> Grouping:
        named = [tuple(sorted(self.people[index].id for index in group)) for group in groups]
        return sorted(named, key=lambda group: (-len(group), group))


def _codes(values: Sequence[str | None]) -> IntArray:
    known = sorted({value for value in values if value})
    code = {value: index for index, value in enumerate(known)}
    return np.array([code[value] if value else -1 for value in values], dtype=np.int64)


def _stable_seed(*parts: object) -> int:
    digest = hashlib.sha256(repr(parts).encode()).digest()
    return int.from_bytes(digest[:8], "big")


# --- designs: repeat-free multi-round schedules on positions 0..n−1 -----------------------------------------


@dataclass(frozen=True)
class _Design:
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


def _group_ranges(sizes: tuple[int, ...]) -> list[range]:
    ranges, start = [], 0
    for size in sizes:
        ranges.append(range(start, start + size))
        start += size
    return ranges


@lru_cache(maxsize=32)
def _design(sizes: tuple[int, ...]) -> _Design | None:
    rows = _design_rows(sizes)
    if rows is None or len(rows) < 2:
        return None
    # Relabel so that row 0 is the identity.
    relabel = np.empty(rows.shape[1], dtype=np.int64)
    relabel[rows[0]] = np.arange(rows.shape[1])
    rows = relabel[rows]
    slot_of_zero = np.argmax(rows == 0, axis=1)
    group_of_slot = [group for group in _group_ranges(sizes) for _ in group]
    round_by_key: dict[int, int] = {}
    for round_index, slot in enumerate(slot_of_zero.tolist()):
        members = rows[round_index, group_of_slot[slot].start : group_of_slot[slot].stop].tolist()
        round_by_key[min(member for member in members if member != 0)] = round_index
    return _Design(sizes, rows, _pair_slots(sizes), round_by_key)


def _design_rows(sizes: tuple[int, ...]) -> IntArray | None:
    count = sum(sizes)
    if all(size == 2 for size in sizes):
        return _circle_rows(count)
    if sizes == (4,) * 6:
        return _rows_24_in_fours()
    if count <= _DESIGN_SEARCH_LIMIT:
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
    rng = random.Random(_stable_seed("design", sizes))
    solution: list[list[list[int]]] = [[list(group) for group in _group_ranges(sizes)]]
    while len(solution) < most_rounds:
        people = list(range(count))
        rng.shuffle(people)
        fresh = [[people[slot] for slot in group] for group in _group_ranges(sizes)]
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
    for iteration in range(_DESIGN_SEARCH_ITERATIONS):
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


# --- pairs: the level design (commands/networking/level_design.py) -----------------------------------------


def _next_level_round(context: _Context, rng: random.Random) -> list[list[int]] | None:
    """Best clean round of the level design for these participants, or None if none is clean.

    The design depends only on the participants' levels (and a variant chosen against the meetings *before*
    the current block), so consecutive calls with the same participants walk through the same n − 1 rounds.
    """
    classes = context.level_classes()
    codes = np.array(classes, dtype=np.int64)
    block = _rounds_of_block(context)
    block_values = {value for value, _ in block}
    earlier = np.zeros((context.count, context.count), dtype=np.bool_)
    for (first, second), value in context.last_met.items():
        if value not in block_values:
            earlier[first, second] = earlier[second, first] = True
    variants = _LEVEL_VARIANTS_SMALL if context.count <= 200 else _LEVEL_VARIANTS_LARGE
    best: tuple[tuple[bool, int, int, float], IntArray] | None = None
    for variant in range(variants):
        rows = level_rows(classes, variant)
        clean_before = ~earlier[rows[:, 0::2], rows[:, 1::2]].any(axis=1)
        front = np.sort(cross_counts(rows[clean_before], codes))[::-1][:FRONT_ROUNDS]
        # The variant that produced the block's rounds so far continues; otherwise the best, ties by seed.
        key = (_has_rounds(rows, block), int(front.sum()), int(clean_before.sum()), rng.random())
        if best is None or key > best[0]:
            best = (key, rows)
    assert best is not None
    rows = best[1]
    firsts, seconds = rows[:, 0::2], rows[:, 1::2]
    clean = ~context.met_matrix()[firsts, seconds].any(axis=1)
    chosen: list[list[int]] | None = None
    if clean.any():
        scores = np.where(clean, context.affinity[firsts, seconds].sum(axis=1), -1)
        top = np.flatnonzero(scores == scores.max())
        row = rows[int(top[rng.randrange(len(top))])]
        chosen = [[int(row[index]), int(row[index + 1])] for index in range(0, context.count, 2)]
    if len(block) < FRONT_ROUNDS and (chosen is None or earlier.any()):
        # People came or went: the design may miss the best round that is still possible; in the front rounds
        # take the best single round instead when it has more cross-level pairs.
        reached = -1 if chosen is None else context.cross_level(chosen)
        if reached < cross_level_upper_bound(context.people):
            single = _best_single_round(context, rng)
            if context.cross_level(single) > reached:
                return single
    return chosen


def _has_rounds(rows: IntArray, block: list[tuple[int, list[list[int]]]]) -> bool:
    """Whether every round of the block is a row of the design (found via person 0's partner)."""
    if not block:
        return False
    partner_of_zero = np.where(rows[:, 0::2] == 0, rows[:, 1::2], -1).max(axis=1)
    partner_of_zero = np.maximum(partner_of_zero, np.where(rows[:, 1::2] == 0, rows[:, 0::2], -1).max(axis=1))
    row_by_partner = {int(partner): index for index, partner in enumerate(partner_of_zero.tolist())}
    for _value, groups in block:
        zero_group = next(group for group in groups if 0 in group)
        index = row_by_partner.get(max(member for member in zero_group if member != 0))
        if index is None:
            return False
        row = rows[index]
        expected = _canonical([[int(row[slot]), int(row[slot + 1])] for slot in range(0, len(row), 2)])
        if expected != _canonical(groups):
            return False
    return True


# --- following a design across calls ------------------------------------------------------------------------


def _rounds_of_block(context: _Context) -> list[tuple[int, list[list[int]]]]:
    """Most recent rounds (value, groups) in which exactly these participants met in groups of these sizes."""
    by_value: dict[int, list[tuple[int, int]]] = {}
    for pair, value in context.last_met.items():
        by_value.setdefault(value, []).append(pair)
    expected_pairs = sum(size * (size - 1) // 2 for size in context.sizes)
    block = []
    for value in sorted(by_value, reverse=True):
        pairs = by_value[value]
        groups = _groups_from_pairs(pairs, context.count) if len(pairs) == expected_pairs else None
        if groups is None or sorted((len(group) for group in groups), reverse=True) != list(context.sizes):
            break
        block.append((value, groups))
    block.reverse()
    return block


def _groups_from_pairs(pairs: list[tuple[int, int]], count: int) -> list[list[int]] | None:
    parent = list(range(count))

    def root(node: int) -> int:
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for first, second in pairs:
        parent[root(first)] = root(second)
    members: dict[int, list[int]] = {}
    for person in range(count):
        members.setdefault(root(person), []).append(person)
    groups = list(members.values())
    if sum(len(group) * (len(group) - 1) // 2 for group in groups) != len(pairs):
        return None  # some component is not a complete group
    return groups


def _canonical(groups: Sequence[Sequence[int]]) -> list[list[int]]:
    return sorted((sorted(group) for group in groups), key=lambda group: (-len(group), group))


def _next_design_round(context: _Context, rng: random.Random) -> list[list[int]] | None:
    """Next unused, repeat-free round of a design consistent with the rounds of the current block."""
    design = _design(context.sizes)
    if design is None:
        return None
    block = _rounds_of_block(context)
    met_all = context.met_matrix()
    variants = _DESIGN_VARIANTS_SMALL if context.count <= 200 else _DESIGN_VARIANTS_LARGE
    # The earliest round still consistent with a design anchors it; later anchors restart the schedule.
    for anchor_index, (_value, anchor_groups) in enumerate(block):
        later = [groups for _, groups in block[anchor_index + 1 :]]
        best: tuple[tuple[int, int], IntArray, IntArray] | None = None
        for variant in range(variants):
            labels = _labels_for(anchor_groups, context.sizes, variant)
            used = _used_rounds(design, labels, later)
            if used is None:
                continue
            rows_as_people = labels[design.rows]
            firsts = rows_as_people[:, design.pair_slots[0]]
            seconds = rows_as_people[:, design.pair_slots[1]]
            clean: BoolArray = np.asarray(~met_all[firsts, seconds].any(axis=1), dtype=np.bool_)
            clean[0] = False
            clean[list(used)] = False
            if not clean.any():
                continue
            scores = context.affinity[firsts, seconds].sum(axis=1)
            clean_scores = np.sort(scores[clean])[::-1]
            rank = (int(clean.sum()), int(clean_scores[:5].sum()))
            if best is None or rank > best[0]:
                best = (rank, rows_as_people, np.where(clean, scores, -1))
        if best is not None:
            _, rows_as_people, scores = best
            top = np.flatnonzero(scores == scores.max())
            chosen = int(top[rng.randrange(len(top))])
            row = rows_as_people[chosen]
            return [[int(row[slot]) for slot in group] for group in _group_ranges(context.sizes)]
    return None


def _labels_for(anchor_groups: list[list[int]], sizes: tuple[int, ...], variant: int) -> IntArray:
    """Map design positions to people so that the design's row 0 is the anchor round.

    Variant 0 is canonical; others shuffle equal-sized groups and members with a seed derived from the
    anchor itself, so every later call reconstructs exactly the same candidates.
    """
    groups = _canonical(anchor_groups)
    if variant:
        shuffler = random.Random(_stable_seed("variant", groups, variant))
        for group in groups:
            shuffler.shuffle(group)
        for size in set(sizes):
            same = [index for index, group in enumerate(groups) if len(group) == size]
            picked = [groups[index] for index in same]
            shuffler.shuffle(picked)
            for index, group in zip(same, picked, strict=True):
                groups[index] = group
    return np.array([person for group in groups for person in group], dtype=np.int64)


def _used_rounds(design: _Design, labels: IntArray, rounds: list[list[list[int]]]) -> set[int] | None:
    """Design rows equal to the given rounds, or None if some round is not a row of the design."""
    position_of = np.empty(len(labels), dtype=np.int64)
    position_of[labels] = np.arange(len(labels))
    used = set()
    for groups in rounds:
        as_positions = [[int(position_of[person]) for person in group] for group in groups]
        zero_group = next(group for group in as_positions if 0 in group)
        round_index = design.round_by_key.get(min(member for member in zero_group if member != 0))
        if round_index is None or round_index == 0:
            return None
        row = design.rows[round_index]
        expected = _canonical([[int(row[slot]) for slot in group] for group in _group_ranges(design.sizes)])
        if expected != _canonical(as_positions):
            return None
        used.add(round_index)
    return used


# --- best single round --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Weights:
    """Integer pair weights: never met ≫ affinity ≫ age of a repeat (older is better)."""

    new_pair: int
    affinity_unit: int
    age_of: dict[tuple[int, int], int]

    @classmethod
    def build(cls, context: _Context) -> _Weights:
        pairs_per_round = sum(size * (size - 1) // 2 for size in context.sizes)
        affinity_unit = _AGE_LEVELS * pairs_per_round + 1
        new_pair = context.max_affinity * affinity_unit * pairs_per_round + 1
        values = sorted(set(context.last_met.values()), reverse=True)
        level_of = {value: min(index, _AGE_LEVELS - 1) for index, value in enumerate(values)}
        age_of = {pair: level_of[value] for pair, value in context.last_met.items()}
        return cls(new_pair, affinity_unit, age_of)

    def of(self, context: _Context, first: int, second: int) -> int:
        key = (first, second) if first < second else (second, first)
        age = self.age_of.get(key)
        if age is None:
            return self.new_pair + int(context.affinity[first, second]) * self.affinity_unit
        return age


def _best_single_round(context: _Context, rng: random.Random) -> list[list[int]]:
    weights = _Weights.build(context)
    if all(size == 2 for size in context.sizes):
        return [list(pair) for pair in _max_weight_pairs(context, weights, list(range(context.count)), rng)]
    if context.sizes.count(3) == 1 and all(size in (2, 3) for size in context.sizes):
        return _pairs_with_trio(context, weights, rng)
    return _best_grouping(context, weights, rng)


def _max_weight_pairs(
    context: _Context, weights: _Weights, people: list[int], rng: random.Random
) -> list[tuple[int, int]]:
    order = people[:]
    rng.shuffle(order)  # ties between equally good matchings are broken by the seed
    graph: rx.PyGraph = rx.PyGraph()
    graph.add_nodes_from(order)
    edges: set[tuple[int, int]] = set()
    if len(order) <= _FULL_GRAPH_LIMIT:
        edges.update(itertools.combinations(range(len(order)), 2))
    else:
        edges.update(_candidate_edges(context, order, rng))
    graph.add_edges_from(
        [(first, second, weights.of(context, order[first], order[second])) for first, second in edges]
    )
    matching = rx.max_weight_matching(graph, max_cardinality=True, weight_fn=lambda weight: int(weight))
    pairs = [(order[first], order[second]) for first, second in matching]
    matched = {person for pair in pairs for person in pair}
    leftovers = [person for person in order if person not in matched]
    if leftovers and len(order) > _FULL_GRAPH_LIMIT:
        # The sampled graph missed a perfect matching: match the few leftovers among themselves.
        pairs += _max_weight_pairs(context, weights, leftovers, rng) if len(leftovers) > 1 else []
    return pairs


def _candidate_edges(context: _Context, order: list[int], rng: random.Random) -> Iterable[tuple[int, int]]:
    """For large groups: a random sample of partners per person, keeping never-met and best affinity."""
    count = len(order)
    people = np.array(order, dtype=np.int64)
    draw = np.random.default_rng(rng.getrandbits(64))
    sample = draw.integers(0, count, size=(count, 4 * _CANDIDATES_PER_PERSON))
    nodes = np.arange(count)[:, None]
    never_met = ~context.met_matrix()[people[nodes], people[sample]]
    # Never met first, then affinity; the random fraction breaks ties.
    score = (
        never_met * (context.max_affinity + 1)
        + context.affinity[people[nodes], people[sample]]
        + draw.random(sample.shape)
    )
    score[sample == nodes] = -1
    best = np.argpartition(-score, _CANDIDATES_PER_PERSON, axis=1)[:, :_CANDIDATES_PER_PERSON]
    partners = np.take_along_axis(sample, best, axis=1)
    firsts = np.minimum(nodes, partners).ravel()
    seconds = np.maximum(nodes, partners).ravel()
    keep = firsts != seconds
    yield from zip(firsts[keep].tolist(), seconds[keep].tolist(), strict=True)
    # A ring through everyone keeps a perfect matching possible even if sampling was unlucky.
    for node in range(count):
        yield (node, node + 1) if node + 1 < count else (0, node)


def _pairs_with_trio(context: _Context, weights: _Weights, rng: random.Random) -> list[list[int]]:
    """Odd count: pairs plus one trio, trying candidate trios and matching the rest."""
    people = list(range(context.count))

    def trio_weight(trio: Sequence[int]) -> int:
        return sum(weights.of(context, first, second) for first, second in itertools.combinations(trio, 2))

    if context.count <= 15:
        candidates: list[tuple[int, ...]] = list(itertools.combinations(people, 3))
    else:
        # Too many trios to try them all: sample some and keep the few best.
        sampled = {tuple(sorted(rng.sample(people, 3))) for _ in range(400)}
        candidates = sorted(sampled, key=lambda trio: (-trio_weight(trio), trio))[:3]
    best: tuple[int, list[list[int]]] | None = None
    # Upper bound for the pairs part: all new with maximal affinity.
    pairs_bound = (context.count - 3) // 2 * (weights.new_pair + context.max_affinity * weights.affinity_unit)
    for trio in sorted(candidates, key=lambda trio: -trio_weight(trio)):
        if best is not None and trio_weight(trio) + pairs_bound <= best[0]:
            break
        rest = [person for person in people if person not in trio]
        pairs = _max_weight_pairs(context, weights, rest, rng)
        total = trio_weight(trio) + sum(weights.of(context, first, second) for first, second in pairs)
        if best is None or total > best[0]:
            best = (total, [list(trio)] + [list(pair) for pair in pairs])
    assert best is not None
    return best[1]


def _best_grouping(context: _Context, weights: _Weights, rng: random.Random) -> list[list[int]]:
    """Groups of three or four: exact for small counts, otherwise local search with restarts."""
    people = list(range(context.count))
    rng.shuffle(people)
    if _grouping_count(context.sizes) <= _ENUMERATION_LIMIT:
        best_groups: list[list[int]] | None = None
        best_total = -1
        for groups in _all_groupings(people, context.sizes):
            total = _grouping_weight(context, weights, groups)
            if total > best_total:
                best_total, best_groups = total, groups
        assert best_groups is not None
        return best_groups
    return _local_search_grouping(context, weights, people, rng)


def _grouping_weight(context: _Context, weights: _Weights, groups: Sequence[Sequence[int]]) -> int:
    return sum(
        weights.of(context, first, second)
        for group in groups
        for first, second in itertools.combinations(group, 2)
    )


def _grouping_count(sizes: tuple[int, ...]) -> int:
    """How many groupings :func:`_all_groupings` visits."""
    if not sizes:
        return 1
    total = 0
    for size in set(sizes):
        rest = list(sizes)
        rest.remove(size)
        total += _binomial(sum(sizes) - 1, size - 1) * _grouping_count(tuple(rest))
    return total


def _binomial(total: int, chosen: int) -> int:
    result = 1
    for index in range(chosen):
        result = result * (total - index) // (index + 1)
    return result


def _all_groupings(people: list[int], sizes: tuple[int, ...]) -> Iterable[list[list[int]]]:
    """Every way to split ``people`` into groups of ``sizes``: the first person starts a group of each size.

    (Filling the sizes in a fixed order would always put the first person into the largest group and miss
    every grouping in which they are in a smaller one.)
    """
    if not sizes:
        yield []
        return
    first, rest = people[0], people[1:]
    for size in sorted(set(sizes), reverse=True):
        rest_sizes = list(sizes)
        rest_sizes.remove(size)
        for others in itertools.combinations(rest, size - 1):
            remaining = [person for person in rest if person not in others]
            for tail in _all_groupings(remaining, tuple(rest_sizes)):
                yield [[first, *others], *tail]


def _local_search_grouping(
    context: _Context, weights: _Weights, people: list[int], rng: random.Random
) -> list[list[int]]:
    best_groups: list[list[int]] = []
    best_total = -1
    for _restart in range(3):
        rng.shuffle(people)
        groups, start = [], 0
        for size in context.sizes:
            groups.append(people[start : start + size])
            start += size
        total = _grouping_weight(context, weights, groups)
        stale = 0
        while stale < 30 * context.count:
            own, theirs = rng.sample(range(len(groups)), 2)
            mine, other = rng.randrange(len(groups[own])), rng.randrange(len(groups[theirs]))
            person, swap = groups[own][mine], groups[theirs][other]
            delta = sum(
                weights.of(context, swap, member) - weights.of(context, person, member)
                for member in groups[own]
                if member != person
            ) + sum(
                weights.of(context, person, member) - weights.of(context, swap, member)
                for member in groups[theirs]
                if member != swap
            )
            if delta > 0:
                groups[own][mine], groups[theirs][other] = swap, person
                total += delta
                stale = 0
            else:
                stale += 1
        if total > best_total:
            best_total, best_groups = total, [group[:] for group in groups]
    return best_groups

"""Participants, pair affinity, group sizes and the pair statistics of a grouping."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

LEVELS: tuple[str, ...] = ("bund", "land", "kommune", "wissenschaft")

History = Mapping[frozenset[str], int]
"""Pair of Matrix IDs -> when they last met (round index or timestamp; larger = more recent).

All pairs placed in the same round must carry the same value: that is how rounds of a block are recognised.
"""

Grouping = list[tuple[str, ...]]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

# Affinity of a pair: meeting someone from another level counts more than another organisation.
CROSS_LEVEL_POINTS = 2
CROSS_ORG_POINTS = 1
# Repeats are graded by age into a few levels: few distinct weights keep the matching fast.
AGE_LEVELS = 4
# Above this size the matching graph only gets a sample of candidate partners per person (speed).
FULL_GRAPH_LIMIT = 400
CANDIDATES_PER_PERSON = 32
# Designs for groups are searched only for small blocks; the iteration budget keeps it deterministic.
DESIGN_SEARCH_LIMIT = 40
DESIGN_SEARCH_ITERATIONS = 3000
# Number of relabelings of a design tried per anchor (more = better cross-level share, slower).
DESIGN_VARIANTS_SMALL = 8
DESIGN_VARIANTS_LARGE = 2
# Exact enumeration of groupings below this many candidates, local search above.
ENUMERATION_LIMIT = 20_000
# Variants of the level design tried when earlier meetings block some of its rounds (see level_design.py).
LEVEL_VARIANTS_SMALL = 8
LEVEL_VARIANTS_LARGE = 3


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
        points += CROSS_LEVEL_POINTS
    first_org, second_org = normalised(first.organisation), normalised(second.organisation)
    if first_org and second_org and first_org != second_org:
        points += CROSS_ORG_POINTS
    return points


def normalised(text: str | None) -> str:
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

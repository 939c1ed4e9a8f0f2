"""The shared state of one ``plan_round`` call: people as positions, their codes, the weights."""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .model import (
    CROSS_ORG_POINTS,
    BoolArray,
    Grouping,
    History,
    IntArray,
    Participant,
    normalised,
)

# --- shared state of one call -------------------------------------------------------------------------------


@dataclass
class Context:
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
    def build(cls, people: list[Participant], history: History, sizes: tuple[int, ...]) -> Context:
        position = {person.id: index for index, person in enumerate(people)}
        count = len(people)
        levels = _codes([person.level for person in people])
        orgs = _codes([normalised(person.organisation) or None for person in people])
        cross_level = (levels[:, None] != levels[None, :]) & (levels[:, None] >= 0) & (levels[None, :] >= 0)
        cross_org = (orgs[:, None] != orgs[None, :]) & (orgs[:, None] >= 0) & (orgs[None, :] >= 0)
        level_points = sum(size * (size - 1) // 2 for size in sizes) + 1
        matrix = cross_level * level_points + cross_org * CROSS_ORG_POINTS
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
        return cls(people, sizes, matrix.astype(np.int64), last_met, levels, level_points + CROSS_ORG_POINTS)

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


def stable_seed(*parts: object) -> int:
    digest = hashlib.sha256(repr(parts).encode()).digest()
    return int.from_bytes(digest[:8], "big")

"""Following a design across calls: recognise the block's rounds so far and play the next unused one."""

from __future__ import annotations

import random
from collections.abc import Sequence

import numpy as np

from .context import Context, stable_seed
from .designs import Design, design_for, group_ranges
from .model import DESIGN_VARIANTS_LARGE, DESIGN_VARIANTS_SMALL, BoolArray, IntArray

# --- following a design across calls ------------------------------------------------------------------------


def rounds_of_block(context: Context) -> list[tuple[int, list[list[int]]]]:
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


def canonical(groups: Sequence[Sequence[int]]) -> list[list[int]]:
    return sorted((sorted(group) for group in groups), key=lambda group: (-len(group), group))


def next_design_round(context: Context, rng: random.Random) -> list[list[int]] | None:
    """Next unused, repeat-free round of a design consistent with the rounds of the current block."""
    design = design_for(context.sizes)
    if design is None:
        return None
    block = rounds_of_block(context)
    met_all = context.met_matrix()
    variants = DESIGN_VARIANTS_SMALL if context.count <= 200 else DESIGN_VARIANTS_LARGE
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
            return [[int(row[slot]) for slot in group] for group in group_ranges(context.sizes)]
    return None


def _labels_for(anchor_groups: list[list[int]], sizes: tuple[int, ...], variant: int) -> IntArray:
    """Map design positions to people so that the design's row 0 is the anchor round.

    Variant 0 is canonical; others shuffle equal-sized groups and members with a seed derived from the
    anchor itself, so every later call reconstructs exactly the same candidates.
    """
    groups = canonical(anchor_groups)
    if variant:
        shuffler = random.Random(stable_seed("variant", groups, variant))
        for group in groups:
            shuffler.shuffle(group)
        for size in set(sizes):
            same = [index for index, group in enumerate(groups) if len(group) == size]
            picked = [groups[index] for index in same]
            shuffler.shuffle(picked)
            for index, group in zip(same, picked, strict=True):
                groups[index] = group
    return np.array([person for group in groups for person in group], dtype=np.int64)


def _used_rounds(design: Design, labels: IntArray, rounds: list[list[list[int]]]) -> set[int] | None:
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
        expected = canonical([[int(row[slot]) for slot in group] for group in group_ranges(design.sizes)])
        if expected != canonical(as_positions):
            return None
        used.add(round_index)
    return used

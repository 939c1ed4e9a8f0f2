"""Pairs: the level design (``commands/networking/level_design.py``) — cross-level-maximal first rounds."""

from __future__ import annotations

import random

import numpy as np

from commands.networking.level_design import FRONT_ROUNDS, cross_counts, level_rows

from .context import Context
from .following import canonical, rounds_of_block
from .model import LEVEL_VARIANTS_LARGE, LEVEL_VARIANTS_SMALL, IntArray, cross_level_upper_bound
from .single_round import best_single_round

# --- pairs: the level design (commands/networking/level_design.py) -----------------------------------------


def next_level_round(context: Context, rng: random.Random) -> list[list[int]] | None:
    """Best clean round of the level design for these participants, or None if none is clean.

    The design depends only on the participants' levels (and a variant chosen against the meetings *before*
    the current block), so consecutive calls with the same participants walk through the same n − 1 rounds.
    """
    classes = context.level_classes()
    codes = np.array(classes, dtype=np.int64)
    block = rounds_of_block(context)
    block_values = {value for value, _ in block}
    earlier = np.zeros((context.count, context.count), dtype=np.bool_)
    for (first, second), value in context.last_met.items():
        if value not in block_values:
            earlier[first, second] = earlier[second, first] = True
    variants = LEVEL_VARIANTS_SMALL if context.count <= 200 else LEVEL_VARIANTS_LARGE
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
            single = best_single_round(context, rng)
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
        expected = canonical([[int(row[slot]), int(row[slot + 1])] for slot in range(0, len(row), 2)])
        if expected != canonical(groups):
            return False
    return True

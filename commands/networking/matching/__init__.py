"""Pure matching logic for networking rounds and partner requests (no Matrix, no database).

How it works is described in ``docs/matching.md``. In short: every round is either the next unused round of a
repeat-free *design* (round-robin schedule for pairs, resolvable group design for threes and fours) that is
anchored on rounds already played in the current block, or — when people came or went, or the design is used
up — the best single round found by maximum-weight matching (pairs) or exact/local search (groups). Pairs
first follow the *level design* (``commands/networking/level_design.py``): the first rounds of a block are
cross-level-maximal and n − 1 rounds stay repeat-free.

The parts: ``model`` (participants, affinity, group sizes, pair statistics), ``planning`` (the entry points),
``context`` (one call's state), ``levels`` (the level design for pairs), ``designs`` and ``following``
(repeat-free schedules across a block's rounds), ``single_round`` (the best single round).
"""

from .model import (
    LEVELS,
    Grouping,
    History,
    Participant,
    affinity,
    cross_level_pairs,
    cross_level_upper_bound,
    group_sizes,
    pairs_in,
    repeated_pairs,
)
from .planning import pick_partner, plan_round

__all__ = [
    "LEVELS",
    "Grouping",
    "History",
    "Participant",
    "affinity",
    "cross_level_pairs",
    "cross_level_upper_bound",
    "group_sizes",
    "pairs_in",
    "pick_partner",
    "plan_round",
    "repeated_pairs",
]

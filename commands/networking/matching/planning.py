"""The two entry points: a partner for one request, the groups of a round."""

from __future__ import annotations

import random
from collections.abc import Sequence

from .context import Context
from .following import next_design_round
from .levels import next_level_round
from .model import CROSS_LEVEL_POINTS, CROSS_ORG_POINTS, Grouping, History, Participant, affinity, group_sizes
from .single_round import best_single_round


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
            1 if affinity(requester, candidate) & CROSS_ORG_POINTS else 0,
            1 if affinity(requester, candidate) >= CROSS_LEVEL_POINTS else 0,
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
    context = Context.build(people, history, sizes)
    if all(size == 2 for size in sizes) and len(people) >= 4:
        from_levels = next_level_round(context, rng)
        if from_levels is not None:
            return context.as_groups(from_levels)
    from_design = next_design_round(context, rng)
    if from_design is not None:
        return context.as_groups(from_design)
    return context.as_groups(best_single_round(context, rng))

"""Pure pairing for NExT-Kaffee runs (no Matrix, no database).

Hard rules: never a pair that met before (earlier coffee pairings and networking rounds, from the contact
history) and never a blocked pair (``!kaffee nicht-mit``, either direction). Within those, as many people as
possible are paired (maximum-cardinality matching); among those pairings as many pairs as possible are from
different organisations ("required where possible"); then different federal levels and shared profile topics
are preferred. With an odd number one person joins a pair as a trio, if all three are allowed to meet.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field

import rustworkx as rx

# Preference inside the "different organisation" tier: another level outweighs up to this many shared topics.
_TOPICS_COUNTED = 3
_LEVEL_POINTS = _TOPICS_COUNTED + 1


@dataclass(frozen=True)
class CoffeeMember:
    """An opted-in member; unknown organisation/level never count as different."""

    id: str
    organisation: str | None = None
    level: str | None = None
    topics: frozenset[str] = frozenset()


@dataclass
class CoffeeRound:
    groups: list[tuple[str, ...]] = field(default_factory=list)
    unpaired: list[str] = field(default_factory=list)


def _normalised(text: str | None) -> str:
    return " ".join((text or "").casefold().split())


def other_organisation(first: CoffeeMember, second: CoffeeMember) -> bool:
    a, b = _normalised(first.organisation), _normalised(second.organisation)
    return bool(a and b and a != b)


def other_level(first: CoffeeMember, second: CoffeeMember) -> bool:
    return bool(first.level and second.level and first.level != second.level)


def shared_topics(first: CoffeeMember, second: CoffeeMember) -> set[str]:
    mine = {_normalised(topic) for topic in first.topics} - {""}
    return mine & {_normalised(topic) for topic in second.topics}


def preference(first: CoffeeMember, second: CoffeeMember) -> int:
    """Level and topic points of a pair (0 … 7), used below the organisation tier."""
    return _LEVEL_POINTS * other_level(first, second) + min(
        len(shared_topics(first, second)), _TOPICS_COUNTED
    )


def pair_members(
    members: Sequence[CoffeeMember],
    met: Collection[frozenset[str]],
    blocked: Collection[frozenset[str]],
    *,
    seed: int | None = None,
) -> CoffeeRound:
    """Pairs (and at most one trio) for one run; people who cannot be placed are listed in ``unpaired``."""
    ids = [member.id for member in members]
    if len(set(ids)) != len(ids):
        raise ValueError("member ids must be unique")
    order = sorted(members, key=lambda member: member.id)
    random.Random(seed).shuffle(order)  # ties between equally good pairings are broken by the seed

    def allowed(first: CoffeeMember, second: CoffeeMember) -> bool:
        pair = frozenset((first.id, second.id))
        return pair not in met and pair not in blocked

    pairs_at_most = len(order) // 2 + 1
    organisation_points = (_LEVEL_POINTS + _TOPICS_COUNTED + 1) * pairs_at_most

    def weight(first: CoffeeMember, second: CoffeeMember) -> int:
        return 1 + organisation_points * other_organisation(first, second) + preference(first, second)

    def match(people: list[CoffeeMember]) -> list[list[CoffeeMember]]:
        graph: rx.PyGraph = rx.PyGraph()
        graph.add_nodes_from(range(len(people)))
        for i, first in enumerate(people):
            for j in range(i + 1, len(people)):
                if allowed(first, people[j]):
                    graph.add_edge(i, j, weight(first, people[j]))
        matching = rx.max_weight_matching(graph, max_cardinality=True, weight_fn=lambda value: int(value))
        return [[people[i], people[j]] for i, j in sorted(matching)]

    groups = match(order)
    placed = {member.id for group in groups for member in group}
    left = [member for member in order if member.id not in placed]
    if left:
        groups, left = _with_trio(groups, left, order, allowed, weight, match)
    result = sorted(
        (tuple(sorted(member.id for member in group)) for group in groups), key=lambda g: (-len(g), g)
    )
    return CoffeeRound(groups=result, unpaired=sorted(member.id for member in left))


_TRIO_CANDIDATES = 30
_EXACT_TRIO_SEARCH = 24


def _with_trio(
    groups: list[list[CoffeeMember]],
    left: list[CoffeeMember],
    order: list[CoffeeMember],
    allowed: Callable[[CoffeeMember, CoffeeMember], bool],
    weight: Callable[[CoffeeMember, CoffeeMember], int],
    match: Callable[[list[CoffeeMember]], list[list[CoffeeMember]]],
) -> tuple[list[list[CoffeeMember]], list[CoffeeMember]]:
    """Place one left-over person in a trio: onto a pair if possible, else by re-matching the rest."""
    attach = [
        (weight(person, group[0]) + weight(person, group[1]), -index, person)
        for person in left
        for index, group in enumerate(groups)
        if allowed(person, group[0]) and allowed(person, group[1])
    ]
    if attach:
        _, index, person = max(attach, key=lambda option: option[:2])
        groups[-index].append(person)
        return groups, [member for member in left if member is not person]
    # No pair can take anyone: a trio of three mutually allowed people places one person more if the rest can
    # still be matched with one pair fewer. Exact (every triangle) for small runs, the best few above.
    trios = (
        [
            (weight(a, b) + weight(a, c) + weight(b, c), (a, b, c))
            for a, b, c in itertools.combinations(order, 3)
            if allowed(a, b) and allowed(a, c) and allowed(b, c)
        ]
        if len(order) <= _EXACT_TRIO_SEARCH
        else [
            (weight(person, a) + weight(person, b) + weight(a, b), (person, a, b))
            for person in left
            for a, b in itertools.combinations([m for m in order if m is not person], 2)
            if allowed(person, a) and allowed(person, b) and allowed(a, b)
        ]
    )
    trios.sort(key=lambda option: -option[0])
    limit = len(trios) if len(order) <= _EXACT_TRIO_SEARCH else _TRIO_CANDIDATES
    for _, trio in trios[:limit]:
        rest = [member for member in order if member not in trio]
        pairs = match(rest)
        if len(pairs) >= len(groups) - 1:
            placed = {member.id for member in trio} | {member.id for group in pairs for member in group}
            return [list(trio), *pairs], [member for member in order if member.id not in placed]
    return groups, left

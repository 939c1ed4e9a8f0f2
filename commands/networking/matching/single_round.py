"""The best single round: maximum-weight matching for pairs, exact or local search for groups."""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import rustworkx as rx

from .context import Context
from .model import AGE_LEVELS, CANDIDATES_PER_PERSON, ENUMERATION_LIMIT, FULL_GRAPH_LIMIT

# --- best single round --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Weights:
    """Integer pair weights: never met ≫ affinity ≫ age of a repeat (older is better)."""

    new_pair: int
    affinity_unit: int
    age_of: dict[tuple[int, int], int]

    @classmethod
    def build(cls, context: Context) -> Weights:
        pairs_per_round = sum(size * (size - 1) // 2 for size in context.sizes)
        affinity_unit = AGE_LEVELS * pairs_per_round + 1
        new_pair = context.max_affinity * affinity_unit * pairs_per_round + 1
        values = sorted(set(context.last_met.values()), reverse=True)
        level_of = {value: min(index, AGE_LEVELS - 1) for index, value in enumerate(values)}
        age_of = {pair: level_of[value] for pair, value in context.last_met.items()}
        return cls(new_pair, affinity_unit, age_of)

    def of(self, context: Context, first: int, second: int) -> int:
        key = (first, second) if first < second else (second, first)
        age = self.age_of.get(key)
        if age is None:
            return self.new_pair + int(context.affinity[first, second]) * self.affinity_unit
        return age


def best_single_round(context: Context, rng: random.Random) -> list[list[int]]:
    weights = Weights.build(context)
    if all(size == 2 for size in context.sizes):
        return [list(pair) for pair in _max_weight_pairs(context, weights, list(range(context.count)), rng)]
    if context.sizes.count(3) == 1 and all(size in (2, 3) for size in context.sizes):
        return _pairs_with_trio(context, weights, rng)
    return _best_grouping(context, weights, rng)


def _max_weight_pairs(
    context: Context, weights: Weights, people: list[int], rng: random.Random
) -> list[tuple[int, int]]:
    order = people[:]
    rng.shuffle(order)  # ties between equally good matchings are broken by the seed
    graph: rx.PyGraph = rx.PyGraph()
    graph.add_nodes_from(order)
    edges: set[tuple[int, int]] = set()
    if len(order) <= FULL_GRAPH_LIMIT:
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
    if leftovers and len(order) > FULL_GRAPH_LIMIT:
        # The sampled graph missed a perfect matching: match the few leftovers among themselves.
        pairs += _max_weight_pairs(context, weights, leftovers, rng) if len(leftovers) > 1 else []
    return pairs


def _candidate_edges(context: Context, order: list[int], rng: random.Random) -> Iterable[tuple[int, int]]:
    """For large groups: a random sample of partners per person, keeping never-met and best affinity."""
    count = len(order)
    people = np.array(order, dtype=np.int64)
    draw = np.random.default_rng(rng.getrandbits(64))
    sample = draw.integers(0, count, size=(count, 4 * CANDIDATES_PER_PERSON))
    nodes = np.arange(count)[:, None]
    never_met = ~context.met_matrix()[people[nodes], people[sample]]
    # Never met first, then affinity; the random fraction breaks ties.
    score = (
        never_met * (context.max_affinity + 1)
        + context.affinity[people[nodes], people[sample]]
        + draw.random(sample.shape)
    )
    score[sample == nodes] = -1
    best = np.argpartition(-score, CANDIDATES_PER_PERSON, axis=1)[:, :CANDIDATES_PER_PERSON]
    partners = np.take_along_axis(sample, best, axis=1)
    firsts = np.minimum(nodes, partners).ravel()
    seconds = np.maximum(nodes, partners).ravel()
    keep = firsts != seconds
    yield from zip(firsts[keep].tolist(), seconds[keep].tolist(), strict=True)
    # A ring through everyone keeps a perfect matching possible even if sampling was unlucky.
    for node in range(count):
        yield (node, node + 1) if node + 1 < count else (0, node)


def _pairs_with_trio(context: Context, weights: Weights, rng: random.Random) -> list[list[int]]:
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


def _best_grouping(context: Context, weights: Weights, rng: random.Random) -> list[list[int]]:
    """Groups of three or four: exact for small counts, otherwise local search with restarts."""
    people = list(range(context.count))
    rng.shuffle(people)
    if _grouping_count(context.sizes) <= ENUMERATION_LIMIT:
        best_groups: list[list[int]] | None = None
        best_total = -1
        for groups in _all_groupings(people, context.sizes):
            total = _grouping_weight(context, weights, groups)
            if total > best_total:
                best_total, best_groups = total, groups
        assert best_groups is not None
        return best_groups
    return _local_search_grouping(context, weights, people, rng)


def _grouping_weight(context: Context, weights: Weights, groups: Sequence[Sequence[int]]) -> int:
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
    context: Context, weights: Weights, people: list[int], rng: random.Random
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

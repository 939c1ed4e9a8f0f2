"""The numbers the CP-SAT model of :mod:`.planner_model` is built from: indices, pair weights, who hosts
what, each member's interest set, rounds no availability tells apart — and the pigeonhole lower bound on
conflicts (Turán), which the model uses as cuts and the benchmark prints."""

from __future__ import annotations

from collections import Counter

from commands.sessions.planner import PlanningInput, allowed_rounds, pair_weights


def turan(size: int, rounds: int) -> int:
    """Fewest pairs in the same round when ``size`` sessions are spread over ``rounds`` rounds."""
    if rounds <= 0:
        return 0
    base, extra = divmod(size, rounds)
    return extra * (base + 1) * base // 2 + (rounds - extra) * base * (base - 1) // 2


def pigeonhole_bound(problem: PlanningInput) -> int:
    """Σ over members of T(#interests, #rounds): fewest conflicts of any plan that places every proposal."""
    counts = Counter(member for proposal in problem.proposals for member in proposal.interested)
    return sum(turan(count, len(problem.rounds)) for count in counts.values())


class ModelData:
    """Indices and pre-computed numbers shared by both models."""

    def __init__(self, problem: PlanningInput) -> None:
        self.problem = problem
        # Most popular first: the symmetry breaking then fixes the heaviest proposals first.
        self.proposals = sorted(problem.proposals, key=lambda p: (-p.interest, p.id))
        self.rounds = sorted(problem.rounds, key=lambda r: (r.order, r.id))
        self.locations = sorted(problem.locations, key=lambda loc: (-loc.capacity, loc.id))
        index = {p.id: i for i, p in enumerate(self.proposals)}
        round_index = {r.id: k for k, r in enumerate(self.rounds)}
        allowed = allowed_rounds(problem)
        self.allowed = [[round_index[r] for r in allowed[p.id]] for p in self.proposals]
        self.interest = [p.interest for p in self.proposals]
        self.weights = {
            (min(index[a], index[b]), max(index[a], index[b])): w
            for (a, b), w in pair_weights(problem.proposals).items()
        }
        self.hosted: dict[str, list[int]] = {}
        for i, p in enumerate(self.proposals):
            for host in sorted(p.hosts):
                self.hosted.setdefault(host, []).append(i)
        self.index, self.round_index = index, round_index
        self.location_index = {loc.id: j for j, loc in enumerate(self.locations)}
        # Members with the same interest set give the same cut; count them once.
        sets = {
            tuple(sorted(index[p.id] for p in problem.proposals if m in p.interested))
            for m in self._members()
        }
        self.member_sets = sorted(s for s in sets if len(s) >= 2)

    def _members(self) -> set[str]:
        return {m for p in self.problem.proposals for m in p.interested}

    def interchangeable_rounds(self) -> list[list[int]]:
        """Groups (≥ 2) of round indices that no proposal's availability tells apart."""
        if self.problem.current:
            return []  # moves depend on the round a session had
        groups: dict[frozenset[int], list[int]] = {}
        for k in range(len(self.rounds)):
            groups.setdefault(frozenset(i for i, ok in enumerate(self.allowed) if k in ok), []).append(k)
        return [group for group in groups.values() if len(group) >= 2]

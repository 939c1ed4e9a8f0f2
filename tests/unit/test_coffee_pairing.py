"""NExT-Kaffee pairing (issue 18.1): hard rules (met, blocked), organisation tier, level and topics, trio."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from commands.coffee.pairing import CoffeeMember, other_organisation, pair_members

LEVELS = ("bund", "land", "kommune", None)


def member(index: int, organisation: str | None, level: str | None = None, *topics: str) -> CoffeeMember:
    return CoffeeMember(f"@m{index:02d}:x", organisation, level, frozenset(topics))


pair_sets = st.sets(
    st.tuples(st.integers(0, 9), st.integers(0, 9)).filter(lambda p: p[0] != p[1]), max_size=25
)


def as_pairs(raw: set[tuple[int, int]]) -> set[frozenset[str]]:
    return {frozenset((f"@m{a:02d}:x", f"@m{b:02d}:x")) for a, b in raw}


def most_placed(ids: list[str], forbidden: set[frozenset[str]]) -> int:
    """Brute force: most people in pairs plus at most one trio without a forbidden pair."""
    best = 0

    def search(rest: list[str], placed: int, trio_used: bool) -> None:
        nonlocal best
        best = max(best, placed)
        if len(rest) < 2:
            return
        first, others = rest[0], rest[1:]
        search(others, placed, trio_used)  # first stays out
        for size in (2, 3) if not trio_used else (2,):
            for mates in itertools.combinations(others, size - 1):
                group = (first, *mates)
                if any(frozenset(pair) in forbidden for pair in itertools.combinations(group, 2)):
                    continue
                search([p for p in others if p not in mates], placed + size, trio_used or size == 3)

    search(ids, 0, False)
    return best


@settings(max_examples=80, deadline=None)
@given(
    count=st.integers(2, 9),
    organisations=st.lists(st.sampled_from(["A", "B", "C", None]), min_size=9, max_size=9),
    met=pair_sets,
    blocked=pair_sets,
    seed=st.integers(0, 99),
)
def test_hard_rules_hold_and_as_many_as_possible_are_placed(
    count: int,
    organisations: list[str | None],
    met: set[tuple[int, int]],
    blocked: set[tuple[int, int]],
    seed: int,
) -> None:
    members = [member(index, organisations[index], LEVELS[index % 4]) for index in range(count)]
    met_pairs, blocked_pairs = as_pairs(met), as_pairs(blocked)
    result = pair_members(members, met_pairs, blocked_pairs, seed=seed)
    placed = [person for group in result.groups for person in group]
    assert sorted(placed + result.unpaired) == sorted(m.id for m in members)
    assert sum(len(group) == 3 for group in result.groups) <= 1
    assert all(len(group) in (2, 3) for group in result.groups)
    for group in result.groups:
        for pair in itertools.combinations(group, 2):
            assert frozenset(pair) not in met_pairs
            assert frozenset(pair) not in blocked_pairs
    forbidden = met_pairs | blocked_pairs
    assert len(placed) == most_placed([m.id for m in members], forbidden)


def test_other_organisation_wins_over_level_and_topics() -> None:
    members = [
        member(0, "Stadt A", "kommune", "OZG"),
        member(1, "Stadt A", "land", "OZG"),  # same organisation: other level and shared topic do not help
        member(2, "Stadt B", "kommune"),
        member(3, "Stadt B", "kommune"),
    ]
    result = pair_members(members, set(), set(), seed=1)
    by_id = {m.id: m for m in members}
    assert all(other_organisation(by_id[a], by_id[b]) for a, b in result.groups)


def test_other_level_and_shared_topics_are_preferred_among_other_organisations() -> None:
    me = member(0, "Stadt A", "kommune", "OZG", "Cloud")
    same_level = member(1, "Stadt B", "kommune", "OZG")
    other_level_topics = member(2, "Land C", "land", "ozg", "cloud")
    rest = member(3, "Uni D", "kommune")
    for seed in range(5):
        result = pair_members([me, same_level, other_level_topics, rest], set(), set(), seed=seed)
        assert (me.id, other_level_topics.id) in result.groups


def test_odd_count_gives_one_trio_of_people_allowed_to_meet() -> None:
    members = [member(index, f"org{index}") for index in range(5)]
    result = pair_members(members, set(), set(), seed=3)
    assert sorted(len(group) for group in result.groups) == [2, 3]
    assert result.unpaired == []


def test_someone_who_met_or_blocked_everyone_stays_unpaired() -> None:
    members = [member(index, f"org{index}") for index in range(4)]
    lonely = members[0].id
    met = {frozenset((lonely, members[1].id)), frozenset((lonely, members[2].id))}
    blocked = {frozenset((members[3].id, lonely))}
    result = pair_members(members, met, blocked, seed=0)
    assert result.unpaired == [lonely]
    assert result.groups == [(members[1].id, members[2].id, members[3].id)]


def test_duplicate_members_are_rejected() -> None:
    with pytest.raises(ValueError, match="unique"):
        pair_members([member(0, "A"), member(0, "A")], set(), set())

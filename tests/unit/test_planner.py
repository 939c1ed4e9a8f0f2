"""Session planner: hard rules, exact scores on hand-checkable instances, unplaced reasons, re-planning,
baselines, and a property test against brute force on tiny random instances."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from commands.sessions.planner import (
    Location,
    Placement,
    PlanningInput,
    Proposal,
    Reason,
    Round,
    Status,
    allowed_rounds,
    evaluate,
    pair_weights,
    plan_sessions,
    violations,
)
from commands.sessions.planner_baselines import greedy_plan, improve_rounds, random_plan
from commands.sessions.planner_model import pigeonhole_bound, turan


def members(*names: str) -> frozenset[str]:
    return frozenset(f"@{name}:example.org" for name in names)


def rounds(count: int) -> tuple[Round, ...]:
    return tuple(Round(index + 1, index + 1) for index in range(count))


def locations(*capacities: int) -> tuple[Location, ...]:
    return tuple(Location(index + 1, f"Raum {index + 1}", cap) for index, cap in enumerate(capacities))


def plan(problem: PlanningInput):
    # Tiny instances finish far inside the limit; deterministic mode makes reruns identical.
    return plan_sessions(problem, time_limit=10.0, deterministic=True)


# --- scores and checks straight from the data ---------------------------------------------------------------


def test_pair_weights_count_members_interested_in_both():
    proposals = (
        Proposal(1, interested=members("a", "b", "c")),
        Proposal(2, interested=members("a", "b")),
        Proposal(3, interested=members("c")),
    )
    assert pair_weights(proposals) == {(1, 2): 2, (1, 3): 1}


def test_evaluate_counts_member_pairs_and_overflow():
    problem = PlanningInput(
        proposals=(
            Proposal(1, interested=members("a", "b", "c")),
            Proposal(2, interested=members("a", "b")),
            Proposal(3, interested=members("a")),
        ),
        rounds=rounds(2),
        locations=locations(2, 1),
    )
    placements = [Placement(1, 1, 1), Placement(2, 1, 2), Placement(3, 1, 2)]
    # evaluate only counts, it does not check rules: a has 3 sessions in round 1 → 3 pairs, b has 2 → 1
    # pair; overflow (3 − 2) + (2 − 1) + 0 = 2.
    assert evaluate(problem, placements) == (4, 2, 0)
    assert violations(problem, placements) == ["proposals 2 and 3 share location 2 in round 1"]


def test_turan_is_the_fewest_same_round_pairs():
    for size in range(9):
        for count in range(1, 4):
            brute = min(
                sum(c * (c - 1) // 2 for c in (split.count(r) for r in range(count)))
                for split in itertools.product(range(count), repeat=size)
            )
            assert turan(size, count) == brute


# --- hard rules and exact optima ----------------------------------------------------------------------------


def test_shared_interest_is_split_over_rounds():
    # Four proposals, two rounds × two rooms; a and b want 1 and 2, c wants 3 and 4, d wants 1 and 3.
    # Every plan puts two proposals in each round; the best one pairs (1, 4) and (2, 3): no conflicts.
    problem = PlanningInput(
        proposals=(
            Proposal(1, interested=members("a", "b", "d")),
            Proposal(2, interested=members("a", "b")),
            Proposal(3, interested=members("c", "d")),
            Proposal(4, interested=members("c")),
        ),
        rounds=rounds(2),
        locations=locations(3, 2),
    )
    result = plan(problem)
    assert result.status is Status.OPTIMAL
    assert (result.conflicts, result.overflow, result.conflict_bound) == (0, 0, 0)
    by_id = result.by_proposal()
    assert by_id[1].round_id == by_id[4].round_id != by_id[2].round_id == by_id[3].round_id
    # Larger room for more interest: 1 (3 members) gets Raum 1 (3 seats), 4 (1 member) Raum 2.
    assert (by_id[1].location_id, by_id[4].location_id) == (1, 2)
    assert violations(problem, result.placements) == []


def test_unavoidable_conflicts_and_overflow_are_exact():
    # Three proposals everybody wants, two rounds: one pair must share a round — 3 members × 1 pair.
    # Room sizes 2 and 1, interest 3 each: overflow (3−2) + (3−1) in the shared round + (3−2) = 4.
    everyone = members("a", "b", "c")
    problem = PlanningInput(
        proposals=tuple(Proposal(pid, interested=everyone) for pid in (1, 2, 3)),
        rounds=rounds(2),
        locations=locations(2, 1),
    )
    result = plan(problem)
    assert (len(result.placements), result.conflicts, result.overflow) == (3, 3, 4)
    assert result.conflict_bound == 3
    assert result.status is Status.OPTIMAL


def test_host_of_two_sessions_is_never_in_both_at_once():
    # Nobody is interested in anything, so only the host rule separates 1 and 2.
    problem = PlanningInput(
        proposals=(Proposal(1, hosts=members("h")), Proposal(2, hosts=members("h", "x")), Proposal(3)),
        rounds=rounds(2),
        locations=locations(10, 10, 10),
    )
    result = plan(problem)
    by_id = result.by_proposal()
    assert len(result.placements) == 3
    assert by_id[1].round_id != by_id[2].round_id


def test_host_availability_is_respected_even_against_conflicts():
    # 1 and 2 share all their interest, but 2's host can only make round 1 and 1's host only round 1 too:
    # they must share round 1 (3 conflicts), the rules win over the objective.
    everyone = members("a", "b", "c")
    problem = PlanningInput(
        proposals=(Proposal(1, members("h1"), everyone), Proposal(2, members("h2"), everyone)),
        rounds=rounds(2),
        locations=locations(5, 5),
        unavailable=frozenset({("@h1:example.org", 2), ("@h2:example.org", 2)}),
    )
    result = plan(problem)
    assert {pl.round_id for pl in result.placements} == {1}
    assert result.conflicts == 3
    assert violations(problem, result.placements) == []


def test_more_proposals_than_slots_leaves_the_least_wanted_out():
    problem = PlanningInput(
        proposals=(
            Proposal(1, interested=members("a", "b", "c")),
            Proposal(2, interested=members("a")),
            Proposal(3, interested=members("a", "b")),
        ),
        rounds=rounds(1),
        locations=locations(5, 5),
    )
    result = plan(problem)
    assert sorted(pl.proposal_id for pl in result.placements) == [1, 3]
    assert [(u.proposal_id, u.reason) for u in result.unplaced] == [(2, Reason.NO_FREE_SLOT)]
    assert result.unplaced[0].text


def test_unplaceable_proposals_say_why():
    problem = PlanningInput(
        proposals=(
            Proposal(1, hosts=members("away")),
            Proposal(2, hosts=members("busy")),
            Proposal(3, hosts=members("busy")),
            Proposal(4, hosts=members("busy")),
            Proposal(5),
        ),
        rounds=rounds(2),
        locations=locations(5, 5),
        unavailable=frozenset({("@away:example.org", 1), ("@away:example.org", 2)}),
    )
    result = plan(problem)
    reasons = {u.proposal_id: u.reason for u in result.unplaced}
    assert reasons[1] is Reason.HOSTS_UNAVAILABLE
    # "busy" has three proposals and two rounds: exactly one of them stays out, for that reason.
    busy_out = [pid for pid in (2, 3, 4) if pid in reasons]
    assert len(busy_out) == 1
    assert reasons[busy_out[0]] is Reason.HOST_OVERBOOKED
    assert len(result.placements) == 3  # 5 and two of busy's proposals: as many as the rules allow


@pytest.mark.parametrize(
    ("rounds_", "locations_", "reason"),
    [((), locations(5), Reason.NO_ROUNDS), (rounds(2), (), Reason.NO_LOCATIONS)],
)
def test_no_rounds_or_no_locations(rounds_, locations_, reason):
    problem = PlanningInput(proposals=(Proposal(1), Proposal(2)), rounds=rounds_, locations=locations_)
    result = plan(problem)
    assert result.placements == ()
    assert {u.reason for u in result.unplaced} == {reason}


def test_bad_input_is_rejected():
    with pytest.raises(ValueError, match="capacity"):
        PlanningInput(proposals=(), rounds=rounds(1), locations=locations(0))
    with pytest.raises(ValueError, match="duplicate proposal"):
        PlanningInput(proposals=(Proposal(1), Proposal(1)), rounds=rounds(1), locations=locations(1))


# --- re-planning --------------------------------------------------------------------------------------------


def replanning_instance(current: tuple[Placement, ...] = (), move_weight: int = 0) -> PlanningInput:
    return PlanningInput(
        proposals=(
            Proposal(1, members("h1"), members("a", "b", "c")),
            Proposal(2, members("h2"), members("a", "b")),
            Proposal(3, members("h3"), members("c", "d")),
            Proposal(4, members("h4"), members("d")),
        ),
        rounds=rounds(2),
        locations=locations(3, 2),
        current=current,
        move_weight=move_weight,
    )


def test_replanning_an_unchanged_event_moves_nothing():
    first = plan(replanning_instance())
    again = plan(replanning_instance(current=first.placements))
    assert again.moves == 0
    assert again.placements == first.placements


def test_replanning_keeps_an_equally_good_current_plan_even_if_rounds_are_swapped():
    # The mirror image of the first plan (rounds exchanged) is just as good; moves decide: keep it.
    first = plan(replanning_instance())
    swapped = tuple(Placement(pl.proposal_id, 3 - pl.round_id, pl.location_id) for pl in first.placements)
    again = plan(replanning_instance(current=swapped))
    assert (again.moves, again.conflicts) == (0, first.conflicts)


def test_a_late_proposal_moves_as_few_sessions_as_possible():
    base = replanning_instance()
    first = plan(base)
    late = Proposal(5, members("h5"), members("x"))
    grown = PlanningInput(
        proposals=(*base.proposals, late),
        rounds=base.rounds,
        locations=locations(3, 2, 1),
        current=first.placements,
    )
    result = plan(grown)
    assert len(result.placements) == 5
    assert result.moves == 0
    assert result.conflicts == first.conflicts


def test_move_weight_trades_moves_against_conflicts():
    # Current plan puts 1 and 2 (two shared members) together. With weight 0 conflicts win (the pair is
    # split, sessions move); with weight 5 a move costs more than the 2 conflicts it saves.
    current = (Placement(1, 1, 1), Placement(2, 1, 2), Placement(3, 2, 1), Placement(4, 2, 2))
    free = plan(replanning_instance(current=current))
    sticky = plan(replanning_instance(current=current, move_weight=5))
    assert free.conflicts < sticky.conflicts
    assert free.moves > 0
    assert sticky.moves == 0


def test_a_withdrawn_proposal_in_the_current_plan_is_no_move():
    current = (Placement(99, 1, 1),)
    result = plan(replanning_instance(current=current))
    assert result.moves == 0


# --- baselines ----------------------------------------------------------------------------------------------


def zipf_instance(seed: int) -> PlanningInput:
    import random

    rng = random.Random(seed)
    people = [f"@m{index}:example.org" for index in range(30)]
    interest: list[set[str]] = [set() for _ in range(8)]
    for person in people:
        for index in rng.sample(range(8), rng.randint(2, 4)):
            interest[index].add(person)
    return PlanningInput(
        proposals=tuple(
            Proposal(index + 1, frozenset({f"@h{index % 6}:example.org"}), frozenset(interest[index]))
            for index in range(8)
        ),
        rounds=rounds(3),
        locations=locations(10, 8, 6),
        unavailable=frozenset({("@h0:example.org", 1)}),
    )


@pytest.mark.parametrize("seed", range(4))
def test_planner_beats_or_equals_the_baselines(seed):
    problem = zipf_instance(seed)
    ours = plan(problem)
    for baseline in (greedy_plan(problem), random_plan(problem, seed=seed)):
        assert violations(problem, baseline.placements) == []
        assert len(ours.placements) >= len(baseline.placements)
        if len(ours.placements) == len(baseline.placements):
            assert (ours.conflicts, ours.overflow) <= (baseline.conflicts, baseline.overflow)
    assert ours.status is Status.OPTIMAL
    assert ours.conflict_bound == ours.conflicts


def test_greedy_puts_the_most_popular_first_into_the_largest_room():
    problem = PlanningInput(
        proposals=(Proposal(1, interested=members("a")), Proposal(2, interested=members("a", "b"))),
        rounds=rounds(1),
        locations=locations(1, 5),
    )
    placements = greedy_plan(problem).by_proposal()
    assert placements[2].location_id == 2
    assert placements[1].location_id == 1


def test_local_search_never_worsens_and_keeps_the_rules():
    for seed in range(6):
        problem = zipf_instance(seed)
        start = random_plan(problem, seed=seed)
        better = improve_rounds(problem, start.placements)
        assert violations(problem, better) == []
        assert len(better) == len(start.placements)
        assert evaluate(problem, better)[0] <= start.conflicts


# --- property: random tiny instances against brute force ----------------------------------------------------


@st.composite
def tiny_instances(draw: st.DrawFn) -> PlanningInput:
    n_proposals = draw(st.integers(1, 5))
    n_rounds = draw(st.integers(1, 3))
    n_locations = draw(st.integers(1, 2))
    hosts = [f"@h{index}:example.org" for index in range(3)]
    people = [f"@m{index}:example.org" for index in range(5)]
    proposals = tuple(
        Proposal(
            index + 1,
            frozenset(draw(st.sets(st.sampled_from(hosts), min_size=1, max_size=2))),
            frozenset(draw(st.sets(st.sampled_from(people)))),
        )
        for index in range(n_proposals)
    )
    away = draw(st.sets(st.tuples(st.sampled_from(hosts), st.integers(1, n_rounds)), max_size=3))
    capacities = draw(st.lists(st.integers(1, 4), min_size=n_locations, max_size=n_locations))
    return PlanningInput(
        proposals=proposals,
        rounds=rounds(n_rounds),
        locations=locations(*capacities),
        unavailable=frozenset(away),
    )


def all_plans(problem: PlanningInput) -> Iterator[list[Placement]]:
    """Every valid assignment, unplaced allowed (None), brute force."""
    slots = [None] + [(r.id, loc.id) for r in problem.rounds for loc in problem.locations]
    for choice in itertools.product(slots, repeat=len(problem.proposals)):
        placements = [
            Placement(p.id, slot[0], slot[1])
            for p, slot in zip(problem.proposals, choice, strict=True)
            if slot is not None
        ]
        if not violations(problem, placements):
            yield placements


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tiny_instances())
def test_random_tiny_instances_match_brute_force(problem):
    result = plan(problem)
    assert violations(problem, result.placements) == []
    allowed = allowed_rounds(problem)
    assert all(pl.round_id in allowed[pl.proposal_id] for pl in result.placements)
    # Lexicographic optimum by brute force: most placed, the most wanted of them, then fewest conflicts,
    # then least overflow.
    interest = {p.id: p.interest for p in problem.proposals}

    def key(placements: list[Placement]) -> tuple[int, int, int, int]:
        conflicts, overflow, _ = evaluate(problem, placements)
        return (-len(placements), -sum(interest[pl.proposal_id] for pl in placements), conflicts, overflow)

    assert key(list(result.placements)) == min(key(candidate) for candidate in all_plans(problem))
    assert result.status is Status.OPTIMAL
    assert result.conflict_bound == result.conflicts


def test_pigeonhole_bound_is_reached_when_interests_split_evenly():
    # a wants 1, 2, 3 and there are 2 rounds: at least one pair — the bound 1 is tight here.
    problem = PlanningInput(
        proposals=tuple(Proposal(pid, interested=members("a")) for pid in (1, 2, 3)),
        rounds=rounds(2),
        locations=locations(5, 5),
    )
    assert pigeonhole_bound(problem) == 1
    result = plan(problem)
    assert result.conflicts == result.conflict_bound == 1

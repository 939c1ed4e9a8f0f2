"""The pure parts of planning for people: conflicts per session and the personal suggestion."""

from __future__ import annotations

from commands.sessions.plan_view import SessionInfo, session_conflicts, suggestion_for
from commands.sessions.planner import Placement


def info(session_id: int, *interested: str) -> SessionInfo:
    return SessionInfo(session_id, f"S{session_id}", frozenset({f"host{session_id}"}), frozenset(interested))


SESSIONS = {1: info(1, "a", "b"), 2: info(2, "a"), 3: info(3, "a", "c"), 4: info(4, "b", "c")}
# Round 10: 1 (room 100) and 2 (room 200); round 20: 3 (room 100) and 4 (room 200).
PLACED = [Placement(1, 10, 100), Placement(2, 10, 200), Placement(3, 20, 100), Placement(4, 20, 200)]
CAPACITY = {100: 2, 200: 30}


def test_conflicts_count_members_interested_in_two_sessions_of_one_slot() -> None:
    assert session_conflicts(SESSIONS.values(), PLACED) == {1: 1, 2: 1, 3: 1, 4: 1}
    assert session_conflicts(SESSIONS.values(), [Placement(1, 10, 100), Placement(3, 20, 100)]) == {
        1: 0,
        3: 0,
    }


def test_the_suggestion_takes_per_slot_the_session_with_most_seats_to_spare() -> None:
    # Round 10: a wants 1 (2 seats, 2 interested: 0 spare) and 2 (30 seats, 1 interested) → 2.
    assert suggestion_for("a", PLACED, SESSIONS, CAPACITY, set()) == {10: 2, 20: 3}
    # Round 20 for c: 3 (0 spare) or 4 (28 spare) → 4.
    assert suggestion_for("c", PLACED, SESSIONS, CAPACITY, set()) == {20: 4}


def test_no_suggestion_in_a_slot_the_member_hosts_or_is_signed_up_in() -> None:
    assert suggestion_for("a", PLACED, SESSIONS, CAPACITY, {10}) == {20: 3}
    assert suggestion_for("nobody", PLACED, SESSIONS, CAPACITY, set()) == {}

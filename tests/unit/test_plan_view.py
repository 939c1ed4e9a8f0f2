"""The pure parts of planning for people: conflicts per session and the personal suggestion."""

from __future__ import annotations

from datetime import time

import pytest

from commands.sessions.plan_view import (
    LocationInfo,
    SessionInfo,
    SlotInfo,
    preview_text,
    session_conflicts,
    suggestion_for,
)
from commands.sessions.planner import Placement, Plan, Status
from commands.sessions.rules import with_prefix
from tests.catalog import catalog


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


# --- the preview on a phone ----------------------------------------------------------------------------

PHONE_WIDTH = 60


@pytest.mark.parametrize("language", ["de", "en"])
def test_the_preview_stays_within_a_phone_width(language: str) -> None:
    # An NTMY-like day: 3 time slots × 10 locations, titles as long as real proposals, three-digit numbers.
    slots = [
        SlotInfo(10 + n, n, f"Sessionrunde {n}", time(9 + 2 * n, 15), time(10 + 2 * n, 0)) for n in (1, 2, 3)
    ]
    locations = [LocationInfo(100 + n, n, f"Raum Spreeufer {n}", 60, None) for n in range(1, 11)]
    fans = [f"@fan{n}:example.org" for n in range(150)]
    sessions = [
        SessionInfo(
            n, f"Open Source im Amt: Wege {n:02d}", frozenset({f"@h{n}:x"}), frozenset(fans[: 100 + n])
        )
        for n in range(1, 31)
    ]
    placements = tuple(Placement(n, 10 + (n - 1) // 10 + 1, 100 + (n - 1) % 10 + 1) for n in range(1, 31))
    plan = Plan(placements, (), 1234, 567, 12, 1234, Status.OPTIMAL, 9.87)
    t = with_prefix(catalog().translator(language), "!")
    text = preview_text(123, "NExT-to-meet-you 2026", slots, locations, sessions, plan, t)
    assert text.count("Open Source im Amt") == 30
    too_wide = [line for line in text.splitlines() if len(line) > PHONE_WIDTH]
    assert too_wide == []

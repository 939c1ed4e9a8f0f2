"""Repeating a crowded session (pure part): when the offer goes out, which later time slots fit."""

from __future__ import annotations

from datetime import time

import pytest

from commands.sessions.repeat_rules import (
    Room,
    SlotUse,
    best_room,
    free_slots_for_repeat,
    repeat_spots,
    waitlist_crowded,
)
from commands.sessions.rules import SlotView

MORNING = SlotView(1, "Zeitfenster 1", time(10, 0), time(10, 45))
LATE_MORNING = SlotView(2, "Zeitfenster 2", time(11, 0), time(11, 45))
OVERLAPPING = SlotView(3, "Zeitfenster 3", time(10, 30), time(11, 15))
AFTERNOON = SlotView(4, "Zeitfenster 4", time(14, 0), time(14, 45))
SLOTS = [AFTERNOON, OVERLAPPING, LATE_MORNING, MORNING]


@pytest.mark.parametrize(
    ("capacity", "waiting", "share", "crowded"),
    [
        (10, 4, 0.5, False),
        (10, 5, 0.5, True),
        (3, 2, 0.5, True),  # 1.5 rounds up to 2
        (3, 1, 0.5, False),
        (2, 1, 0.5, True),
        (None, 50, 0.5, False),  # no limit: never crowded
        (10, 0, 0.01, False),  # nobody waiting
        (10, 1, 0.01, True),
        (10, 10, 1.0, True),
    ],
)
def test_waitlist_crowded(capacity: int | None, waiting: int, share: float, crowded: bool) -> None:
    assert waitlist_crowded(capacity, waiting, share) is crowded


def free(in_use: list[SlotUse], **kwargs: object) -> list[int]:
    options: dict[str, object] = {"hosts": ["@lena:x"], "location": None, **kwargs}
    return [s.id for s in free_slots_for_repeat(MORNING, SLOTS, in_use, **options)]  # type: ignore[arg-type]


def test_only_later_slots_that_do_not_overlap_the_original_earliest_first() -> None:
    assert free([]) == [2, 4]
    assert [s.id for s in free_slots_for_repeat(AFTERNOON, SLOTS, [], hosts=[], location=None)] == []


def test_a_slot_where_a_host_hosts_another_session_does_not_fit() -> None:
    busy = [SlotUse(2, frozenset({"@lena:x", "@olga:x"}), None)]
    assert free(busy) == [4]
    assert free(busy, hosts=["@paul:x"]) == [2, 4]


def test_a_slot_where_the_room_is_taken_does_not_fit() -> None:
    taken = [SlotUse(2, frozenset({"@olga:x"}), " Raum Elbe ")]
    assert free(taken, location="raum elbe") == [4]
    assert free(taken, location="Raum Spree") == [2, 4]
    assert free(taken) == [2, 4]  # a session without a place needs no room


def test_slots_that_have_begun_do_not_fit() -> None:
    assert free([], not_before=time(11, 1)) == [4]
    assert free([], not_before=time(11, 0)) == [2, 4]


# --- with the event's locations ------------------------------------------------------------------------

SMALL, MEDIUM, LARGE = Room(1, 8), Room(2, 20), Room(3, 60)


@pytest.mark.parametrize(
    ("free", "capacity", "waiting", "chosen"),
    [
        ([SMALL, MEDIUM, LARGE], 15, 9, MEDIUM),  # the smallest that seats the session's capacity
        ([SMALL, LARGE], 15, 9, LARGE),
        ([SMALL, Room(4, 10)], 15, 9, Room(4, 10)),  # none seats 15: the smallest that seats the wait list
        ([SMALL, Room(4, 5)], 15, 9, SMALL),  # none seats either: the largest
        ([SMALL, MEDIUM], None, 12, MEDIUM),  # no limit: by the wait list
        ([], 15, 9, None),
    ],
)
def test_best_room(free: list[Room], capacity: int | None, waiting: int, chosen: Room | None) -> None:
    assert best_room(free, capacity, waiting) == chosen


def spots(in_use: list[SlotUse], **kwargs: object) -> list[tuple[int, int | None]]:
    options: dict[str, object] = {
        "hosts": ["@lena:x"],
        "location": "Raum Elbe",
        "rooms": [SMALL, LARGE],
        "capacity": 20,
        "waiting": 6,
        **kwargs,
    }
    found = repeat_spots(MORNING, SLOTS, in_use, **options)  # type: ignore[arg-type]
    return [(s.slot.id, s.room.id if s.room else None) for s in found]


def test_a_repeat_gets_a_free_location_in_each_later_slot() -> None:
    assert spots([]) == [(2, LARGE.id), (4, LARGE.id)]
    # The large room is taken in slot 2: the small one seats at least the wait list there.
    assert spots([SlotUse(2, frozenset({"@olga:x"}), "Saal", LARGE.id)]) == [(2, SMALL.id), (4, LARGE.id)]


def test_a_slot_without_a_free_location_does_not_fit() -> None:
    full = [SlotUse(2, frozenset({"@olga:x"}), None, SMALL.id), SlotUse(2, frozenset(), None, LARGE.id)]
    assert spots(full) == [(4, LARGE.id)]
    # The original's own room text does not block a slot once the event has locations.
    assert spots([SlotUse(2, frozenset({"@olga:x"}), "raum elbe")]) == [(2, LARGE.id), (4, LARGE.id)]


def test_slots_the_hosts_cannot_make_and_host_clashes_do_not_fit() -> None:
    assert spots([], unavailable=[2]) == [(4, LARGE.id)]
    assert spots([SlotUse(4, frozenset({"@lena:x"}), None, SMALL.id)]) == [(2, LARGE.id)]


def test_without_locations_the_repeat_keeps_its_place() -> None:
    taken = [SlotUse(2, frozenset({"@olga:x"}), "Raum Elbe")]
    assert spots(taken, rooms=[]) == [(4, None)]
    assert spots([], rooms=[], unavailable=[4]) == [(2, None)]

"""Pure rules for repeating a crowded session: when the host gets the offer, and which time slots fit."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import time
from enum import StrEnum

from .rules import SlotView


class RepeatAnswer(StrEnum):
    """The host's answer to the offer (``session_repeats.answer``; None while open)."""

    ACCEPTED = "accepted"
    DECLINED = "declined"


def waitlist_crowded(capacity: int | None, waitlisted: int, share: float) -> bool:
    """Whether the wait list reached ``share`` of the capacity (sessions without a limit never fill)."""
    if capacity is None or waitlisted <= 0:
        return False
    return waitlisted >= max(1, math.ceil(capacity * share - 1e-9))


@dataclass(frozen=True)
class SlotUse:
    """A scheduled session occupying a time slot: its hosts, its place (room label or link) and, when it
    is at one of the event's locations, that location."""

    slot_id: int
    hosts: frozenset[str]
    location: str | None
    location_id: int | None = None


@dataclass(frozen=True)
class Room:
    """One of the event's locations (``!veranstaltung ort``) with its seats."""

    id: int
    capacity: int


@dataclass(frozen=True)
class RepeatSpot:
    """A later time slot the repeat fits in and, when the event has locations, the free one it gets."""

    slot: SlotView
    room: Room | None


def _same_place(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and a.strip().casefold() == b.strip().casefold()


def free_slots_for_repeat(
    original: SlotView,
    slots: Iterable[SlotView],
    in_use: Sequence[SlotUse],
    *,
    hosts: Iterable[str],
    location: str | None,
    not_before: time | None = None,
) -> list[SlotView]:
    """Later time slots of the event where the session can run again, earliest first.

    A slot fits when it starts after the original has ended (and not before ``not_before``, the current
    local time on the event's day), none of the hosts hosts another session in it, and the session's place
    is not taken by another session in it. Events with locations: see ``repeat_spots``.
    """
    people = set(hosts)
    fitting = []
    for slot in sorted(slots, key=lambda s: (s.start, s.id)):
        if slot.id == original.id or slot.start < original.end:
            continue
        if not_before is not None and slot.start < not_before:
            continue
        there = [use for use in in_use if use.slot_id == slot.id]
        if any(use.hosts & people for use in there):
            continue
        if any(_same_place(use.location, location) for use in there):
            continue
        fitting.append(slot)
    return fitting


def best_room(free: Iterable[Room], capacity: int | None, waiting: int) -> Room | None:
    """The free location for a repeat: the smallest that seats the session's capacity, else the smallest
    that seats its wait list, else the largest (then the lower id)."""
    rooms = list(free)
    for need in (capacity, waiting):
        if need is not None and need > 0:
            fitting = [r for r in rooms if r.capacity >= need]
            if fitting:
                return min(fitting, key=lambda r: (r.capacity, r.id))
    return max(rooms, key=lambda r: (r.capacity, -r.id), default=None)


def repeat_spots(
    original: SlotView,
    slots: Iterable[SlotView],
    in_use: Sequence[SlotUse],
    *,
    hosts: Iterable[str],
    location: str | None,
    rooms: Sequence[Room],
    unavailable: Iterable[int] = (),
    capacity: int | None = None,
    waiting: int = 0,
    not_before: time | None = None,
) -> list[RepeatSpot]:
    """Where the session can run again, earliest first: later time slots as in ``free_slots_for_repeat``,
    without those its hosts cannot make (``unavailable``: slot ids), and — when the event has locations —
    only slots with a location no other session uses, each with the best one (``best_room``). Without
    locations the session keeps its own place (today's rule)."""
    blocked = set(unavailable)
    later = free_slots_for_repeat(
        original,
        slots,
        in_use,
        hosts=hosts,
        location=None if rooms else location,
        not_before=not_before,
    )
    spots = []
    for slot in later:
        if slot.id in blocked:
            continue
        if not rooms:
            spots.append(RepeatSpot(slot, None))
            continue
        taken = {use.location_id for use in in_use if use.slot_id == slot.id}
        room = best_room([r for r in rooms if r.id not in taken], capacity, waiting)
        if room is not None:
            spots.append(RepeatSpot(slot, room))
    return spots

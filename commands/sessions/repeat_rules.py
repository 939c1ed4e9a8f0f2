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
    """A scheduled session occupying a time slot: its hosts and its place (room label or link)."""

    slot_id: int
    hosts: frozenset[str]
    location: str | None


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
    is not taken by another session in it. Events have no rooms with capacities yet: this is the one place
    to consult them (a free room in the slot) once they exist.
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

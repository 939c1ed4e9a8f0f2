"""Capacity, wait-list and validation rules of the sessions feature.

The dataclasses here are the read-only view of the data; the database layer maps its rows onto them. Every
function is deterministic and side-effect free: the database layer reads the current rows inside one
transaction, asks these functions what to do and executes the answer in that same transaction, so that
concurrent sign-ups are serialised by the database and never over-fill a session.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time
from enum import StrEnum
from typing import Final, Literal

from bot.format import esc
from bot.i18n import Translate


class EventStatus(StrEnum):
    """An event's status, in lifecycle order (the values are stored)."""

    DRAFT = "draft"
    OPEN = "open"  # proposals open
    PUBLISHED = "published"
    OVER = "over"


# Sign-ups are possible once sessions can be planned and until the event is over.
EVENT_SIGNUP_STATUSES: Final = frozenset({EventStatus.OPEN, EventStatus.PUBLISHED})


class SessionStatus(StrEnum):
    PROPOSED = "proposed"
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"


class SignupState(StrEnum):
    CONFIRMED = "confirmed"
    WAITLISTED = "waitlisted"


MAX_TITLE_LENGTH: Final = 200


@dataclass(frozen=True)
class EventView:
    id: int
    title: str
    day: date
    tz: str
    status: str


@dataclass(frozen=True)
class ProgramItemView:
    time: time
    label: str


@dataclass(frozen=True)
class SlotView:
    id: int
    name: str
    start: time
    end: time


@dataclass(frozen=True)
class SessionView:
    id: int
    title: str
    description: str
    hosts: tuple[str, ...]
    theme: str | None
    capacity: int | None  # None: no limit
    slot_id: int | None  # None: not scheduled yet
    location: str | None  # room label or link
    status: str
    confirmed: int
    waitlisted: int
    # The hosts' display names, in the order of ``hosts`` (empty: show the Matrix IDs).
    host_names: tuple[str, ...] = ()


@dataclass(frozen=True)
class SignupView:
    user_id: str
    session_id: int
    state: str  # SignupState.CONFIRMED or SignupState.WAITLISTED
    position: int | None  # wait-list position (1 = next in line); None while confirmed
    created_at: datetime


@dataclass(frozen=True)
class Problem:
    """A rejected input: message key, its parameters (raw values) and, for files, the line number.

    :func:`render` turns it into text and escapes the text parameters.
    """

    key: str
    params: Mapping[str, object] = field(default_factory=dict)
    line: int | None = None


DecisionKind = Literal["confirmed", "waitlisted", "already_signed_up", "slot_conflict", "not_open"]


@dataclass(frozen=True)
class SignupDecision:
    """What to do with a sign-up request.

    For ``confirmed`` and ``waitlisted`` the database layer stores a sign-up with ``state`` and ``position``
    (updating the member's existing row when ``replaces_existing``). When ``withdraw_from_session_id`` is set
    it first deletes the member's sign-up there and, if that one was confirmed, promotes in that session.
    ``position`` is the value to store (after the highest stored one); ``params["position"]`` is the place in
    line shown to the member. ``key``/``params`` describe the outcome; :func:`render` turns them into text.
    """

    kind: DecisionKind
    key: str
    params: Mapping[str, object]
    state: str | None = None
    position: int | None = None
    withdraw_from_session_id: int | None = None
    replaces_existing: bool = False

    @property
    def accepted(self) -> bool:
        return self.kind in ("confirmed", "waitlisted")


def _waitlist_order(signup: SignupView) -> tuple[int, datetime, str]:
    # Position first; created_at and user_id only break ties left by a missing renumbering.
    return (signup.position if signup.position is not None else 0, signup.created_at, signup.user_id)


def waitlist(signups: Iterable[SignupView]) -> list[SignupView]:
    """The wait-listed sign-ups in queue order."""
    return sorted((s for s in signups if s.state == SignupState.WAITLISTED), key=_waitlist_order)


def confirmed_count(signups: Iterable[SignupView]) -> int:
    return sum(1 for s in signups if s.state == SignupState.CONFIRMED)


def free_seats(capacity: int | None, confirmed: int) -> int | None:
    """Seats left (never negative: hosts may push a session over capacity); None without a limit."""
    return None if capacity is None else max(0, capacity - confirmed)


def decide_signup(
    session: SessionView,
    signups_of_session: Sequence[SignupView],
    user_id: str,
    *,
    is_host: bool,
    other_signup_in_same_slot: SignupView | None,
    switch: bool,
    event_status: str | None = None,
    round_over: bool = False,
) -> SignupDecision:
    """Decide a sign-up of ``user_id`` for ``session``.

    ``signups_of_session`` are all current sign-ups of the session (the counts in ``session`` may be stale);
    ``other_signup_in_same_slot`` is the member's sign-up for another session of the same slot, if any.
    ``event_status`` is checked when given; ``round_over``: the session's round has ended (a sign-up would
    only count a seat nobody can take any more). Hosts are always confirmed, even beyond capacity.
    """
    base: dict[str, object] = {"session_id": session.id, "title": session.title}
    if session.status == SessionStatus.CANCELLED:
        return SignupDecision("not_open", "sessions_signup_cancelled", base)
    if event_status is not None and event_status not in EVENT_SIGNUP_STATUSES:
        return SignupDecision("not_open", "sessions_signup_event_closed", base)
    if session.status != SessionStatus.SCHEDULED or session.slot_id is None:
        return SignupDecision("not_open", "sessions_signup_not_scheduled", base)
    if round_over:
        return SignupDecision("not_open", "sessions_signup_round_over", base)

    existing = next((s for s in signups_of_session if s.user_id == user_id), None)
    if existing is not None and not (is_host and existing.state == SignupState.WAITLISTED):
        if existing.state == SignupState.CONFIRMED:
            return SignupDecision("already_signed_up", "sessions_signup_already_confirmed", base)
        place = _place_in_line(signups_of_session, user_id)
        return SignupDecision(
            "already_signed_up", "sessions_signup_already_waitlisted", {**base, "position": place}
        )

    withdraw_from: int | None = None
    if other_signup_in_same_slot is not None and other_signup_in_same_slot.session_id != session.id:
        if not switch:
            return SignupDecision(
                "slot_conflict",
                "sessions_signup_slot_conflict",
                {**base, "other_session_id": other_signup_in_same_slot.session_id},
            )
        withdraw_from = other_signup_in_same_slot.session_id

    others = [s for s in signups_of_session if s.user_id != user_id]
    queue = waitlist(others)
    seats = free_seats(session.capacity, confirmed_count(others))
    # A free seat goes to the newcomer only if nobody is queued: the queue is served first.
    if is_host or seats is None or (seats > 0 and not queue):
        key = "sessions_signup_host_confirmed" if is_host else "sessions_signup_confirmed"
        return SignupDecision(
            "confirmed",
            key,
            base,
            state=SignupState.CONFIRMED,
            withdraw_from_session_id=withdraw_from,
            replaces_existing=existing is not None,
        )
    position = max((s.position or 0 for s in queue), default=0) + 1
    return SignupDecision(
        "waitlisted",
        "sessions_signup_waitlisted",
        {**base, "position": len(queue) + 1},
        state=SignupState.WAITLISTED,
        position=position,
        withdraw_from_session_id=withdraw_from,
    )


def _place_in_line(signups: Iterable[SignupView], user_id: str) -> int:
    for place, signup in enumerate(waitlist(signups), start=1):
        if signup.user_id == user_id:
            return place
    return 0


def promote_after_withdrawal(signups: Sequence[SignupView], *, capacity: int | None = None) -> str | None:
    """The member to promote after a confirmed member withdrew: the first in the wait list.

    ``signups`` are the remaining sign-ups of the session. With ``capacity`` given, nobody is promoted while
    the session is still full (a host may have taken a seat beyond capacity).
    """
    promoted = promotions_for_capacity(signups, capacity, limit=1)
    return promoted[0] if promoted else None


def promotions_for_capacity(
    signups: Sequence[SignupView], capacity: int | None, *, limit: int | None = None
) -> list[str]:
    """Wait-listed members (in order) who get a seat given ``capacity``; used after a capacity increase."""
    queue = waitlist(signups)
    seats = free_seats(capacity, confirmed_count(signups))
    count = len(queue) if seats is None else min(seats, len(queue))
    if limit is not None:
        count = min(count, limit)
    return [s.user_id for s in queue[:count]]


def renumber_waitlist(signups: Iterable[SignupView]) -> list[SignupView]:
    """The wait list in order with positions 1..n (the database layer stores the changed positions)."""
    return [replace(s, position=place) for place, s in enumerate(waitlist(signups), start=1)]


# --- validation -------------------------------------------------------------------------------------------


def validate_capacity(capacity: int) -> Problem | None:
    if capacity <= 0:
        return Problem("sessions_error_capacity", {"capacity": capacity})
    return None


def validate_title(title: str) -> Problem | None:
    stripped = title.strip()
    if not stripped:
        return Problem("sessions_error_title_empty")
    if len(stripped) > MAX_TITLE_LENGTH:
        return Problem("sessions_error_title_too_long", {"length": len(stripped), "max": MAX_TITLE_LENGTH})
    return None


def validate_event_date(day: date, today: date) -> Problem | None:
    """``today`` is the current date in the event's time zone (passed in to keep this deterministic)."""
    if day < today:
        return Problem("sessions_error_date_past", {"day": day, "today": today})
    return None


def validate_slot_times(start: time, end: time) -> Problem | None:
    if end <= start:
        return Problem("sessions_error_end_before_start", {"start": start, "end": end})
    return None


def slots_overlap(a: SlotView, b: SlotView) -> bool:
    """Half-open intervals: a slot ending at 12:00 and one starting at 12:00 do not overlap."""
    return a.start < b.end and b.start < a.end


def find_slot_overlap(new: SlotView, existing: Iterable[SlotView]) -> Problem | None:
    """The first existing slot (other than ``new`` itself) that overlaps ``new``."""
    for slot in sorted(existing, key=lambda s: (s.start, s.end, s.id)):
        if slot.id != new.id and slots_overlap(new, slot):
            return Problem(
                "sessions_error_slot_overlap",
                {"name": new.name, "other": slot.name, "other_start": slot.start, "other_end": slot.end},
            )
    return None


class PrefixedTranslate:
    """A translator that fills the command prefix ``{p}`` into every message (catalog texts name commands)."""

    def __init__(self, inner: Translate, prefix: str = "!") -> None:
        self.inner = inner
        self.prefix = prefix
        self.language = inner.language

    def __call__(self, key: str, /, **params: object) -> str:
        return self.inner(key, **{"p": self.prefix, **params})


def with_prefix(t: Translate, prefix: str) -> Translate:
    return PrefixedTranslate(t, prefix)


def render(outcome: Problem | SignupDecision, t: Translate) -> str:
    """The member-facing text of a problem or decision; text parameters are escaped here."""
    params = {name: esc(value) if isinstance(value, str) else value for name, value in outcome.params.items()}
    text = t(outcome.key, **params)
    if isinstance(outcome, SignupDecision) and outcome.withdraw_from_session_id is not None:
        text = t("sessions_signup_switched", other_session_id=outcome.withdraw_from_session_id) + "\n" + text
    if isinstance(outcome, Problem) and outcome.line is not None:
        text = t("sessions_import_at_line", line=outcome.line, message=text)
    return text

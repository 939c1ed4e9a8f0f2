"""Database side of the sessions feature: sign-up, withdrawal and capacity transactions.

Sign-ups, withdrawals, capacity changes and cancellations of one event run one at a time: an asyncio lock per
event (the bot is one process) is held across the read–decide–write transaction, so concurrent sign-ups from
many rooms never over-fill a session, never double-book a member within a slot, and keep the wait list in
the order the requests were taken. The decisions themselves are the pure functions of :mod:`.rules`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import Integer, Select, String, and_, bindparam, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased, raiseload

from bot.format import esc
from bot.i18n import Translate
from storage.sessions import (
    BarcampSession,
    SessionEvent,
    SessionHost,
    SessionRepeat,
    SessionSignup,
    SessionSlot,
)

from .rules import (
    EventStatus,
    SessionStatus,
    SignupDecision,
    SignupState,
    decide_signup,
    promote_after_withdrawal,
    promotions_for_capacity,
    render,
    renumber_waitlist,
)

if TYPE_CHECKING:
    from bot.app import App
from .queries import (
    forget_session,
    is_over,
    session_place,
    session_view,
    signup_view,
    signups_of,
    slot_end,
    translator_for,
    when_text,
    where_text,
)

log = logging.getLogger(__name__)


def event_lock(app: App, event_id: int) -> asyncio.Lock:
    """The lock that serialises sign-up changes of one event."""
    return app.locks.for_key("sessions-event", event_id)


# --- sign-up transactions ---------------------------------------------------------------------------------


@dataclass
class Change:
    """The outcome of a sign-up change, plus who was promoted and who needs a room invitation."""

    text: str = ""
    decision: SignupDecision | None = None
    promoted: list[str] = field(default_factory=list)
    invite: list[tuple[str, str]] = field(default_factory=list)  # (matrix room, user)
    unknown_session: bool = False


def _unknown_session(app: App, session_id: int, t: Translate) -> Change:
    """No such session (any more): a deleted one is forgotten, so its number is looked up afresh."""
    forget_session(app, session_id)
    return Change(text=t("sessions_error_unknown_session", session_id=session_id), unknown_session=True)


async def _renumber(db: AsyncSession, signups: Sequence[SessionSignup]) -> None:
    by_user = {s.user_id: s for s in signups}
    for view in renumber_waitlist(signup_view(s) for s in signups):
        row = by_user[view.user_id]
        if row.position != view.position:
            row.position = view.position


async def _promote(
    app: App, db: AsyncSession, row: BarcampSession, users: Sequence[str], change: Change
) -> None:
    """Confirm ``users`` (wait-listed) and prepare their direct messages in this transaction."""
    if not users:
        return
    event = await db.get(SessionEvent, row.event_id)
    slot = await db.get(SessionSlot, row.slot_id) if row.slot_id is not None else None
    now = datetime.now(UTC)
    remaining = await signups_of(db, row.id)
    for signup in remaining:
        if signup.user_id in users:
            signup.state = SignupState.CONFIRMED
            signup.position = None
            signup.confirmed_at = now
    await db.flush()
    await _renumber(db, remaining)
    for user_id in users:
        t = await translator_for(app, db, user_id)
        when = when_text(event, slot, t) if event is not None and slot is not None else ""
        text = t(
            "sessions_promoted", title=esc(row.title), session_id=row.id, when=when, where=where_text(row, t)
        )
        db.add(app.sender.prepare(text, to_user=user_id))
        change.promoted.append(user_id)
        if row.matrix_room_id:
            change.invite.append((row.matrix_room_id, user_id))


async def withdraw_in(
    app: App,
    db: AsyncSession,
    row: BarcampSession,
    user_id: str,
    change: Change,
    *,
    signups: Sequence[SessionSignup] | None = None,
) -> bool:
    """Delete the member's sign-up of ``row`` and promote the next in line. False if there was none.
    ``signups``: the session's sign-ups in order, if the caller read them already."""
    signups = list(signups) if signups is not None else await signups_of(db, row.id)
    signup = next((s for s in signups if s.user_id == user_id), None)
    if signup is None:
        return False
    was_confirmed = signup.state == SignupState.CONFIRMED
    await db.delete(signup)
    remaining = [s for s in signups if s is not signup]
    if was_confirmed and row.status == SessionStatus.SCHEDULED:
        promoted = promote_after_withdrawal([signup_view(s) for s in remaining], capacity=row.capacity)
        if promoted is not None:
            await db.flush()
            await _promote(app, db, row, [promoted], change)
            return True
    await _renumber(db, remaining)
    return True


async def _event_of(app: App, session_id: int) -> int | None:
    place = await session_place(app, session_id)
    return place[0] if place is not None else None


# The statements of every sign-up and withdrawal, built once (building them took as long as running them).
# Parameters: session_id, user_id.
_SESSION_ID = bindparam("session_id", type_=Integer)
_USER_ID = bindparam("user_id", type_=String)
_REPEATS = (
    select(SessionRepeat.session_id)
    .where(SessionRepeat.repeat_session_id == BarcampSession.id)
    .limit(1)
    .scalar_subquery()
)
# A sign-up reads everything it decides on in one statement (a round trip into the database thread is the
# largest cost of a command beside the homeserver, docs/performance.md): the session, its event, its round
# (None while unscheduled), the session it repeats (None for most), its hosts (one text, newline-separated:
# Matrix IDs contain no newline), and one row per sign-up — the session's own and the member's sign-up for
# another scheduled session of the same round (none while unscheduled: a NULL round equals nothing). A
# session without sign-ups gives one row with no sign-up. The row lock covers the session only: PostgreSQL
# refuses FOR UPDATE on the nullable side of an outer join; SQLite ignores it and serialises writers anyway.
_HOSTS = (
    select(func.aggregate_strings(SessionHost.user_id, "\n"))
    .where(SessionHost.session_id == BarcampSession.id)
    .scalar_subquery()
)
_OTHER = aliased(BarcampSession)
_SAME_ROUND = (
    select(_OTHER.id)
    .where(_OTHER.slot_id == BarcampSession.slot_id, _OTHER.status == SessionStatus.SCHEDULED)
    .correlate(BarcampSession)
)
SignupRead = Select[BarcampSession, SessionEvent, SessionSlot, int | None, str | None, SessionSignup]
SESSION_FOR_SIGNUP: SignupRead = (
    select(BarcampSession, SessionEvent, SessionSlot, _REPEATS, _HOSTS, SessionSignup)
    .join(SessionEvent, SessionEvent.id == BarcampSession.event_id)
    .outerjoin(SessionSlot, SessionSlot.id == BarcampSession.slot_id)
    .outerjoin(
        SessionSignup,
        or_(
            SessionSignup.session_id == BarcampSession.id,
            and_(SessionSignup.user_id == _USER_ID, SessionSignup.session_id.in_(_SAME_ROUND)),
        ),
    )
    .where(BarcampSession.id == _SESSION_ID)
    .options(raiseload(BarcampSession.hosts))
    .order_by(SessionSignup.id)
    .with_for_update(of=BarcampSession)
)
# The session and its sign-ups in one statement. The hosts are not needed there; raiseload makes sure no code
# path starts needing them unnoticed. Row lock as above.
SESSION_FOR_WITHDRAWAL: Select[BarcampSession, SessionSignup] = (
    select(BarcampSession, SessionSignup)
    .outerjoin(SessionSignup, SessionSignup.session_id == BarcampSession.id)
    .where(BarcampSession.id == _SESSION_ID)
    .options(raiseload(BarcampSession.hosts))
    .order_by(SessionSignup.id)
    .with_for_update(of=BarcampSession)
)


async def sign_up(app: App, session_id: int, user_id: str, *, switch: bool, t: Translate) -> Change:
    """Sign ``user_id`` up for a session (the caller checked that it exists). Serialised per event."""

    event_id = await _event_of(app, session_id)
    if event_id is None:
        return _unknown_session(app, session_id, t)
    change = Change()
    async with event_lock(app, event_id), app.db.session() as db:
        keys = {"session_id": session_id, "user_id": user_id}
        found_rows = (await db.execute(SESSION_FOR_SIGNUP, keys)).all()
        if not found_rows:  # deleted since its place was remembered
            return _unknown_session(app, session_id, t)
        row, event, slot, original, host_ids, _ = found_rows[0]
        hosts = tuple(sorted(host_ids.split("\n"))) if host_ids else ()
        found = [signup for *_, signup in found_rows if signup is not None]
        signups = [s for s in found if s.session_id == row.id]
        other_row = next((s for s in found if s.session_id != row.id), None)
        other = signup_view(other_row) if other_row is not None else None
        is_host = user_id in hosts
        status = EventStatus.OVER if is_over(event) else event.status
        round_over = slot is not None and slot_end(event, slot) <= datetime.now(UTC)
        decision = decide_signup(
            session_view(row, hosts=hosts),
            [signup_view(s) for s in signups],
            user_id,
            is_host=is_host,
            other_signup_in_same_slot=other,
            switch=switch,
            event_status=status,
            round_over=round_over,
        )
        change.decision = decision
        change.text = render(decision, t)
        if not decision.accepted:
            return change
        if decision.withdraw_from_session_id is not None:
            other_session = await db.get(BarcampSession, decision.withdraw_from_session_id)
            if other_session is not None:
                await withdraw_in(app, db, other_session, user_id, change)
        now = datetime.now(UTC)
        existing = next((s for s in signups if s.user_id == user_id), None)
        if existing is not None:
            existing.state = decision.state or SignupState.CONFIRMED
            existing.position = decision.position
            existing.confirmed_at = now if decision.state == SignupState.CONFIRMED else None
        else:
            db.add(
                SessionSignup(
                    session_id=row.id,
                    user_id=user_id,
                    state=decision.state,
                    position=decision.position,
                    created_at=now,
                    confirmed_at=now if decision.state == SignupState.CONFIRMED else None,
                )
            )
        if decision.state == SignupState.CONFIRMED and row.matrix_room_id:
            change.invite.append((row.matrix_room_id, user_id))
    app.sender.wake()
    await _after_signup(app, session_id, user_id, decision.state, t, original)
    return change


async def _after_signup(
    app: App, session_id: int, user_id: str, state: str | None, t: Translate, original: int | None
) -> None:
    """Repeats (their own module; never fail a sign-up): a longer wait list may call for a repeat of the
    session, and a seat in a repeat replaces the member's place on the original's wait list."""
    from .repeat_service import leave_original_waitlist, offer_repeat_if_crowded

    try:
        if state == SignupState.WAITLISTED:
            await offer_repeat_if_crowded(app, session_id)
        elif state == SignupState.CONFIRMED and original is not None:
            await leave_original_waitlist(app, original, user_id, t)
    except Exception:
        log.exception("could not handle the repeat of session %s after a sign-up", session_id)


async def withdraw(app: App, session_id: int, user_id: str, t: Translate) -> Change:
    """Withdraw ``user_id`` from a session and promote the next in line. Serialised per event."""
    event_id = await _event_of(app, session_id)
    if event_id is None:
        return _unknown_session(app, session_id, t)
    change = Change()
    async with event_lock(app, event_id), app.db.session() as db:
        found = (await db.execute(SESSION_FOR_WITHDRAWAL, {"session_id": session_id})).all()
        if not found:  # deleted since its place was remembered
            return _unknown_session(app, session_id, t)
        row = found[0][0]
        title = row.title
        signups = [signup for _, signup in found if signup is not None]
        was_signed_up = await withdraw_in(app, db, row, user_id, change, signups=signups)
    app.sender.wake()
    key = "sessions_withdrawn" if was_signed_up else "sessions_withdraw_not_signed_up"
    change.text = t(key, title=esc(title), session_id=session_id)
    return change


async def change_capacity(app: App, row_id: int, capacity: int, change: Change) -> tuple[int, int]:
    """Set the capacity and promote as many wait-listed members as now fit. Returns (confirmed, capacity)."""
    event_id = await _event_of(app, row_id)
    assert event_id is not None  # the caller checked that the session exists
    async with event_lock(app, event_id), app.db.session() as db:
        row = await db.scalar(select(BarcampSession).where(BarcampSession.id == row_id).with_for_update())
        assert row is not None
        row.capacity = capacity
        signups = await signups_of(db, row.id)
        if row.status == SessionStatus.SCHEDULED:
            users = promotions_for_capacity([signup_view(s) for s in signups], capacity)
            await _promote(app, db, row, users, change)
        confirmed = sum(1 for s in await signups_of(db, row.id) if s.state == SignupState.CONFIRMED)
    app.sender.wake()
    return confirmed, capacity


async def invite_all(app: App, invites: Iterable[tuple[str, str]]) -> None:
    for room_id, user_id in invites:
        try:
            await app.matrix.invite(room_id, user_id)
        except Exception as exc:  # an invitation is a courtesy; the sign-up stands
            log.warning("could not invite %s to session room %s: %s", user_id, room_id, exc)

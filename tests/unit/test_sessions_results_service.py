"""The database side of results and repeats on a real SQLite file: the end-of-session request (once, not
for stale jobs), adding results (hosts and moderators, all or nothing), the repeat offer (once, only with a
free later time slot), the repeat and the seats for the wait list."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.framework import CommandError
from commands.sessions import repeat_service, results_jobs, service
from commands.sessions.results_format import parse_result_answer
from commands.sessions.results_service import RESULTS_REQUEST_KIND, change_results
from commands.sessions.rules import SignupState
from storage.models import OutboxMessage
from storage.sessions import (
    BarcampSession,
    SessionHost,
    SessionRepeat,
    SessionResult,
    SessionSignup,
    SessionSlot,
)
from tests.unit.test_sessions_service import T, app, make_session, make_slot

__all__ = ["app"]  # the fixture, imported for the tests below

BERLIN = ZoneInfo("Europe/Berlin")
TOMORROW = date.today() + timedelta(days=1)


async def outbox(app: Any) -> list[OutboxMessage]:
    async with app.db.session() as db:
        return list((await db.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all())


def nobody(_: object) -> bool:
    return False


async def add_slot(app: Any, first_slot: int, number: int, start: time, end: time) -> int:
    async with app.db.session() as db:
        first = await db.get(SessionSlot, first_slot)
        assert first is not None
        slot = SessionSlot(
            event_id=first.event_id, number=number, name=f"Zeitfenster {number}", start=start, end=end
        )
        db.add(slot)
        await db.flush()
        return slot.id


# --- the request at a session's end -----------------------------------------------------------------------


async def test_the_host_is_asked_once_at_the_end_and_stale_jobs_do_nothing(app: Any) -> None:
    day = date(2026, 3, 2)
    slot = await make_slot(app, day=day, start=time(11, 15), end=time(12, 0))
    session_id = await make_session(app, capacity=10, slot_id=slot)
    end = datetime(2026, 3, 2, 12, 0, tzinfo=BERLIN).astimezone(UTC)

    await results_jobs.ask_for_results(app, session_id, scheduled_for=end - timedelta(minutes=30))
    assert await outbox(app) == []  # a job of an earlier, earlier-ending schedule
    await results_jobs.ask_for_results(app, session_id, scheduled_for=end)
    await results_jobs.ask_for_results(app, session_id, scheduled_for=end + timedelta(seconds=5))
    sent = await outbox(app)
    assert [(m.to_user, m.track_kind, m.track_ref) for m in sent] == [
        ("@host:x", RESULTS_REQUEST_KIND, session_id)
    ]
    assert "KI" in sent[0].content["content"]["body"]
    # Asked already: scheduling again (a move) does not ask twice.
    assert await results_jobs.schedule_results(app, session_id) is None


async def test_the_job_is_placed_at_the_slot_end_and_removed_on_cancel(app: Any) -> None:
    slot = await make_slot(app, day=TOMORROW, start=time(11, 15), end=time(12, 0))
    session_id = await make_session(app, capacity=10, slot_id=slot)
    due = await results_jobs.schedule_results(app, session_id)
    assert due == datetime.combine(TOMORROW, time(12, 0), tzinfo=BERLIN).astimezone(UTC)
    job_id = results_jobs.results_job_id(session_id)
    assert app.jobs.scheduled[job_id][1] == due
    results_jobs.cancel_results(app, session_id)
    assert job_id not in app.jobs.scheduled
    # Restart: the hook re-creates the job of a session not asked yet.
    await results_jobs.reschedule_results(app)
    assert app.jobs.scheduled[job_id][1] == due


# --- results ----------------------------------------------------------------------------------------------


async def test_hosts_and_moderators_add_results_all_or_nothing(app: Any) -> None:
    slot = await make_slot(app, day=TOMORROW, start=time(11, 15), end=time(12, 0))
    session_id = await make_session(app, capacity=10, slot_id=slot)
    answer = parse_result_answer("- Erstens\n- https://example.org/a")
    change = await change_results(app, session_id, answer, by="@host:x", is_moderator=nobody)
    assert [e.text for e in change.entries] == ["Erstens", "https://example.org/a"]

    with pytest.raises(CommandError) as refused:
        await change_results(app, session_id, answer, by="@guest:x", is_moderator=nobody)
    assert refused.value.key == "sessions_results_error_not_host"
    by_moderator = await change_results(
        app, session_id, parse_result_answer("Zweitens"), by="@mod:x", is_moderator=lambda _: True
    )
    assert len(by_moderator.entries) == 3

    with pytest.raises(CommandError) as full:
        await change_results(app, session_id, parse_result_answer("a\nb"), by="@host:x", is_moderator=nobody)
    assert full.value.key == "sessions_results_error_full"
    async with app.db.session() as db:
        texts = list((await db.scalars(select(SessionResult.text).order_by(SessionResult.id))).all())
    assert texts == ["Erstens", "https://example.org/a", "Zweitens"]  # "a" was not kept either


async def test_unscheduled_and_unknown_sessions_are_refused(app: Any) -> None:
    slot = await make_slot(app, day=TOMORROW, start=time(11, 15), end=time(12, 0))
    session_id = await make_session(app, capacity=10, slot_id=slot)
    async with app.db.session() as db:
        row = await db.get(BarcampSession, session_id)
        assert row is not None
        row.status, row.slot_id = "proposed", None
    with pytest.raises(CommandError) as unscheduled:
        await change_results(app, session_id, parse_result_answer("x"), by="@host:x", is_moderator=nobody)
    assert unscheduled.value.key == "sessions_results_error_unscheduled"
    with pytest.raises(CommandError) as unknown:
        await change_results(app, 999, parse_result_answer("x"), by="@host:x", is_moderator=nobody)
    assert unknown.value.key == "sessions_error_unknown_session"


# --- repeats ----------------------------------------------------------------------------------------------


async def crowded(app: Any, *, host_busy_later: bool = False) -> tuple[int, int]:
    """A session with 2 seats in time slot 1, a free slot 2; two confirmed, one wait-listed (50 %)."""
    slot = await make_slot(app, day=TOMORROW, start=time(10, 0), end=time(10, 45))
    later = await add_slot(app, slot, 2, time(11, 0), time(11, 45))
    session_id = await make_session(app, capacity=2, slot_id=slot, title="Beliebt")
    if host_busy_later:
        await make_session(app, capacity=5, slot_id=later, title="Auch von host")
    for user in ("@a:x", "@b:x", "@c:x"):
        await service.sign_up(app, session_id, user, switch=False, t=T)
    return session_id, later


async def test_the_offer_goes_out_once_when_the_wait_list_reaches_half(app: Any) -> None:
    session_id, _ = await crowded(app)
    offers = [m for m in await outbox(app) if m.track_kind == repeat_service.REPEAT_OFFER_KIND]
    assert [(m.to_user, m.track_ref) for m in offers] == [("@host:x", session_id)]
    await service.sign_up(app, session_id, "@d:x", switch=False, t=T)
    assert len([m for m in await outbox(app) if m.track_kind == repeat_service.REPEAT_OFFER_KIND]) == 1


async def test_no_offer_without_a_free_later_slot(app: Any) -> None:
    session_id, _ = await crowded(app, host_busy_later=True)
    assert not [m for m in await outbox(app) if m.track_kind == repeat_service.REPEAT_OFFER_KIND]
    async with app.db.session() as db:
        assert await db.get(SessionRepeat, session_id) is None
    with pytest.raises(CommandError) as refused:
        await repeat_service.repeat_session(app, session_id, "", by="@host:x", is_moderator=nobody, t=T)
    assert refused.value.key == "sessions_repeat_error_no_slot"


async def test_the_repeat_offers_seats_in_wait_list_order_and_a_seat_replaces_the_wait_list(app: Any) -> None:
    session_id, later = await crowded(app)
    await service.sign_up(app, session_id, "@d:x", switch=False, t=T)  # second in line
    with pytest.raises(CommandError) as wrong_slot:
        await repeat_service.repeat_session(app, session_id, "1", by="@host:x", is_moderator=nobody, t=T)
    assert wrong_slot.value.key == "sessions_repeat_error_slot"
    repeated = await repeat_service.repeat_session(
        app, session_id, "", by="@host:x", is_moderator=nobody, t=T
    )
    assert repeated.offered == 2
    async with app.db.session() as db:
        repeat = await db.get(BarcampSession, repeated.repeat_id)
        assert repeat is not None
        assert (repeat.slot_id, repeat.status, repeat.capacity) == (later, "scheduled", 2)
        hosts = (
            await db.scalars(select(SessionHost.user_id).where(SessionHost.session_id == repeat.id))
        ).all()
        assert list(hosts) == ["@host:x"]
    seats = [m.to_user for m in await outbox(app) if m.track_kind == repeat_service.REPEAT_SEAT_KIND]
    assert seats == ["@c:x", "@d:x"]
    assert results_jobs.results_job_id(repeated.repeat_id) in app.jobs.scheduled

    change = await service.sign_up(app, repeated.repeat_id, "@d:x", switch=False, t=T)
    assert change.decision is not None
    assert change.decision.state == SignupState.CONFIRMED
    async with app.db.session() as db:
        left = (await db.scalars(select(SessionSignup).where(SessionSignup.session_id == session_id))).all()
    assert {(s.user_id, s.state, s.position) for s in left} == {
        ("@a:x", "confirmed", None),
        ("@b:x", "confirmed", None),
        ("@c:x", "waitlisted", 1),
    }
    with pytest.raises(CommandError) as again:
        await repeat_service.repeat_session(app, session_id, "", by="@host:x", is_moderator=nobody, t=T)
    assert again.value.key == "sessions_repeat_error_already"

"""NExT-Kaffee decisions: the bi-weekly schedule, catching up a missed run, rhythm, pause and "paired less
often"."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from commands.coffee.rules import (
    due_run,
    is_paused,
    is_run_week,
    misses_after,
    parse_rhythm,
    rhythm_due,
    scheduled_runs,
    sits_out,
    week_index,
)
from commands.coffee.status import Answer

BERLIN = ZoneInfo("Europe/Berlin")
ANCHOR = date(2026, 1, 5)  # a Monday, week 0


@pytest.mark.parametrize(
    ("text", "weeks"),
    [
        ("alle 2 Wochen", 2),
        ("alle 4 wochen", 4),
        ("every 2 weeks", 2),
        ("4", 4),
        ("monatlich", 4),
        ("biweekly", 2),
        ("alle 3 Wochen", None),
        ("jede Woche", None),
        ("", None),
    ],
)
def test_rhythm_words(text: str, weeks: int | None) -> None:
    assert parse_rhythm(text) == weeks


def test_run_weeks_alternate_from_the_anchor_also_across_a_53_week_iso_year() -> None:
    assert is_run_week(date(2026, 1, 5), 2, ANCHOR)
    assert is_run_week(date(2026, 1, 11), 2, ANCHOR)  # Sunday of the same week
    assert not is_run_week(date(2026, 1, 12), 2, ANCHOR)
    assert is_run_week(date(2026, 1, 19), 2, ANCHOR)
    # 2026 has 53 ISO weeks: week 53 and week 1 of 2027 are both odd, yet runs still alternate.
    mondays = [date(2026, 12, 21) + timedelta(weeks=n) for n in range(4)]
    assert [day.isocalendar().week for day in mondays] == [52, 53, 1, 2]  # ISO parity would repeat
    assert [is_run_week(day, 2, ANCHOR) for day in mondays] == [True, False, True, False]
    assert week_index(date(2025, 12, 29), ANCHOR) == -1
    assert is_run_week(date(2025, 12, 22), 2, ANCHOR)  # before the anchor the count goes on


def test_default_schedule_is_every_second_monday_at_nine_in_berlin() -> None:
    start = datetime(2026, 3, 1, tzinfo=BERLIN)
    runs = scheduled_runs("0 9 * * mon", BERLIN, 2, ANCHOR, start, start + timedelta(weeks=6))
    local = [run.astimezone(BERLIN) for run in runs]
    assert [run.date() for run in local] == [date(2026, 3, 2), date(2026, 3, 16), date(2026, 3, 30)]
    assert all((run.hour, run.minute) == (9, 0) for run in local)  # also after the switch to summer time
    assert all(b - a >= timedelta(days=13) for a, b in itertools.pairwise(runs))


def test_every_week_and_every_fourth_week() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    weekly = scheduled_runs("0 9 * * mon", BERLIN, 1, ANCHOR, start, start + timedelta(weeks=4))
    assert len(weekly) == 4
    monthly = scheduled_runs("0 9 * * mon", BERLIN, 4, ANCHOR, start, start + timedelta(weeks=12))
    assert [run.astimezone(BERLIN).date() for run in monthly] == [
        date(2026, 1, 5),
        date(2026, 2, 2),
        date(2026, 3, 2),
    ]


def test_missed_run_is_caught_up_within_the_window_only() -> None:
    run = datetime(2026, 3, 2, 9, tzinfo=BERLIN)
    schedule = "0 9 * * mon"
    assert due_run(schedule, BERLIN, 2, ANCHOR, run + timedelta(days=1), timedelta(days=3)) == run
    assert due_run(schedule, BERLIN, 2, ANCHOR, run + timedelta(days=4), timedelta(days=3)) is None
    assert due_run(schedule, BERLIN, 2, ANCHOR, run - timedelta(minutes=1), timedelta(days=3)) is None
    # In an off week there is nothing to catch up.
    assert due_run(schedule, BERLIN, 2, ANCHOR, run + timedelta(days=8), timedelta(days=3)) is None


def test_rhythm_two_weeks_is_every_bi_weekly_run_and_four_weeks_every_other() -> None:
    first = datetime(2026, 3, 2, 8, tzinfo=UTC)
    assert rhythm_due(2, None, first)
    assert rhythm_due(2, first, first + timedelta(weeks=2))
    assert rhythm_due(2, first, first + timedelta(weeks=2) - timedelta(days=1))  # a run that was a day late
    assert not rhythm_due(2, first, first + timedelta(weeks=1))
    assert not rhythm_due(4, first, first + timedelta(weeks=2))
    assert rhythm_due(4, first, first + timedelta(weeks=4))


def test_pause_with_and_without_date() -> None:
    today = date(2026, 3, 2)
    assert is_paused(True, None, today)
    assert not is_paused(False, None, today)
    assert is_paused(False, today, today)  # "bis heute" includes today
    assert not is_paused(False, today - timedelta(days=1), today)
    assert not is_paused(True, today - timedelta(days=1), today)  # a date that passed ends the pause


def test_paired_less_often_after_two_follow_ups_without_a_meeting() -> None:
    misses = 0
    for answer in (None, Answer.NO):
        misses = misses_after(misses, answer)
    assert misses == 2
    # Every other due run: sit out, then take part, then sit out …
    skipped = False
    pattern = []
    for _ in range(4):
        out = sits_out(misses, skipped)
        pattern.append(out)
        skipped = out
    assert pattern == [True, False, True, False]
    assert not sits_out(1, False)
    assert misses_after(misses, Answer.LATER) == 3
    assert misses_after(misses, Answer.YES) == 0

"""Unit tests for the digest schedule (cron semantics) and month parsing (commands/digest/timing.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from commands.digest.config import DigestConfig
from commands.digest.timing import (
    cron_fields,
    due_run,
    first_run_in_month,
    next_run,
    parse_month,
    trigger_for,
)

BERLIN = ZoneInfo("Europe/Berlin")


def fire_times(schedule: str, start: datetime, count: int) -> list[datetime]:
    trigger = trigger_for(schedule, BERLIN)
    times: list[datetime] = []
    previous = None
    now = start
    for _ in range(count):
        upcoming = trigger.get_next_fire_time(previous, now)
        assert upcoming is not None
        times.append(upcoming)
        previous = now = upcoming
    return times


FIRST_MONDAYS_2026 = [
    date(2026, 1, 5),
    date(2026, 2, 2),
    date(2026, 3, 2),
    date(2026, 4, 6),
    date(2026, 5, 4),
    date(2026, 6, 1),
    date(2026, 7, 6),
    date(2026, 8, 3),
    date(2026, 9, 7),
    date(2026, 10, 5),
    date(2026, 11, 2),
    date(2026, 12, 7),
]


@pytest.mark.parametrize("schedule", ["0 9 1-7 * mon", "0 9 1-7 * 1", "0 9 1st_mon * *", "0 9 1-7 * MON"])
def test_default_and_equivalent_schedules_fire_on_the_first_monday_at_nine_berlin(schedule: str) -> None:
    times = fire_times(schedule, datetime(2026, 1, 1, tzinfo=BERLIN), 12)
    assert [t.date() for t in times] == FIRST_MONDAYS_2026
    assert all((t.hour, t.minute, t.tzinfo) == (9, 0, BERLIN) for t in times)
    # 09:00 Berlin is 08:00 UTC in winter and 07:00 UTC in summer.
    assert times[0].astimezone(UTC).hour == 8
    assert times[6].astimezone(UTC).hour == 7


def test_config_default_is_the_first_monday() -> None:
    times = fire_times(DigestConfig().schedule, datetime(2026, 1, 1, tzinfo=BERLIN), 12)
    assert [t.date() for t in times] == FIRST_MONDAYS_2026


def test_numeric_weekdays_count_like_crontab() -> None:
    # APScheduler 3 itself would read 0 as Monday; here 0 and 7 are Sunday, 1 is Monday.
    assert cron_fields("0 9 * * 0")["day_of_week"] == "sun"
    assert cron_fields("0 9 * * 7")["day_of_week"] == "sun"
    assert cron_fields("0 9 * * 1-5")["day_of_week"] == "mon-fri"
    assert cron_fields("0 9 * * 0-2")["day_of_week"] == "sun,mon-tue"
    assert cron_fields("0 9 * * 1,3,5")["day_of_week"] == "mon,wed,fri"
    assert cron_fields("0 9 * * 0-7")["day_of_week"] == "*"
    sundays = fire_times("0 9 * * 0", datetime(2026, 3, 1, tzinfo=BERLIN), 3)
    assert {t.weekday() for t in sundays} == {6}


def test_six_fields_have_seconds_first() -> None:
    fields = cron_fields("30 15 10 3 * *")
    assert fields == {
        "second": "30",
        "minute": "15",
        "hour": "10",
        "day": "3",
        "month": "*",
        "day_of_week": "*",
    }


def test_last_weekday_of_month() -> None:
    times = fire_times("0 18 last_fri * *", datetime(2026, 1, 1, tzinfo=BERLIN), 2)
    assert [t.date() for t in times] == [date(2026, 1, 30), date(2026, 2, 27)]


@pytest.mark.parametrize(
    "schedule", ["0 9 * *", "0 25 * * *", "0 9 1-7 * funday", "a b c d e f g", "0 9 * * 3-1"]
)
def test_invalid_schedules_are_refused(schedule: str) -> None:
    with pytest.raises(ValueError, match=r"."):
        cron_fields(schedule)


def test_invalid_schedule_is_a_config_error() -> None:
    with pytest.raises(ValueError, match="schedule"):
        DigestConfig(schedule="0 9 * *")
    with pytest.raises(ValueError, match="room ID"):
        DigestConfig(rooms=["#community:example.org"])


def test_due_run_is_the_first_run_of_the_month_once_it_has_passed() -> None:
    schedule = "0 9 1-7 * mon"
    before = datetime(2026, 12, 7, 8, 59, tzinfo=BERLIN)
    at = datetime(2026, 12, 7, 9, 0, tzinfo=BERLIN)
    later = datetime(2026, 12, 20, 12, 0, tzinfo=BERLIN)
    assert due_run(schedule, BERLIN, before) is None
    assert due_run(schedule, BERLIN, at) == at
    assert due_run(schedule, BERLIN, later) == at
    assert due_run(schedule, BERLIN, datetime(2026, 12, 1, tzinfo=BERLIN)) is None


def test_first_run_in_month_and_next_run() -> None:
    assert first_run_in_month("0 9 1-7 * mon", BERLIN, date(2026, 2, 14)) == datetime(
        2026, 2, 2, 9, tzinfo=BERLIN
    )
    # A schedule that has no run in a month (only in March).
    assert first_run_in_month("0 9 1 3 *", BERLIN, date(2026, 2, 14)) is None
    assert next_run("0 9 1-7 * mon", BERLIN, datetime(2026, 12, 8, tzinfo=BERLIN)) == datetime(
        2027, 1, 4, 9, tzinfo=BERLIN
    )


TODAY = date(2026, 2, 14)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11", date(2026, 11, 1)),
        ("2025-3", date(2025, 3, 1)),
        ("11/2026", date(2026, 11, 1)),
        ("11.2026", date(2026, 11, 1)),
        ("3/25", date(2025, 3, 1)),
        ("November 2025", date(2025, 11, 1)),
        ("november, 2025", date(2025, 11, 1)),
        ("Nov", date(2025, 11, 1)),
        ("Januar", date(2026, 1, 1)),
        ("Februar", date(2026, 2, 1)),
        ("März", date(2025, 3, 1)),
        ("maerz 2026", date(2026, 3, 1)),
        ("Dec", date(2025, 12, 1)),
        ("12", date(2025, 12, 1)),
        ("2.", date(2026, 2, 1)),
        ("letzter", date(2026, 1, 1)),
        ("letzter Monat", date(2026, 1, 1)),
        ("last month", date(2026, 1, 1)),
        ("diesen Monat", date(2026, 2, 1)),
        ("next", date(2026, 3, 1)),
    ],
)
def test_parse_month(text: str, expected: date) -> None:
    assert parse_month(text, TODAY) == expected


@pytest.mark.parametrize("text", ["", "Brumaire", "13", "2026-13", "0/2026", "Nov 26 extra", "morgen"])
def test_parse_month_refuses_nonsense(text: str) -> None:
    assert parse_month(text, TODAY) is None


def test_parse_month_across_the_year_boundary() -> None:
    assert parse_month("Dezember", date(2027, 1, 3)) == date(2026, 12, 1)
    assert parse_month("letzter", date(2027, 1, 3)) == date(2026, 12, 1)
    assert parse_month("nächster", date(2026, 12, 3)) == date(2027, 1, 1)

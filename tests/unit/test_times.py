"""Natural-language times: exact expected datetimes for pinned "now" values."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from apscheduler.triggers.cron import CronTrigger
from hypothesis import given, settings
from hypothesis import strategies as st

from timephrases import (
    Recurrence,
    describe_recurrence,
    format_date,
    format_datetime,
    format_time,
    format_when,
    parse_clock,
    parse_date,
    parse_duration,
    parse_recurring,
    parse_when,
    split_time_and_text,
)

BERLIN = ZoneInfo("Europe/Berlin")
UTC = ZoneInfo("UTC")
# A Sunday in winter time.
NOW = datetime(2026, 11, 22, 10, 0, tzinfo=BERLIN)
# Saturday before the change back to winter time (Sunday 2026-10-25, 03:00 CEST → 02:00 CET).
BEFORE_DST_END = datetime(2026, 10, 24, 10, 0, tzinfo=BERLIN)


def at(year: int, month: int, day: int, hour: int = 9, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BERLIN)


PHRASES: list[tuple[str, datetime]] = [
    # German, relative
    ("in 10 Minuten", at(2026, 11, 22, 10, 10)),
    ("in 2 Stunden", at(2026, 11, 22, 12, 0)),
    ("in 1 Stunde 30 Minuten", at(2026, 11, 22, 11, 30)),
    ("in 1 Stunde und 30 Minuten", at(2026, 11, 22, 11, 30)),
    ("in einer halben Stunde", at(2026, 11, 22, 10, 30)),
    ("in zwei Stunden", at(2026, 11, 22, 12, 0)),
    ("in 3 Tagen", at(2026, 11, 25, 10, 0)),
    ("in 2 Wochen um 10 Uhr", at(2026, 12, 6, 10, 0)),
    ("in 1h30", at(2026, 11, 22, 11, 30)),
    ("in 1 Monat", at(2026, 12, 22, 10, 0)),
    # German, days and clock times
    ("morgen 9 Uhr", at(2026, 11, 23, 9, 0)),
    ("morgen um 9 Uhr 30", at(2026, 11, 23, 9, 30)),
    ("Morgen, 9:30", at(2026, 11, 23, 9, 30)),
    ("heute 18 Uhr", at(2026, 11, 22, 18, 0)),
    ("9 Uhr", at(2026, 11, 23, 9, 0)),
    ("um 9 Uhr", at(2026, 11, 23, 9, 0)),
    ("um 11", at(2026, 11, 22, 11, 0)),
    ("Montag 9 Uhr", at(2026, 11, 23, 9, 0)),
    ("am Montag um 9:00", at(2026, 11, 23, 9, 0)),
    ("nächsten Montag 9:00", at(2026, 11, 23, 9, 0)),
    ("übernächsten Montag 9:00", at(2026, 11, 30, 9, 0)),
    ("kommenden Freitag 14:30", at(2026, 11, 27, 14, 30)),
    ("am kommenden Freitag um 14:30", at(2026, 11, 27, 14, 30)),
    ("Sonntag 9 Uhr", at(2026, 11, 29, 9, 0)),
    ("übermorgen 10:30", at(2026, 11, 24, 10, 30)),
    ("15.12. 14:00", at(2026, 12, 15, 14, 0)),
    ("15.12.2027 14:00", at(2027, 12, 15, 14, 0)),
    ("15.12.27 14:00", at(2027, 12, 15, 14, 0)),
    ("1.12. 9 Uhr", at(2026, 12, 1, 9, 0)),
    ("am 1.12. um 9 Uhr", at(2026, 12, 1, 9, 0)),
    ("3.2. 8 Uhr", at(2027, 2, 3, 8, 0)),
    ("15. Dezember 14 Uhr", at(2026, 12, 15, 14, 0)),
    ("morgen", at(2026, 11, 23, 9, 0)),
    ("15.12.", at(2026, 12, 15, 9, 0)),
    ("Freitag", at(2026, 11, 27, 9, 0)),
    ("morgen früh", at(2026, 11, 23, 8, 0)),
    ("heute Abend", at(2026, 11, 22, 19, 0)),
    ("morgen Abend um 8", at(2026, 11, 23, 20, 0)),
    ("morgen 8 Uhr abends", at(2026, 11, 23, 20, 0)),
    ("halb 10", at(2026, 11, 23, 9, 30)),
    ("morgen um halb 3", at(2026, 11, 23, 2, 30)),
    ("viertel nach 10", at(2026, 11, 22, 10, 15)),
    ("Mo, 23.11.2026, 09:30", at(2026, 11, 23, 9, 30)),
    ("nächste Woche", at(2026, 11, 29, 10, 0)),
    # English
    ("tomorrow 9am", at(2026, 11, 23, 9, 0)),
    ("tomorrow at 9:30 pm", at(2026, 11, 23, 21, 30)),
    ("in 10 minutes", at(2026, 11, 22, 10, 10)),
    ("in an hour", at(2026, 11, 22, 11, 0)),
    ("in half an hour", at(2026, 11, 22, 10, 30)),
    ("in 2 days", at(2026, 11, 24, 10, 0)),
    ("next monday 9:00", at(2026, 11, 23, 9, 0)),
    ("monday 9:00", at(2026, 11, 23, 9, 0)),
    ("on friday at 2pm", at(2026, 11, 27, 14, 0)),
    ("at 18:00", at(2026, 11, 22, 18, 0)),
    ("at 9", at(2026, 11, 23, 9, 0)),
    ("9am", at(2026, 11, 23, 9, 0)),
    ("12am", at(2026, 11, 23, 0, 0)),
    ("noon", at(2026, 11, 22, 12, 0)),
    ("on 15.12. at 14:00", at(2026, 12, 15, 14, 0)),
    ("December 15th at 3pm", at(2026, 12, 15, 15, 0)),
    ("on the 15th of December at 3pm", at(2026, 12, 15, 15, 0)),
    ("15/12 14:00", at(2026, 12, 15, 14, 0)),
    ("2027-05-15 10:00", at(2027, 5, 15, 10, 0)),
    ("2027-05-15T10:00", at(2027, 5, 15, 10, 0)),
    ("the day after tomorrow 10:30", at(2026, 11, 24, 10, 30)),
    ("tonight", at(2026, 11, 22, 19, 0)),
    ("tomorrow morning", at(2026, 11, 23, 8, 0)),
    ("Mon, 23 Nov 2026, 09:30", at(2026, 11, 23, 9, 30)),
    ("next week", at(2026, 11, 29, 10, 0)),
    # an explicit past date is returned so the caller can refuse it
    ("1.1.2020 10:00", at(2020, 1, 1, 10, 0)),
    ("heute 8 Uhr", at(2026, 11, 22, 8, 0)),
]


@pytest.mark.parametrize(("phrase", "expected"), PHRASES)
def test_parse_when_exact(phrase: str, expected: datetime) -> None:
    result = parse_when(phrase, now=NOW, tz=BERLIN)
    assert result == expected
    assert result is not None
    assert result.tzinfo is BERLIN
    assert result.utcoffset() == expected.utcoffset()


def test_phrase_table_is_large_enough() -> None:
    assert len(PHRASES) >= 40


DST_PHRASES: list[tuple[str, datetime]] = [
    ("morgen 9 Uhr", at(2026, 10, 25, 9, 0)),  # CET already, +01:00
    ("übermorgen 9 Uhr", at(2026, 10, 26, 9, 0)),
    ("Montag 9 Uhr", at(2026, 10, 26, 9, 0)),
    ("in 1 Tag", at(2026, 10, 25, 10, 0)),  # calendar day: same wall-clock time
    ("in 24 Stunden", at(2026, 10, 25, 9, 0)),  # elapsed time: one hour earlier on the wall clock
    ("in 2 Stunden", at(2026, 10, 24, 12, 0)),
    ("morgen 2:30", datetime(2026, 10, 25, 2, 30, tzinfo=BERLIN, fold=0)),
]


@pytest.mark.parametrize(("phrase", "expected"), DST_PHRASES)
def test_parse_when_across_dst_end(phrase: str, expected: datetime) -> None:
    result = parse_when(phrase, now=BEFORE_DST_END, tz=BERLIN)
    assert result == expected
    assert result is not None
    assert result.utcoffset() == expected.utcoffset()


def test_dst_offsets_are_the_expected_ones() -> None:
    morning = parse_when("morgen 9 Uhr", now=BEFORE_DST_END, tz=BERLIN)
    assert morning is not None
    assert morning.utcoffset() == timedelta(hours=1)
    # 23 hours on the wall clock plus the repeated hour (same-tzinfo subtraction would ignore offsets)
    utc = ZoneInfo("UTC")
    assert morning.astimezone(utc) - BEFORE_DST_END.astimezone(utc) == timedelta(hours=24)
    early = parse_when("morgen 2:30", now=BEFORE_DST_END, tz=BERLIN)
    assert early is not None
    assert early.utcoffset() == timedelta(hours=2)


def test_time_skipped_by_dst_start_moves_forward() -> None:
    saturday = datetime(2027, 3, 27, 10, 0, tzinfo=BERLIN)
    assert parse_when("morgen 2:30", now=saturday, tz=BERLIN) == at(2027, 3, 28, 3, 30)


def test_now_in_another_zone_is_converted() -> None:
    utc_now = NOW.astimezone(ZoneInfo("UTC"))
    result = parse_when("morgen 9 Uhr", now=utc_now, tz=BERLIN)
    assert result == at(2026, 11, 23, 9, 0)
    assert result is not None
    assert result.tzinfo is BERLIN


def test_weekday_today_means_next_week_and_this_means_today() -> None:
    assert parse_when("Sonntag 18 Uhr", now=NOW, tz=BERLIN) == at(2026, 11, 29, 18, 0)
    assert parse_when("diesen Sonntag 18 Uhr", now=NOW, tz=BERLIN) == at(2026, 11, 22, 18, 0)


def test_date_without_year_that_passed_today_means_next_year() -> None:
    assert parse_when("22.11. 9:00", now=NOW, tz=BERLIN) == at(2027, 11, 22, 9, 0)
    assert parse_when("22.11. 11:00", now=NOW, tz=BERLIN) == at(2026, 11, 22, 11, 0)


JUNK = [
    "",
    "   ",
    "Kaffee",
    "Bericht abgeben",
    "an",
    "Mai",
    "morgen 25:00",
    "morgen 9:61",
    "31.2.",
    "31.02.2027 10:00",
    "in 0 Minuten",
    "in Minuten",
    "jetzt",
    "gestern",
    "13pm",
    "Montag-Termin",
    "Mo, 24.11.2026, 09:30",  # that date is a Tuesday
    "morgen Montag",
]


@pytest.mark.parametrize("phrase", JUNK)
def test_parse_when_rejects_junk(phrase: str) -> None:
    assert parse_when(phrase, now=NOW, tz=BERLIN) is None


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=40))
def test_parse_when_never_raises_and_is_aware(text: str) -> None:
    result = parse_when(text, now=NOW, tz=BERLIN)
    if result is not None:
        assert result.tzinfo is BERLIN


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=1, max_value=2000))  # crosses the DST change after 17 h
def test_minutes_are_elapsed_time(minutes: int) -> None:
    result = parse_when(f"in {minutes} Minuten", now=BEFORE_DST_END, tz=BERLIN)
    assert result is not None
    assert result.astimezone(UTC) - BEFORE_DST_END.astimezone(UTC) == timedelta(minutes=minutes)


SPLITS: list[tuple[str, str, datetime, str]] = [
    ("de", "mich in 2 Minuten an den Kaffee", at(2026, 11, 22, 10, 2), "den Kaffee"),
    ("de", "morgen 9 Uhr Bericht abgeben", at(2026, 11, 23, 9, 0), "Bericht abgeben"),
    ("en", "me tomorrow 9am to call Anna", at(2026, 11, 23, 9, 0), "call Anna"),
    ("de", "in 10 Minuten", at(2026, 11, 22, 10, 10), ""),
    ("de", "morgen 9 Uhr Montag-Termin vorbereiten", at(2026, 11, 23, 9, 0), "Montag-Termin vorbereiten"),
    ("de", "morgen 3 Bücher kaufen", at(2026, 11, 23, 9, 0), "3 Bücher kaufen"),
    ("de", "mich morgen um 9: Bericht", at(2026, 11, 23, 9, 0), "Bericht"),
    ("de", "mich daran, dass morgen 9 Uhr", at(2026, 11, 23, 9, 0), ""),
    ("de", "mich morgen daran, dass Anna Geburtstag hat", at(2026, 11, 23, 9, 0), "Anna Geburtstag hat"),
    ("de", "heute Abend an das Treffen", at(2026, 11, 22, 19, 0), "das Treffen"),
    ("de", "am Montag um 9:00 an die Teamrunde", at(2026, 11, 23, 9, 0), "die Teamrunde"),
    ("de", "15.12. 14:00 Weihnachtsfeier", at(2026, 12, 15, 14, 0), "Weihnachtsfeier"),
    ("de", "mich nächste Woche an die Steuer", at(2026, 11, 29, 10, 0), "die Steuer"),
    ("de", "mich an den Kaffee in 10 Minuten", at(2026, 11, 22, 10, 10), "den Kaffee"),
    ("en", "me in 10 minutes about the tea", at(2026, 11, 22, 10, 10), "the tea"),
    ("en", "me to call Anna tomorrow at 9", at(2026, 11, 23, 9, 0), "call Anna"),
    ("en", "me tomorrow 9am an email to Bob", at(2026, 11, 23, 9, 0), "an email to Bob"),
    ("en", "me next monday 9:00 that the report is due", at(2026, 11, 23, 9, 0), "the report is due"),
]


@pytest.mark.parametrize(("language", "words", "expected", "text"), SPLITS)
def test_split_time_and_text(language: str, words: str, expected: datetime, text: str) -> None:
    assert split_time_and_text(words, now=NOW, tz=BERLIN, language=language) == (expected, text)


@pytest.mark.parametrize("words", ["", "mich an den Kaffee", "Bericht für Montag", "me to call Anna"])
def test_split_without_time(words: str) -> None:
    assert split_time_and_text(words, now=NOW, tz=BERLIN, language="de") is None


EVERY_DAY_8 = "every day, 08:00"
RECURRING: list[tuple[str, dict[str, str], str, str, str, str]] = [
    (
        "jeden Montag 9 Uhr Teamrunde",
        {"day_of_week": "mon", "hour": "9", "minute": "0"},
        "weekly",
        "Teamrunde",
        "jeden Montag, 09:00",
        "every Monday, 09:00",
    ),
    (
        "jeden Montag um 9:30 an die Teamrunde",
        {"day_of_week": "mon", "hour": "9", "minute": "30"},
        "weekly",
        "die Teamrunde",
        "jeden Montag, 09:30",
        "every Monday, 09:30",
    ),
    (
        "every monday 9:00 to write the standup notes",
        {"day_of_week": "mon", "hour": "9", "minute": "0"},
        "weekly",
        "write the standup notes",
        "jeden Montag, 09:00",
        "every Monday, 09:00",
    ),
    (
        "täglich 8 Uhr Wasser trinken",
        {"hour": "8", "minute": "0"},
        "daily",
        "Wasser trinken",
        "täglich, 08:00",
        "every day, 08:00",
    ),
    ("jeden Tag 8:00 Wasser", {"hour": "8", "minute": "0"}, "daily", "Wasser", "täglich, 08:00", EVERY_DAY_8),
    ("every day at 8am water", {"hour": "8", "minute": "0"}, "daily", "water", "täglich, 08:00", EVERY_DAY_8),
    (
        "werktags 9 Uhr Stand-up",
        {"day_of_week": "mon-fri", "hour": "9", "minute": "0"},
        "weekdays",
        "Stand-up",
        "werktags, 09:00",
        "on weekdays, 09:00",
    ),
    (
        "on weekdays 9:00 standup",
        {"day_of_week": "mon-fri", "hour": "9", "minute": "0"},
        "weekdays",
        "standup",
        "werktags, 09:00",
        "on weekdays, 09:00",
    ),
    (
        "jeden ersten Montag im Monat 9 Uhr Stammtisch",
        {"day": "1st mon", "hour": "9", "minute": "0"},
        "monthly_weekday",
        "Stammtisch",
        "jeden ersten Montag im Monat, 09:00",
        "every first Monday of the month, 09:00",
    ),
    (
        "every first monday of the month 9:00 meetup",
        {"day": "1st mon", "hour": "9", "minute": "0"},
        "monthly_weekday",
        "meetup",
        "jeden ersten Montag im Monat, 09:00",
        "every first Monday of the month, 09:00",
    ),
    (
        "am letzten Freitag jedes Monats um 16 Uhr Feierabend",
        {"day": "last fri", "hour": "16", "minute": "0"},
        "monthly_weekday",
        "Feierabend",
        "jeden letzten Freitag im Monat, 16:00",
        "every last Friday of the month, 16:00",
    ),
    (
        "jeden Montag und Donnerstag um 17 Uhr Sport",
        {"day_of_week": "mon,thu", "hour": "17", "minute": "0"},
        "weekly",
        "Sport",
        "jeden Montag und Donnerstag, 17:00",
        "every Monday and Thursday, 17:00",
    ),
    (
        "mich montags 7:45 an den Müll",
        {"day_of_week": "mon", "hour": "7", "minute": "45"},
        "weekly",
        "den Müll",
        "jeden Montag, 07:45",
        "every Monday, 07:45",
    ),
    (
        "jeden 15. im Monat 10 Uhr Miete",
        {"day": "15", "hour": "10", "minute": "0"},
        "monthly_day",
        "Miete",
        "jeden 15. im Monat, 10:00",
        "every 15th of the month, 10:00",
    ),
    (
        "every 1st of the month at 10am rent",
        {"day": "1", "hour": "10", "minute": "0"},
        "monthly_day",
        "rent",
        "jeden 1. im Monat, 10:00",
        "every 1st of the month, 10:00",
    ),
    (
        "jeden Freitag Wochenbericht",
        {"day_of_week": "fri", "hour": "9", "minute": "0"},
        "weekly",
        "Wochenbericht",
        "jeden Freitag, 09:00",
        "every Friday, 09:00",
    ),
]


@pytest.mark.parametrize(("words", "cron", "kind", "text", "german", "english"), RECURRING)
def test_parse_recurring(
    words: str, cron: dict[str, str], kind: str, text: str, german: str, english: str
) -> None:
    language = "en" if words.startswith(("every", "on ")) else "de"
    parsed = parse_recurring(words, language=language)
    assert parsed == (Recurrence(cron=cron, kind=kind), text)
    assert describe_recurrence(parsed[0], "de") == german
    assert describe_recurrence(parsed[0], "en") == english


@pytest.mark.parametrize("words", ["morgen 9 Uhr Bericht", "jeden", "Montag 9 Uhr", "jeden Kaffee", ""])
def test_parse_recurring_rejects_one_off_and_junk(words: str) -> None:
    assert parse_recurring(words, language="de") is None


def test_recurrence_cron_works_with_apscheduler() -> None:
    first_monday = parse_recurring("jeden ersten Montag im Monat 9 Uhr x", language="de")
    assert first_monday is not None
    trigger = CronTrigger(**first_monday[0].cron, timezone=BERLIN)
    assert trigger.get_next_fire_time(None, NOW) == at(2026, 12, 7, 9, 0)
    weekdays = parse_recurring("werktags 9 Uhr x", language="de")
    assert weekdays is not None
    trigger = CronTrigger(**weekdays[0].cron, timezone=BERLIN)
    assert trigger.get_next_fire_time(None, NOW) == at(2026, 11, 23, 9, 0)
    # a weekly job keeps its wall-clock time across the DST change
    weekly = parse_recurring("jeden Sonntag 9 Uhr x", language="de")
    assert weekly is not None
    trigger = CronTrigger(**weekly[0].cron, timezone=BERLIN)
    assert trigger.get_next_fire_time(None, BEFORE_DST_END) == at(2026, 10, 25, 9, 0)


DURATIONS: list[tuple[str, timedelta]] = [
    ("7m", timedelta(minutes=7)),
    ("7min", timedelta(minutes=7)),
    ("30 Minuten", timedelta(minutes=30)),
    ("2h", timedelta(hours=2)),
    ("1h30m", timedelta(minutes=90)),
    ("1h 30m", timedelta(minutes=90)),
    ("90s", timedelta(seconds=90)),
    ("1 Stunde", timedelta(hours=1)),
    ("2 hours", timedelta(hours=2)),
    ("1,5 Stunden", timedelta(minutes=90)),
    ("eine halbe Stunde", timedelta(minutes=30)),
    ("1 Stunde und 15 Minuten", timedelta(minutes=75)),
    ("2 Tage", timedelta(days=2)),
]


@pytest.mark.parametrize(("text", "expected"), DURATIONS)
def test_parse_duration(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "abc", "0m", "-5m", "5", "0 Minuten", "7 Äpfel", "1 Monat", "m"])
def test_parse_duration_rejects(text: str) -> None:
    assert parse_duration(text) is None


DATES: list[tuple[str, date]] = [
    ("15.05.2027", date(2027, 5, 15)),
    ("15.5.27", date(2027, 5, 15)),
    ("15.05.", date(2027, 5, 15)),
    ("22.11.", date(2026, 11, 22)),
    ("1.12.", date(2026, 12, 1)),
    ("2027-05-15", date(2027, 5, 15)),
    ("morgen", date(2026, 11, 23)),
    ("tomorrow", date(2026, 11, 23)),
    ("heute", date(2026, 11, 22)),
    ("Montag", date(2026, 11, 23)),
    ("Sonntag", date(2026, 11, 29)),
    ("29.2.", date(2028, 2, 29)),
    ("3. März 2027", date(2027, 3, 3)),
]


@pytest.mark.parametrize(("text", "expected"), DATES)
def test_parse_date(text: str, expected: date) -> None:
    assert parse_date(text, now=NOW, tz=BERLIN) == expected


@pytest.mark.parametrize("text", ["", "Kaffee", "31.02.2027", "32.1.", "15.13.", "morgen 9 Uhr"])
def test_parse_date_rejects(text: str) -> None:
    assert parse_date(text, now=NOW, tz=BERLIN) is None


CLOCKS: list[tuple[str, time]] = [
    ("09:30", time(9, 30)),
    ("9:30", time(9, 30)),
    ("9 Uhr", time(9, 0)),
    ("9 Uhr 30", time(9, 30)),
    ("9.30", time(9, 30)),
    ("9am", time(9, 0)),
    ("9 pm", time(21, 0)),
    ("12am", time(0, 0)),
    ("12pm", time(12, 0)),
    ("14h", time(14, 0)),
    ("14h30", time(14, 30)),
    ("halb 10", time(9, 30)),
    ("viertel vor 9", time(8, 45)),
    ("9", time(9, 0)),
    ("18:00 Uhr", time(18, 0)),
]


@pytest.mark.parametrize(("text", "expected"), CLOCKS)
def test_parse_clock(text: str, expected: time) -> None:
    assert parse_clock(text) == expected


@pytest.mark.parametrize("text", ["", "25:00", "9:61", "Uhr", "13pm", "Kaffee", "9 Uhr morgen"])
def test_parse_clock_rejects(text: str) -> None:
    assert parse_clock(text) is None


def test_formatting() -> None:
    moment = datetime(2025, 5, 12, 9, 30, tzinfo=BERLIN)  # a Monday
    assert format_datetime(moment, "de") == "Mo, 12.05.2025, 09:30"
    assert format_datetime(moment, "en") == "Mon, 12 May 2025, 09:30"
    assert format_datetime(moment.astimezone(ZoneInfo("UTC")), "de", BERLIN) == "Mo, 12.05.2025, 09:30"
    assert format_datetime(moment.astimezone(ZoneInfo("UTC")), "de") == "Mo, 12.05.2025, 07:30"
    # Inside a sentence, with the prepositions ("ich erinnere dich am …, um … an").
    assert format_when(moment, "de") == "am Mo, 12.05.2025, um 09:30"
    assert format_when(moment.astimezone(ZoneInfo("UTC")), "en", BERLIN) == "on Mon, 12 May 2025, at 09:30"
    assert format_date(date(2025, 5, 4), "de") == "So, 04.05.2025"
    assert format_date(date(2025, 5, 4), "en") == "Sun, 4 May 2025"
    assert format_date(date(2025, 12, 31), "fr") == "Mi, 31.12.2025"  # unknown language falls back to German
    assert format_time(time(7, 5)) == "07:05"
    assert format_time(moment) == "09:30"


def test_formatted_output_parses_back() -> None:
    moment = at(2026, 12, 3, 14, 15)
    for language in ("de", "en"):
        assert parse_when(format_datetime(moment, language), now=NOW, tz=BERLIN) == moment


def test_last_day_of_month_and_unknown_schedules() -> None:
    parsed = parse_recurring("jeden letzten im Monat 18 Uhr Abrechnung", language="de")
    last_day = Recurrence(cron={"day": "last", "hour": "18", "minute": "0"}, kind="monthly_day")
    assert parsed == (last_day, "Abrechnung")
    assert describe_recurrence(parsed[0], "de") == "am letzten Tag jedes Monats, 18:00"
    assert describe_recurrence(parsed[0], "en") == "on the last day of every month, 18:00"
    custom = Recurrence(cron={"hour": "*/2", "minute": "0"}, kind="custom")
    assert describe_recurrence(custom, "en") == "on a schedule (hour=*/2 minute=0)"


FRAGMENTS = [*"0123456789.:/-² ", "am", "pm", "Uhr", "h", "in", "jeden", "Montag", "im Monat", "ersten"]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=12).map("".join))
def test_other_parsers_never_raise(text: str) -> None:
    split = split_time_and_text(text, now=NOW, tz=BERLIN, language="de")
    assert split is None or split[0].tzinfo is BERLIN
    recurring = parse_recurring(text, language="en")
    if recurring is not None:
        CronTrigger(**recurring[0].cron, timezone=BERLIN)  # raises if the fields are not valid cron
        assert describe_recurrence(recurring[0], "de")
    duration = parse_duration(text)
    assert duration is None or duration > timedelta(0)
    parse_clock(text)
    parse_date(text, now=NOW, tz=BERLIN)


def test_timephrases_is_pure() -> None:
    """The package stands on its own: no Matrix, no database, nothing of the bot."""
    import subprocess
    import sys

    probe = (
        "import sys, timephrases;"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'nio', 'sqlalchemy', 'aiosqlite', 'bot',"
        " 'commands', 'storage'}))"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"

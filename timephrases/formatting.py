"""How times are shown: "Mo, 15.05.2025, 09:30" / "Mon, 15 May 2025, 09:30", and recurrences as text."""

from __future__ import annotations

import tomllib
from datetime import date, datetime, time
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from .recurring import Recurrence
from .vocabulary import CRON_WEEKDAYS, language_of

MESSAGES_PATH = Path(__file__).with_name("messages.toml")

_WEEKDAY_SHORT: dict[str, tuple[str, ...]] = {
    "de": ("Mo", "Di", "Mi", "Do", "Fr", "Sa", "So"),
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
}
_WEEKDAY_LONG: dict[str, tuple[str, ...]] = {
    "de": ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}
_MONTH_SHORT_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_ORDINAL_DISPLAY: dict[str, dict[str, str]] = {
    "de": {
        "1st": "ersten",
        "2nd": "zweiten",
        "3rd": "dritten",
        "4th": "vierten",
        "5th": "fünften",
        "last": "letzten",
    },
    "en": {"1st": "first", "2nd": "second", "3rd": "third", "4th": "fourth", "5th": "fifth", "last": "last"},
}


@lru_cache(maxsize=1)
def _display_texts() -> dict[str, dict[str, str]]:
    with MESSAGES_PATH.open("rb") as handle:
        return tomllib.load(handle)


def _english_ordinal(day: int) -> str:
    suffix = "th" if 10 <= day % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


def describe_recurrence(rec: Recurrence, language: str) -> str:
    """Display text: "jeden Montag, 09:00" / "every Monday, 09:00"."""
    lang = language_of(language)
    texts = _display_texts()[lang]

    def t(key: str, /, **params: str) -> str:
        return texts[key].format(**params)

    hour, minute = rec.cron.get("hour", "0"), rec.cron.get("minute", "0")
    if not (hour.isdecimal() and minute.isdecimal() and int(hour) < 24 and int(minute) < 60):
        rec = Recurrence(cron=rec.cron, kind="other")  # hand-made schedules are shown as they are
        hour = minute = "0"
    clock = format_time(time(int(hour), int(minute)))
    day_field = rec.cron.get("day", "")
    if rec.kind == "daily":
        return t("times_recurrence_daily", time=clock)
    if rec.kind == "weekdays":
        return t("times_recurrence_weekdays", time=clock)
    if rec.kind == "weekly":
        names = [_WEEKDAY_LONG[lang][CRON_WEEKDAYS.index(day)] for day in rec.cron["day_of_week"].split(",")]
        listed = (
            names[0] if len(names) == 1 else t("times_list_and", head=", ".join(names[:-1]), last=names[-1])
        )
        return t("times_recurrence_weekly", weekdays=listed, time=clock)
    if rec.kind == "monthly_weekday":
        ordinal, weekday = day_field.split()
        return t(
            "times_recurrence_monthly_weekday",
            ordinal=_ORDINAL_DISPLAY[lang][ordinal],
            weekday=_WEEKDAY_LONG[lang][CRON_WEEKDAYS.index(weekday)],
            time=clock,
        )
    if rec.kind == "monthly_day" and day_field == "last":
        return t("times_recurrence_monthly_last_day", time=clock)
    if rec.kind == "monthly_day":
        shown = _english_ordinal(int(day_field)) if lang == "en" else f"{int(day_field)}."
        return t("times_recurrence_monthly_day", day=shown, time=clock)
    schedule = " ".join(f"{key}={value}" for key, value in sorted(rec.cron.items()))
    return t("times_recurrence_other", schedule=schedule)


# --- formatting -------------------------------------------------------------------------------------------


def format_time(value: time | datetime) -> str:
    """ "09:30"."""
    return f"{value.hour:02d}:{value.minute:02d}"


def format_date(value: date, language: str) -> str:
    """ "Mo, 15.05.2025" / "Mon, 15 May 2025"."""
    lang = language_of(language)
    weekday = _WEEKDAY_SHORT[lang][value.weekday()]
    if lang == "en":
        return f"{weekday}, {value.day} {_MONTH_SHORT_EN[value.month - 1]} {value.year}"
    return f"{weekday}, {value.day:02d}.{value.month:02d}.{value.year:04d}"


def format_datetime(dt: datetime, language: str, tz: ZoneInfo | None = None) -> str:
    """ "Mo, 15.05.2025, 09:30" / "Mon, 15 May 2025, 09:30"; converted to tz first when given."""
    if tz is not None and dt.tzinfo is not None:
        dt = dt.astimezone(tz)
    return f"{format_date(dt.date(), language)}, {format_time(dt)}"


def format_when(dt: datetime, language: str, tz: ZoneInfo | None = None) -> str:
    """A moment inside a sentence, with its prepositions: "am Mo, 15.05.2025, um 09:30" / "on Mon, 15 May
    2025, at 09:30" ("ich erinnere dich am …, um … an")."""
    if tz is not None and dt.tzinfo is not None:
        dt = dt.astimezone(tz)
    if language_of(language) == "en":
        return f"on {format_date(dt.date(), language)}, at {format_time(dt)}"
    return f"am {format_date(dt.date(), language)}, um {format_time(dt)}"

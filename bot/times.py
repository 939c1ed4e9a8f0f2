"""Natural-language times (German and English) and the bot's date formatting.

Pure logic: nothing here talks to Matrix or the database.

Parsing is a small token grammar of our own, because dateparser gets the everyday German forms wrong ("morgen
9 Uhr" keeps the current clock time, "9 Uhr" becomes the 9th of the month, "am Montag um 9:00" is None). The
grammar covers relative times ("in 10 Minuten"), day words, weekdays, day-first dates, clock times and times
of day; dateparser is only the fallback for phrases the grammar does not know ("nächste Woche",
"2027-12-15T14:00"), and its answers are accepted only if they lie in the future.

Day offsets are computed on local calendar dates and the wall-clock time is attached with zoneinfo afterwards,
so "morgen 9 Uhr" is 09:00 local on both sides of a DST change; "in 2 Stunden" is elapsed time instead.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.i18n import Catalog, normalize_language

DEFAULT_TIME = time(9, 0)
_MESSAGES_PATH = Path(__file__).with_name("times_messages.toml")

# --- vocabulary (locale data) -----------------------------------------------------------------------------

_WEEKDAYS: dict[str, int] = {
    "montag": 0,
    "monday": 0,
    "dienstag": 1,
    "tuesday": 1,
    "mittwoch": 2,
    "wednesday": 2,
    "donnerstag": 3,
    "thursday": 3,
    "freitag": 4,
    "friday": 4,
    "samstag": 5,
    "sonnabend": 5,
    "saturday": 5,
    "sonntag": 6,
    "sunday": 6,
}
_WEEKDAY_ABBREVIATIONS: dict[str, int] = {
    "mo": 0,
    "di": 1,
    "mi": 2,
    "do": 3,
    "fr": 4,
    "sa": 5,
    "so": 6,
    "mon": 0,
    "tue": 1,
    "tues": 1,
    "wed": 2,
    "thu": 3,
    "thur": 3,
    "thurs": 3,
    "fri": 4,
    "sat": 5,
    "sun": 6,
}
# Abbreviations that are not also ordinary words ("so", "do", "sun", "sat", "wed") may stand without dot.
_SAFE_ABBREVIATIONS = frozenset({"mo", "di", "mi", "fr", "mon", "tue", "tues", "thu", "thur", "thurs", "fri"})
_WEEKDAY_PLURALS: dict[str, int] = {
    "montags": 0,
    "mondays": 0,
    "dienstags": 1,
    "tuesdays": 1,
    "mittwochs": 2,
    "wednesdays": 2,
    "donnerstags": 3,
    "thursdays": 3,
    "freitags": 4,
    "fridays": 4,
    "samstags": 5,
    "sonnabends": 5,
    "saturdays": 5,
    "sonntags": 6,
    "sundays": 6,
}
_CRON_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

_MONTHS: dict[str, int] = {
    "januar": 1,
    "jänner": 1,
    "january": 1,
    "jan": 1,
    "februar": 2,
    "february": 2,
    "feb": 2,
    "märz": 3,
    "maerz": 3,
    "march": 3,
    "mär": 3,
    "mar": 3,
    "april": 4,
    "apr": 4,
    "mai": 5,
    "may": 5,
    "juni": 6,
    "june": 6,
    "jun": 6,
    "juli": 7,
    "july": 7,
    "jul": 7,
    "august": 8,
    "aug": 8,
    "september": 9,
    "sep": 9,
    "sept": 9,
    "oktober": 10,
    "october": 10,
    "okt": 10,
    "oct": 10,
    "november": 11,
    "nov": 11,
    "dezember": 12,
    "december": 12,
    "dez": 12,
    "dec": 12,
}

_HOUR_WORDS: dict[str, int] = {
    "null": 0,
    "ein": 1,
    "eins": 1,
    "one": 1,
    "zwei": 2,
    "two": 2,
    "drei": 3,
    "three": 3,
    "vier": 4,
    "four": 4,
    "fünf": 5,
    "fuenf": 5,
    "five": 5,
    "sechs": 6,
    "six": 6,
    "sieben": 7,
    "seven": 7,
    "acht": 8,
    "eight": 8,
    "neun": 9,
    "nine": 9,
    "zehn": 10,
    "ten": 10,
    "elf": 11,
    "eleven": 11,
    "zwölf": 12,
    "zwoelf": 12,
    "twelve": 12,
}
_NUMBER_WORDS: dict[str, int] = {
    **_HOUR_WORDS,
    "eine": 1,
    "einer": 1,
    "einem": 1,
    "einen": 1,
    "a": 1,
    "an": 1,
    "fünfzehn": 15,
    "fuenfzehn": 15,
    "fifteen": 15,
    "zwanzig": 20,
    "twenty": 20,
    "dreißig": 30,
    "dreissig": 30,
    "thirty": 30,
    "vierzig": 40,
    "forty": 40,
    "fünfundvierzig": 45,
    "fuenfundvierzig": 45,
    "fünfzig": 50,
    "fuenfzig": 50,
    "fifty": 50,
    "sechzig": 60,
    "sixty": 60,
    "neunzig": 90,
    "ninety": 90,
}

_SECOND, _MINUTE, _HOUR = 1, 60, 3600
# unit word -> (field, multiplier); fields: seconds (elapsed time), days (calendar days), months
_UNITS: dict[str, tuple[str, int]] = {
    **dict.fromkeys(
        ("s", "sec", "secs", "sek", "second", "seconds", "sekunde", "sekunden"), ("seconds", _SECOND)
    ),
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes", "minuten", "minütchen"), ("seconds", _MINUTE)),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours", "std", "stunde", "stunden"), ("seconds", _HOUR)),
    **dict.fromkeys(("d", "day", "days", "tag", "tage", "tagen"), ("days", 1)),
    **dict.fromkeys(("w", "wk", "wks", "week", "weeks", "woche", "wochen"), ("days", 7)),
    **dict.fromkeys(("monat", "monate", "monaten", "month", "months"), ("months", 1)),
}

_CLOCK_MARKERS = frozenset({"um", "at", "gegen", "@"})
_DAY_MARKERS = frozenset({"am", "on"})
_NEXT_MODIFIERS = frozenset(
    {"nächsten", "nächster", "nächste", "naechsten", "naechster", "naechste", "kommenden", "kommender"}
    | {"kommende", "next", "coming"}
)
_THIS_MODIFIERS = frozenset({"diesen", "dieser", "diese", "diesem", "this"})
_AFTER_NEXT_MODIFIERS = frozenset({"übernächsten", "übernächster", "uebernaechsten", "uebernaechster"})

# Meridiem words after a clock time: "9 Uhr abends", "9pm", "2 Uhr nachts".
_AM, _PM, _NIGHT = "am", "pm", "night"
_MERIDIEM_WORDS: dict[str, str] = {
    "am": _AM,
    "a.m.": _AM,
    "morgens": _AM,
    "früh": _AM,
    "frueh": _AM,
    "vormittags": _AM,
    "pm": _PM,
    "p.m.": _PM,
    "mittags": _PM,
    "nachmittags": _PM,
    "abends": _PM,
    "nachts": _NIGHT,
}
# A time of day without a clock ("morgen früh", "heute Abend"): default hour and how it shifts a later clock.
_DAYTIMES: dict[str, tuple[int, str]] = {
    "früh": (8, _AM),
    "frueh": (8, _AM),
    "morgens": (8, _AM),
    "morning": (8, _AM),
    "vormittag": (10, _AM),
    "vormittags": (10, _AM),
    "mittag": (12, _PM),
    "mittags": (12, _PM),
    "noon": (12, _PM),
    "midday": (12, _PM),
    "nachmittag": (15, _PM),
    "nachmittags": (15, _PM),
    "afternoon": (15, _PM),
    "abend": (19, _PM),
    "abends": (19, _PM),
    "evening": (19, _PM),
    "nacht": (22, _NIGHT),
    "nachts": (22, _NIGHT),
    "night": (22, _NIGHT),
}
# Whole-token rewrites applied before parsing.
_PHRASE_REWRITES: dict[tuple[str, ...], tuple[str, ...]] = {
    ("tonight",): ("heute", "abend"),
    ("this", "morning"): ("heute", "früh"),
    ("this", "afternoon"): ("heute", "nachmittag"),
    ("this", "evening"): ("heute", "abend"),
    ("the", "day", "after", "tomorrow"): ("übermorgen",),
    ("day", "after", "tomorrow"): ("übermorgen",),
    ("o'clock",): ("uhr",),
    ("oclock",): ("uhr",),
}

_ORDINAL_WORDS: dict[str, str] = {
    **dict.fromkeys(("erste", "ersten", "erster", "first", "1."), "1st"),
    **dict.fromkeys(("zweite", "zweiten", "zweiter", "second", "2."), "2nd"),
    **dict.fromkeys(("dritte", "dritten", "dritter", "third", "3."), "3rd"),
    **dict.fromkeys(("vierte", "vierten", "vierter", "fourth", "4."), "4th"),
    **dict.fromkeys(("fünfte", "fünften", "fünfter", "fuenften", "fifth", "5."), "5th"),
    **dict.fromkeys(("letzte", "letzten", "letzter", "last"), "last"),
}
_ORDINAL_SUFFIXES = frozenset({"st", "nd", "rd", "th"})

_LEADING_PRONOUNS = frozenset({"mich", "uns", "me", "us"})
_TRAILING_PHRASE_STARTS = frozenset(
    {"in", "at", "on", "um", "am", "gegen", "morgen", "tomorrow", "heute", "today", "übermorgen", "tonight"}
    | _NEXT_MODIFIERS
    | _THIS_MODIFIERS
)
_MAX_PHRASE_WORDS = 12
_MAX_FALLBACK_WORDS = 6
_FILLERS_DE = ("daran", "dass", "an")
_FILLERS_EN = ("about", "that", "to")

# --- tokens -----------------------------------------------------------------------------------------------

_COMPACT_PIECE = re.compile(r"\d+(?:[.:,]\d+)*\.?|[^\d]+")
_HAS_LETTER = re.compile(r"[^\W\d_]")
_ISO_LOCAL = re.compile(r"(\d{4}-\d{1,2}-\d{1,2})t(\d{1,2}:\d{2})(?::00)?")


def _tokens(text: str) -> list[str]:
    """Lower-case words; "9am" / "1h30m" / "14h30" split into number and unit pieces."""
    tokens: list[str] = []
    for raw in unicodedata.normalize("NFC", text).lower().split():
        token = raw.strip("\"'„“”«»()[]").rstrip(",;:!?")
        if token.endswith(".") and token[:-1].isalpha() and token[:-1] not in _WEEKDAY_ABBREVIATIONS:
            token = token[:-1]
        if not token:
            continue
        if iso := _ISO_LOCAL.fullmatch(token):  # "2027-12-15T14:00" without an offset
            tokens.extend((iso[1], iso[2]))
        elif token[0].isdecimal() and _HAS_LETTER.search(token):
            for piece in _COMPACT_PIECE.findall(token):
                piece = piece.rstrip(",")
                if piece:  # "5min." ends a sentence, "9a.m." keeps its dots
                    tokens.append(piece if piece in _MERIDIEM_WORDS else piece.rstrip("."))
        else:
            tokens.append(token)
    return _rewrite(tokens)


def _rewrite(tokens: list[str]) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(tokens):
        for pattern, replacement in _PHRASE_REWRITES.items():
            if tuple(tokens[i : i + len(pattern)]) == pattern:
                out.extend(replacement)
                i += len(pattern)
                break
        else:
            out.append(tokens[i])
            i += 1
    return out


def _int(token: str) -> int | None:
    return int(token) if token.isdecimal() and len(token) <= 4 else None


def _amount(token: str) -> float | None:
    if re.fullmatch(r"\d{1,6}(?:[.,]\d{1,3})?", token):
        return float(token.replace(",", "."))
    word = _NUMBER_WORDS.get(token)
    return float(word) if word is not None else None


def _at(tokens: Sequence[str], i: int) -> str:
    return tokens[i] if i < len(tokens) else ""


# --- durations --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Duration:
    seconds: int = 0
    days: int = 0
    months: int = 0

    def __add__(self, other: _Duration) -> _Duration:
        return _Duration(self.seconds + other.seconds, self.days + other.days, self.months + other.months)

    @property
    def is_calendar_only(self) -> bool:
        return self.seconds == 0 and (self.days > 0 or self.months > 0)


def _unit_duration(amount: float, unit: str) -> _Duration | None:
    found = _UNITS.get(unit)
    if found is None or amount <= 0:
        return None
    kind, factor = found
    if kind == "seconds":
        return _Duration(seconds=round(amount * factor))
    if amount != int(amount):  # "1,5 Tage": express as elapsed time
        return _Duration(seconds=round(amount * factor * 86400)) if kind == "days" else None
    return _Duration(days=int(amount) * factor) if kind == "days" else _Duration(months=int(amount))


def _duration_part(tokens: Sequence[str], i: int) -> Iterator[tuple[_Duration, int]]:
    token = _at(tokens, i)
    amount = _amount(token)
    if amount is not None:
        part = _unit_duration(amount, _at(tokens, i + 1))
        if part is not None:
            yield part, i + 2
            # "1h30" / "1 Stunde 30": minutes without a unit after hours
            minutes = _int(_at(tokens, i + 2))
            if _UNITS.get(_at(tokens, i + 1)) == ("seconds", _HOUR) and minutes is not None and minutes < 60:
                yield part + _Duration(seconds=minutes * _MINUTE), i + 3
        # "einer halben Stunde"
        if amount == 1 and _at(tokens, i + 1) in ("halbe", "halben", "halber"):
            half = _unit_duration(0.5, _at(tokens, i + 2))
            if half is not None:
                yield half, i + 3
    if token in ("anderthalb", "eineinhalb"):
        part = _unit_duration(1.5, _at(tokens, i + 1))
        if part is not None:
            yield part, i + 2
    if token == "half" and _at(tokens, i + 1) in ("a", "an"):
        part = _unit_duration(0.5, _at(tokens, i + 2))
        if part is not None:
            yield part, i + 3


def _durations(tokens: Sequence[str], i: int) -> Iterator[tuple[_Duration, int]]:
    for first, j in _duration_part(tokens, i):
        yield first, j
        k = j + 1 if _at(tokens, j) in ("und", "and", "&") else j
        for rest, m in _durations(tokens, k):
            yield first + rest, m


# --- clock times ------------------------------------------------------------------------------------------


def _hour_token(token: str) -> int | None:
    value = _int(token) if len(token) <= 2 else None
    if value is None:
        value = _HOUR_WORDS.get(token)
    return value


def _clock_base(tokens: Sequence[str], i: int) -> Iterator[tuple[int, int, bool, int]]:
    """(hour, minute, is_bare_number, next index) before any am/pm word."""
    token = _at(tokens, i)
    match = re.fullmatch(r"(\d{1,2})[:.](\d{2})", token)
    if match:
        yield int(match[1]), int(match[2]), False, i + 1
        if _at(tokens, i + 1) in ("uhr", "h"):
            yield int(match[1]), int(match[2]), False, i + 2
        return
    if token in ("mitternacht", "midnight"):
        yield 0, 0, False, i + 1
        return
    if token in ("noon", "midday"):
        yield 12, 0, False, i + 1
        return
    following = _hour_token(_at(tokens, i + 1))
    if token == "halb" and following is not None:  # "halb 10" is 09:30
        yield (following - 1) % 24, 30, False, i + 2
    if token == "dreiviertel" and following is not None:
        yield (following - 1) % 24, 45, False, i + 2
    if token == "viertel" and _at(tokens, i + 1) in ("nach", "vor"):
        quarter_hour = _hour_token(_at(tokens, i + 2))
        if quarter_hour is not None and tokens[i + 1] == "nach":
            yield quarter_hour, 15, False, i + 3
        elif quarter_hour is not None:
            yield (quarter_hour - 1) % 24, 45, False, i + 3
    hour = _hour_token(token)
    if hour is None:
        return
    after = _at(tokens, i + 1)
    if after in ("uhr", "h"):
        yield hour, 0, False, i + 2
        minute = _int(_at(tokens, i + 2))
        if minute is not None and minute < 60 and len(tokens[i + 2]) <= 2:
            yield hour, minute, False, i + 3
    elif token.isdecimal():
        yield hour, 0, True, i + 1


def _apply_meridiem(hour: int, meridiem: str, *, strict: bool) -> int | None:
    """Shift an hour by am/pm; strict (English am/pm) accepts only 1-12."""
    if strict and not 1 <= hour <= 12:
        return None
    if meridiem == _AM:
        if hour > 12:
            return None
        return 0 if hour == 12 and strict else hour
    if meridiem == _PM:
        return hour + 12 if 1 <= hour <= 11 else hour
    return hour + 12 if 6 <= hour <= 11 else (0 if hour == 12 else hour)  # night


def _meridiem(tokens: Sequence[str], i: int) -> Iterator[tuple[str, bool, int]]:
    token = _at(tokens, i)
    if token in _MERIDIEM_WORDS:
        yield _MERIDIEM_WORDS[token], token in ("am", "pm", "a.m.", "p.m."), i + 1
    if token == "in" and _at(tokens, i + 1) == "the":
        word = _at(tokens, i + 2)
        if word in ("morning", "afternoon", "evening"):
            yield _DAYTIMES[word][1], False, i + 3
    if token == "at" and _at(tokens, i + 1) == "night":
        yield _NIGHT, False, i + 2


def _clock(tokens: Sequence[str], i: int, *, bare_ok: bool = False) -> Iterator[tuple[time, int]]:
    marked = _at(tokens, i) in _CLOCK_MARKERS
    start = i + 1 if marked else i
    for hour, minute, bare, j in _clock_base(tokens, start):
        if (marked or bare_ok or not bare) and hour <= 23 and minute <= 59:
            yield time(hour, minute), j
        for meridiem, strict, k in _meridiem(tokens, j):
            shifted = _apply_meridiem(hour, meridiem, strict=strict)
            if shifted is not None and shifted <= 23 and minute <= 59:
                yield time(shifted, minute), k


def _daytime(tokens: Sequence[str], i: int) -> Iterator[tuple[tuple[int, str], int]]:
    token = _at(tokens, i)
    if token in _DAYTIMES:
        yield _DAYTIMES[token], i + 1
    if token == "am" and _at(tokens, i + 1) in ("morgen", "vormittag", "mittag", "nachmittag", "abend"):
        word = _at(tokens, i + 1)
        yield ((8, _AM) if word == "morgen" else _DAYTIMES[word]), i + 2
    if token == "in" and _at(tokens, i + 1) == "the" and _at(tokens, i + 2) in _DAYTIMES:
        yield _DAYTIMES[tokens[i + 2]], i + 3


# --- days -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Day:
    """A calendar day: offset from today, a weekday, or a date (year None = next occurrence)."""

    offset: int | None = None
    weekday: int | None = None
    weekday_mode: str = "next"  # next | this | after_next
    year: int | None = None
    month: int = 0
    day: int = 0
    expected_weekday: int | None = None


def _weekday_token(token: str, *, abbreviations: bool) -> int | None:
    if token in _WEEKDAYS:
        return _WEEKDAYS[token]
    if token.endswith(".") and token[:-1] in _WEEKDAY_ABBREVIATIONS:
        return _WEEKDAY_ABBREVIATIONS[token[:-1]]
    if token in _WEEKDAY_ABBREVIATIONS and (abbreviations or token in _SAFE_ABBREVIATIONS):
        return _WEEKDAY_ABBREVIATIONS[token]
    return None


def _full_year(text: str | None) -> int | None:
    if not text:
        return None
    value = int(text)
    return 2000 + value if value < 100 else value


def _day_of_month(tokens: Sequence[str], i: int) -> Iterator[tuple[int, int]]:
    match = re.fullmatch(r"(\d{1,2})\.?", _at(tokens, i))
    if match:
        yield int(match[1]), i + 1
        if _at(tokens, i + 1) in _ORDINAL_SUFFIXES:
            yield int(match[1]), i + 2


def _year(tokens: Sequence[str], i: int) -> Iterator[tuple[int | None, int]]:
    yield None, i
    if re.fullmatch(r"\d{4}", _at(tokens, i)):
        yield int(tokens[i]), i + 1


def _date(tokens: Sequence[str], i: int) -> Iterator[tuple[_Day, int]]:
    token = _at(tokens, i)
    if match := re.fullmatch(r"(\d{1,2})\.(\d{1,2})(?:\.(\d{4}|\d{2})?)?", token):
        yield _Day(year=_full_year(match[3]), month=int(match[2]), day=int(match[1])), i + 1
    elif match := re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", token):
        yield _Day(year=int(match[1]), month=int(match[2]), day=int(match[3])), i + 1
    elif match := re.fullmatch(r"(\d{1,2})/(\d{1,2})(?:/(\d{4}|\d{2}))?", token):
        yield _Day(year=_full_year(match[3]), month=int(match[2]), day=int(match[1])), i + 1
    # "15. Dezember 2027", "15th of December"
    for day, j in _day_of_month(tokens, i):
        j = j + 1 if _at(tokens, j) == "of" else j
        month = _MONTHS.get(_at(tokens, j).rstrip("."))
        if month is not None:
            for year, k in _year(tokens, j + 1):
                yield _Day(year=year, month=month, day=day), k
    # "December 15th, 2027"
    month = _MONTHS.get(token.rstrip("."))
    if month is not None:
        for day, j in _day_of_month(tokens, i + 1):
            for year, k in _year(tokens, j):
                yield _Day(year=year, month=month, day=day), k


def _day(tokens: Sequence[str], i: int, *, marked: bool = False) -> Iterator[tuple[_Day, int]]:
    token = _at(tokens, i)
    if token in _DAY_MARKERS and not marked:
        yield from _day(tokens, i + 1, marked=True)
        if token == "on" and _at(tokens, i + 1) == "the":
            yield from _date(tokens, i + 2)
        return
    if not marked:
        if token in ("heute", "today"):
            yield _Day(offset=0), i + 1
        elif token in ("morgen", "tomorrow", "tmrw"):
            yield _Day(offset=1), i + 1
        elif token in ("übermorgen", "uebermorgen"):
            yield _Day(offset=2), i + 1
    mode = "next"
    j = i
    if token in _NEXT_MODIFIERS | _THIS_MODIFIERS | _AFTER_NEXT_MODIFIERS:
        mode = (
            "this" if token in _THIS_MODIFIERS else "after_next" if token in _AFTER_NEXT_MODIFIERS else "next"
        )
        j = i + 1
    weekday = _weekday_token(_at(tokens, j), abbreviations=False)
    if weekday is not None:
        yield _Day(weekday=weekday, weekday_mode=mode), j + 1
    # "Mo, 15.12.2026" as the bot itself writes it: the weekday must match the date
    named = _weekday_token(token, abbreviations=True)
    if named is not None:
        for found, k in _date(tokens, i + 1):
            yield _Day(year=found.year, month=found.month, day=found.day, expected_weekday=named), k
    yield from _date(tokens, i)


# --- phrases ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Phrase:
    day: _Day | None = None
    clock: time | None = None
    relative: _Duration | None = None


def _with_daytime(clock: time, daytime: tuple[int, str]) -> time | None:
    hour = _apply_meridiem(clock.hour, daytime[1], strict=False)
    return None if hour is None or hour > 23 else time(hour, clock.minute)


def _phrases(tokens: Sequence[str]) -> Iterator[_Phrase]:
    """Every reading of the whole token list, most specific first."""
    end = len(tokens)
    if _at(tokens, 0) == "in":
        for duration, j in _durations(tokens, 1):
            if j == end:
                yield _Phrase(relative=duration)
            if duration.is_calendar_only:
                for clock, k in _clock(tokens, j):
                    if k == end:
                        yield _Phrase(relative=duration, clock=clock)
    for day, j in _day(tokens, 0):
        if j == end:
            yield _Phrase(day=day)
        for clock, k in _clock(tokens, j):
            if k == end:
                yield _Phrase(day=day, clock=clock)
        is_today = day.offset == 0
        daytimes = list(_daytime(tokens, j))
        if is_today and _at(tokens, j) == "morgen":  # "heute morgen" is this morning
            daytimes.append(((8, _AM), j + 1))
        for daytime, k in daytimes:
            if k == end:
                yield _Phrase(day=day, clock=time(daytime[0]))
            for clock, m in _clock(tokens, k, bare_ok=True):
                shifted = _with_daytime(clock, daytime)
                if m == end and shifted is not None:
                    yield _Phrase(day=day, clock=shifted)
    for clock, j in _clock(tokens, 0):
        if j == end:
            yield _Phrase(clock=clock)
        for day, k in _day(tokens, j):
            if k == end:
                yield _Phrase(day=day, clock=clock)


def _local(day: date, clock: time, tz: ZoneInfo) -> datetime:
    """Wall-clock time on a local date; a time skipped by DST moves forward (02:30 → 03:30)."""
    return datetime.combine(day, clock.replace(tzinfo=None)).replace(tzinfo=tz).astimezone(UTC).astimezone(tz)


def _add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _resolve_day(spec: _Day, today: date) -> date | None:
    """The date of a day spec; a date without year is not resolved here (it depends on the clock)."""
    if spec.offset is not None:
        return today + timedelta(days=spec.offset)
    if spec.weekday is not None:
        ahead = (spec.weekday - today.weekday()) % 7
        if spec.weekday_mode != "this" and ahead == 0:
            ahead = 7
        if spec.weekday_mode == "after_next":
            ahead += 7
        return today + timedelta(days=ahead)
    if spec.year is not None:
        return _safe_date(spec.year, spec.month, spec.day)
    return None


def _next_date_occurrence(spec: _Day, clock: time, now: datetime, tz: ZoneInfo) -> datetime | None:
    for year in range(now.year, now.year + 9):  # 29.2. may need a few years
        found = _safe_date(year, spec.month, spec.day)
        if found is not None and _local(found, clock, tz) > now:
            return _local(found, clock, tz)
    return None


def _resolve(phrase: _Phrase, now: datetime, tz: ZoneInfo) -> datetime | None:
    today = now.date()
    if phrase.relative is not None:
        duration = phrase.relative
        if duration.days == 0 and duration.months == 0:
            return (now.astimezone(UTC) + timedelta(seconds=duration.seconds)).astimezone(tz)
        target_day = _add_months(today, duration.months) + timedelta(days=duration.days)
        clock = now.time().replace(tzinfo=None) if phrase.clock is None else phrase.clock
        base = _local(target_day, clock, tz)
        return (base.astimezone(UTC) + timedelta(seconds=duration.seconds)).astimezone(tz)
    spec = phrase.day
    if spec is None:
        bare_clock = phrase.clock or DEFAULT_TIME
        same_day = _local(today, bare_clock, tz)
        return same_day if same_day > now else _local(today + timedelta(days=1), bare_clock, tz)
    clock = DEFAULT_TIME if phrase.clock is None else phrase.clock
    found: datetime | None
    if spec.offset is None and spec.weekday is None and spec.year is None:
        found = _next_date_occurrence(spec, clock, now, tz)
    else:
        day = _resolve_day(spec, today)
        found = None if day is None else _local(day, clock, tz)
    if found is not None and spec.expected_weekday not in (None, found.weekday()):
        return None
    return found


def _parse_tokens(tokens: Sequence[str], now: datetime, tz: ZoneInfo) -> datetime | None:
    if not tokens:
        return None
    for phrase in _phrases(tokens):
        result = _resolve(phrase, now, tz)
        if result is not None:
            return result
    return None


def _local_now(now: datetime, tz: ZoneInfo) -> datetime:
    return now.replace(tzinfo=tz) if now.tzinfo is None else now.astimezone(tz)


def _dateparser_fallback(text: str, now: datetime, tz: ZoneInfo, language: str) -> datetime | None:
    """dateparser for word phrases the grammar does not know ("nächste Woche"); only future answers count.

    Phrases with digits are the grammar's: where it failed ("morgen 25:00") dateparser would drop the part it
    cannot read and answer something else. Single words are more often text ("Mai") than a time.
    """
    if len(text) > 80 or re.search(r"\d", text) or len(text.split()) < 2:
        return None
    languages = ["en", "de"] if normalize_language(language) == "en" else ["de", "en"]
    settings: dict[str, Any] = {
        "DATE_ORDER": "DMY",
        "PREFER_DATES_FROM": "future",
        "RELATIVE_BASE": now.replace(tzinfo=None),
        "TIMEZONE": tz.key,
        "TO_TIMEZONE": tz.key,
        "RETURN_AS_TIMEZONE_AWARE": False,
    }
    try:
        import dateparser  # loaded on first use: most phrases never reach it

        parsed = dateparser.parse(text, languages=languages, settings=settings)
    except (ValueError, OverflowError, TypeError):
        return None
    if not isinstance(parsed, datetime):
        return None
    result = parsed.astimezone(tz) if parsed.tzinfo else _local(parsed.date(), parsed.time(), tz)
    return result if result > now else None


# --- public API: one-off times ----------------------------------------------------------------------------


def parse_when(text: str, *, now: datetime, tz: ZoneInfo, language: str = "de") -> datetime | None:
    """An aware datetime in ``tz`` for a German or English time phrase, or None.

    Bare times that have passed today mean tomorrow, weekdays mean the next one (never today), dates
    without a year their next occurrence; date-only phrases get 09:00. An explicit past date
    ("1.1.2020 10:00", "heute 8 Uhr" at noon) is returned as it is, so the caller can say it has passed.
    """
    local_now = _local_now(now, tz)
    result = _parse_tokens(_tokens(text), local_now, tz)
    if result is None and text.strip():
        result = _dateparser_fallback(text.strip(), local_now, tz, language)
    return result


def _strip_fillers(text: str, language: str) -> str:
    fillers = _FILLERS_EN + (_FILLERS_DE[:-1] if normalize_language(language) == "en" else _FILLERS_DE)
    text = re.sub(r"^(?:[,:;–—]|-(?=\s))+", "", text.strip()).strip()
    for _ in range(2):  # "daran, dass …"
        lowered = text.lower()
        for filler in fillers:
            if re.match(rf"{filler}(?:\s*,\s*|\s+|$)", lowered):
                text = re.sub(rf"^{filler}\s*,?\s*", "", text, flags=re.IGNORECASE)
                break
    return text.strip()


def _word_spans(text: str) -> list[tuple[int, int]]:
    return [match.span() for match in re.finditer(r"\S+", text)]


def _leading_starts(words: str, spans: Sequence[tuple[int, int]]) -> list[int]:
    """Word indexes where the time may start: after "mich"/"me" first, else at the beginning."""
    if spans and _tokens(words[spans[0][0] : spans[0][1]]) in (["mich"], ["uns"], ["me"], ["us"]):
        return [1, 0]
    return [0]


def split_time_and_text(
    words: str, *, now: datetime, tz: ZoneInfo, language: str = "de"
) -> tuple[datetime, str] | None:
    """Split a reminder's rest into (time, text): the longest leading time phrase, fillers removed.

    "mich in 2 Minuten an den Kaffee" → (now + 2 min, "den Kaffee"). If no time leads, a time phrase at the
    end is accepted when it starts with a marker ("… in 10 Minuten", "to call Anna tomorrow at 9").
    """
    local_now = _local_now(now, tz)
    spans = _word_spans(words)
    starts = _leading_starts(words, spans)

    def phrase(first: int, last: int) -> str:
        return words[spans[first][0] : spans[last - 1][1]]

    def rest_after(last: int) -> str:
        return _strip_fillers(words[spans[last - 1][1] :], language)

    for start in starts:
        for end in range(min(len(spans), start + _MAX_PHRASE_WORDS), start, -1):
            found = _parse_tokens(_tokens(phrase(start, end)), local_now, tz)
            if found is not None:
                return found, rest_after(end)
    for start in starts:
        for end in range(min(len(spans), start + _MAX_FALLBACK_WORDS), start, -1):
            candidate = phrase(start, end)
            last_word = _tokens(words[spans[end - 1][0] : spans[end - 1][1]])
            if last_word and last_word[-1] in _FILLERS_DE + _FILLERS_EN:
                continue
            found = _dateparser_fallback(candidate, local_now, tz, language)
            if found is not None:
                return found, rest_after(end)
    start = starts[0]
    for begin in range(start + 1, len(spans)):
        first_tokens = _tokens(words[spans[begin][0] : spans[begin][1]])
        if not first_tokens or first_tokens[0] not in _TRAILING_PHRASE_STARTS:
            continue
        found = _parse_tokens(_tokens(words[spans[begin][0] :]), local_now, tz)
        if found is not None:
            return found, _strip_fillers(words[spans[start][0] : spans[begin][0]], language)
    return None


# --- public API: recurring times --------------------------------------------------------------------------


@dataclass(frozen=True)
class Recurrence:
    """A repeating time as APScheduler cron fields (``CronTrigger(**cron, timezone=tz)``).

    kind is one of daily, weekdays, weekly, monthly_weekday, monthly_day; it only chooses the display text.
    """

    cron: dict[str, str] = field(hash=False)
    kind: str


@dataclass(frozen=True)
class _Schedule:
    kind: str
    fields: tuple[tuple[str, str], ...]


_EVERY = frozenset({"jeden", "jede", "jedes", "every", "each"})
_MONTH_SUFFIXES: tuple[tuple[str, ...], ...] = (
    ("im", "monat"),
    ("des", "monats"),
    ("jedes", "monats"),
    ("eines", "monats"),
    ("in", "the", "month"),
    ("of", "the", "month"),
    ("of", "every", "month"),
    ("of", "each", "month"),
    ("of", "a", "month"),
    ("every", "month"),
    ("each", "month"),
)
# Suffixes that by themselves say "every month" (after "am"/"on the" a bare "im Monat" would be enough too).
_FIXED_SCHEDULES: dict[tuple[str, ...], _Schedule] = {
    **dict.fromkeys(
        [("täglich",), ("taeglich",), ("daily",), ("jeden", "tag"), ("every", "day"), ("each", "day")],
        _Schedule("daily", ()),
    ),
    **dict.fromkeys(
        [
            ("werktags",),
            ("wochentags",),
            ("an", "werktagen"),
            ("jeden", "werktag"),
            ("on", "weekdays"),
            ("weekdays",),
            ("every", "weekday"),
            ("montags", "bis", "freitags"),
            ("mondays", "to", "fridays"),
        ],
        _Schedule("weekdays", (("day_of_week", "mon-fri"),)),
    ),
}


def _month_suffix(tokens: Sequence[str], i: int) -> Iterator[int]:
    for suffix in _MONTH_SUFFIXES:
        if tuple(tokens[i : i + len(suffix)]) == suffix:
            yield i + len(suffix)


def _weekday_list(tokens: Sequence[str], i: int, table: dict[str, int]) -> Iterator[tuple[list[int], int]]:
    first = table.get(_at(tokens, i))
    if first is None:
        return
    yield [first], i + 1
    j = i + 2 if _at(tokens, i + 1) in ("und", "and", "&") else i + 1
    for more, k in _weekday_list(tokens, j, table):
        yield [first, *more], k


def _weekly(days: list[int]) -> _Schedule:
    names = ",".join(_CRON_WEEKDAYS[day] for day in sorted(set(days)))
    return _Schedule("weekly", (("day_of_week", names),))


def _ordinal(tokens: Sequence[str], i: int) -> Iterator[tuple[str, int]]:
    token = _at(tokens, i)
    if token in _ORDINAL_WORDS:
        yield _ORDINAL_WORDS[token], i + 1
    if _at(tokens, i + 1) in _ORDINAL_SUFFIXES and token in ("1", "2", "3", "4", "5"):
        yield _ORDINAL_WORDS[token + "."], i + 2


def _month_day(tokens: Sequence[str], i: int) -> Iterator[tuple[str, int]]:
    for day, j in _day_of_month(tokens, i):
        if 1 <= day <= 31 and (_at(tokens, i).endswith(".") or j == i + 2):
            yield str(day), j
    token = _at(tokens, i)
    if token in _ORDINAL_WORDS and not token[0].isdecimal():
        value = _ORDINAL_WORDS[token]
        yield ("last" if value == "last" else value[0]), i + 1


def _schedule(tokens: Sequence[str], i: int) -> Iterator[tuple[_Schedule, int]]:
    for words, schedule in _FIXED_SCHEDULES.items():
        if tuple(tokens[i : i + len(words)]) == words:
            yield schedule, i + len(words)
    token = _at(tokens, i)
    # plural weekdays: "montags und donnerstags", "on mondays"
    j = i + 1 if token == "on" else i
    for days, k in _weekday_list(tokens, j, _WEEKDAY_PLURALS):
        yield _weekly(days), k
    if token in ("wöchentlich", "woechentlich", "weekly"):
        j = i + 2 if _at(tokens, i + 1) in ("am", "on") else i + 1
        for days, k in _weekday_list(tokens, j, _WEEKDAYS):
            yield _weekly(days), k
    if token in _EVERY:
        for days, k in _weekday_list(tokens, i + 1, _WEEKDAYS):
            yield _weekly(days), k
        for ordinal, j in _ordinal(tokens, i + 1):
            weekday = _WEEKDAYS.get(_at(tokens, j))
            if weekday is not None:
                day_field = (("day", f"{ordinal} {_CRON_WEEKDAYS[weekday]}"),)
                yield _Schedule("monthly_weekday", day_field), j + 1
                for k in _month_suffix(tokens, j + 1):
                    yield _Schedule("monthly_weekday", day_field), k
        for day, j in _month_day(tokens, i + 1):
            for k in _month_suffix(tokens, j):
                yield _Schedule("monthly_day", (("day", day),)), k
        # "jeden Monat am 15.", "every month on the 15th"
        if _at(tokens, i + 1) in ("monat", "month"):
            j = i + 2
            j += 1 if _at(tokens, j) in ("am", "on") else 0
            j += 1 if _at(tokens, j) == "the" else 0
            for day, k in _month_day(tokens, j):
                yield _Schedule("monthly_day", (("day", day),)), k
    if token in ("monatlich", "monthly"):
        j = i + 1 + (_at(tokens, i + 1) in ("am", "on"))
        j += 1 if _at(tokens, j) == "the" else 0
        for day, k in _month_day(tokens, j):
            yield _Schedule("monthly_day", (("day", day),)), k
    if token in ("am", "on"):
        j = i + 2 if _at(tokens, i + 1) == "the" else i + 1
        for ordinal, k in _ordinal(tokens, j):
            weekday = _WEEKDAYS.get(_at(tokens, k))
            if weekday is not None:
                for m in _month_suffix(tokens, k + 1):
                    yield _Schedule("monthly_weekday", (("day", f"{ordinal} {_CRON_WEEKDAYS[weekday]}"),)), m
        for day, k in _month_day(tokens, j):
            for m in _month_suffix(tokens, k):
                yield _Schedule("monthly_day", (("day", day),)), m


def _recurrence_readings(tokens: Sequence[str]) -> Iterator[tuple[_Schedule, time]]:
    end = len(tokens)
    for schedule, j in _schedule(tokens, 0):
        if j == end:
            yield schedule, DEFAULT_TIME
        for clock, k in _clock(tokens, j):
            if k == end:
                yield schedule, clock
        for daytime, k in _daytime(tokens, j):
            if k == end:
                yield schedule, time(daytime[0])
    for clock, j in _clock(tokens, 0):
        for schedule, k in _schedule(tokens, j):
            if k == end:
                yield schedule, clock


def _recurrence_of(tokens: Sequence[str]) -> Recurrence | None:
    for schedule, clock in _recurrence_readings(tokens):
        cron = dict(schedule.fields)
        cron["hour"] = str(clock.hour)
        cron["minute"] = str(clock.minute)
        return Recurrence(cron=cron, kind=schedule.kind)
    return None


def parse_recurring(text: str, *, language: str = "de") -> tuple[Recurrence, str] | None:
    """A leading repeating time ("jeden Montag 9 Uhr …", "every first monday of the month 9:00 …") and the
    remaining text, fillers removed like in :func:`split_time_and_text`. Without a clock time: 09:00."""
    spans = _word_spans(text)
    for start in _leading_starts(text, spans):
        for end in range(min(len(spans), start + _MAX_PHRASE_WORDS), start, -1):
            found = _recurrence_of(_tokens(text[spans[start][0] : spans[end - 1][1]]))
            if found is not None:
                return found, _strip_fillers(text[spans[end - 1][1] :], language)
    return None


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
def _catalog() -> Catalog:
    return Catalog.from_files([_MESSAGES_PATH])


def _english_ordinal(day: int) -> str:
    suffix = "th" if 10 <= day % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


def describe_recurrence(rec: Recurrence, language: str) -> str:
    """Display text: "jeden Montag, 09:00" / "every Monday, 09:00"."""
    lang = normalize_language(language)
    t = _catalog().translator(lang)
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
        names = [_WEEKDAY_LONG[lang][_CRON_WEEKDAYS.index(day)] for day in rec.cron["day_of_week"].split(",")]
        listed = (
            names[0] if len(names) == 1 else t("times_list_and", head=", ".join(names[:-1]), last=names[-1])
        )
        return t("times_recurrence_weekly", weekdays=listed, time=clock)
    if rec.kind == "monthly_weekday":
        ordinal, weekday = day_field.split()
        return t(
            "times_recurrence_monthly_weekday",
            ordinal=_ORDINAL_DISPLAY[lang][ordinal],
            weekday=_WEEKDAY_LONG[lang][_CRON_WEEKDAYS.index(weekday)],
            time=clock,
        )
    if rec.kind == "monthly_day" and day_field == "last":
        return t("times_recurrence_monthly_last_day", time=clock)
    if rec.kind == "monthly_day":
        shown = _english_ordinal(int(day_field)) if lang == "en" else f"{int(day_field)}."
        return t("times_recurrence_monthly_day", day=shown, time=clock)
    schedule = " ".join(f"{key}={value}" for key, value in sorted(rec.cron.items()))
    return t("times_recurrence_other", schedule=schedule)


# --- public API: single fields ----------------------------------------------------------------------------


def parse_duration(text: str) -> timedelta | None:
    """ "7m", "1h30m", "30 Minuten", "2 hours", "eine halbe Stunde" → timedelta; None for junk or ≤ 0."""
    tokens = _tokens(text)
    if not tokens:
        return None
    for duration, end in _durations(tokens, 0):
        if end == len(tokens) and duration.months == 0:
            try:
                total = timedelta(days=duration.days, seconds=duration.seconds)
            except OverflowError:
                return None
            return total if total > timedelta(0) else None
    return None


def parse_date(text: str, *, now: datetime, tz: ZoneInfo) -> date | None:
    """A day-first date: "15.05.2027", "15.5.27", "15.05." (next occurrence, today included), "2027-05-15",
    "morgen", "tomorrow", "Montag" (the next one, never today)."""
    today = _local_now(now, tz).date()
    tokens = _tokens(text)
    for spec, end in _day(tokens, 0):
        if end != len(tokens):
            continue
        if spec.offset is None and spec.weekday is None and spec.year is None:
            for year in range(today.year, today.year + 9):
                found = _safe_date(year, spec.month, spec.day)
                if found is not None and found >= today:
                    break
            else:
                found = None
        else:
            found = _resolve_day(spec, today)
        if found is not None and (spec.expected_weekday is None or found.weekday() == spec.expected_weekday):
            return found
    return None


def parse_clock(text: str) -> time | None:
    """ "09:30", "9 Uhr 30", "9.30", "9am", "14h", "halb 10" → time; a bare "9" counts as 09:00."""
    tokens = _tokens(text)
    for clock, end in _clock(tokens, 0, bare_ok=True):
        if end == len(tokens):
            return clock
    return None


# --- formatting -------------------------------------------------------------------------------------------


def format_time(value: time | datetime) -> str:
    """ "09:30"."""
    return f"{value.hour:02d}:{value.minute:02d}"


def format_date(value: date, language: str) -> str:
    """ "Mo, 15.05.2025" / "Mon, 15 May 2025"."""
    lang = normalize_language(language)
    weekday = _WEEKDAY_SHORT[lang][value.weekday()]
    if lang == "en":
        return f"{weekday}, {value.day} {_MONTH_SHORT_EN[value.month - 1]} {value.year}"
    return f"{weekday}, {value.day:02d}.{value.month:02d}.{value.year:04d}"


def format_datetime(dt: datetime, language: str, tz: ZoneInfo | None = None) -> str:
    """ "Mo, 15.05.2025, 09:30" / "Mon, 15 May 2025, 09:30"; converted to tz first when given."""
    if tz is not None and dt.tzinfo is not None:
        dt = dt.astimezone(tz)
    return f"{format_date(dt.date(), language)}, {format_time(dt)}"

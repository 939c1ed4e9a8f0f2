"""The token grammar: text to tokens, and the readings of durations, clock times and days at a position.

Every reader is a generator of ``(value, next position)``, most specific reading first; the phrase parsers
combine them and keep the first reading that covers the whole phrase."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import time

from .vocabulary import (
    AFTER_NEXT_MODIFIERS,
    AM,
    CLOCK_MARKERS,
    DAY_MARKERS,
    DAYTIMES,
    HOUR,
    HOUR_WORDS,
    MERIDIEM_WORDS,
    MINUTE,
    MONTHS,
    NEXT_MODIFIERS,
    NIGHT,
    NUMBER_WORDS,
    ORDINAL_SUFFIXES,
    PHRASE_REWRITES,
    PM,
    SAFE_ABBREVIATIONS,
    THIS_MODIFIERS,
    UNITS,
    WEEKDAY_ABBREVIATIONS,
    WEEKDAYS,
)

# --- tokens -----------------------------------------------------------------------------------------------

_COMPACT_PIECE = re.compile(r"\d+(?:[.:,]\d+)*\.?|[^\d]+")
_HAS_LETTER = re.compile(r"[^\W\d_]")
_ISO_LOCAL = re.compile(r"(\d{4}-\d{1,2}-\d{1,2})t(\d{1,2}:\d{2})(?::00)?")


def tokenize(text: str) -> list[str]:
    """Lower-case words; "9am" / "1h30m" / "14h30" split into number and unit pieces."""
    tokens: list[str] = []
    for raw in unicodedata.normalize("NFC", text).lower().split():
        token = raw.strip("\"'„“”«»()[]").rstrip(",;:!?")
        if token.endswith(".") and token[:-1].isalpha() and token[:-1] not in WEEKDAY_ABBREVIATIONS:
            token = token[:-1]
        if not token:
            continue
        if iso := _ISO_LOCAL.fullmatch(token):  # "2027-12-15T14:00" without an offset
            tokens.extend((iso[1], iso[2]))
        elif token[0].isdecimal() and _HAS_LETTER.search(token):
            for piece in _COMPACT_PIECE.findall(token):
                piece = piece.rstrip(",")
                if piece:  # "5min." ends a sentence, "9a.m." keeps its dots
                    tokens.append(piece if piece in MERIDIEM_WORDS else piece.rstrip("."))
        else:
            tokens.append(token)
    return _rewrite(tokens)


def _rewrite(tokens: list[str]) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(tokens):
        for pattern, replacement in PHRASE_REWRITES.items():
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
    word = NUMBER_WORDS.get(token)
    return float(word) if word is not None else None


def token_at(tokens: Sequence[str], i: int) -> str:
    return tokens[i] if i < len(tokens) else ""


# --- durations --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Duration:
    seconds: int = 0
    days: int = 0
    months: int = 0

    def __add__(self, other: Duration) -> Duration:
        return Duration(self.seconds + other.seconds, self.days + other.days, self.months + other.months)

    @property
    def is_calendar_only(self) -> bool:
        return self.seconds == 0 and (self.days > 0 or self.months > 0)


def _unit_duration(amount: float, unit: str) -> Duration | None:
    found = UNITS.get(unit)
    if found is None or amount <= 0:
        return None
    kind, factor = found
    if kind == "seconds":
        return Duration(seconds=round(amount * factor))
    if amount != int(amount):  # "1,5 Tage": express as elapsed time
        return Duration(seconds=round(amount * factor * 86400)) if kind == "days" else None
    return Duration(days=int(amount) * factor) if kind == "days" else Duration(months=int(amount))


def _duration_part(tokens: Sequence[str], i: int) -> Iterator[tuple[Duration, int]]:
    token = token_at(tokens, i)
    amount = _amount(token)
    if amount is not None:
        part = _unit_duration(amount, token_at(tokens, i + 1))
        if part is not None:
            yield part, i + 2
            # "1h30" / "1 Stunde 30": minutes without a unit after hours
            minutes = _int(token_at(tokens, i + 2))
            if (
                UNITS.get(token_at(tokens, i + 1)) == ("seconds", HOUR)
                and minutes is not None
                and minutes < 60
            ):
                yield part + Duration(seconds=minutes * MINUTE), i + 3
        # "einer halben Stunde"
        if amount == 1 and token_at(tokens, i + 1) in ("halbe", "halben", "halber"):
            half = _unit_duration(0.5, token_at(tokens, i + 2))
            if half is not None:
                yield half, i + 3
    if token in ("anderthalb", "eineinhalb"):
        part = _unit_duration(1.5, token_at(tokens, i + 1))
        if part is not None:
            yield part, i + 2
    if token == "half" and token_at(tokens, i + 1) in ("a", "an"):
        part = _unit_duration(0.5, token_at(tokens, i + 2))
        if part is not None:
            yield part, i + 3


def read_durations(tokens: Sequence[str], i: int) -> Iterator[tuple[Duration, int]]:
    for first, j in _duration_part(tokens, i):
        yield first, j
        k = j + 1 if token_at(tokens, j) in ("und", "and", "&") else j
        for rest, m in read_durations(tokens, k):
            yield first + rest, m


# --- clock times ------------------------------------------------------------------------------------------


def _hour_token(token: str) -> int | None:
    value = _int(token) if len(token) <= 2 else None
    if value is None:
        value = HOUR_WORDS.get(token)
    return value


def _clock_base(tokens: Sequence[str], i: int) -> Iterator[tuple[int, int, bool, int]]:
    """(hour, minute, is_bare_number, next index) before any am/pm word."""
    token = token_at(tokens, i)
    match = re.fullmatch(r"(\d{1,2})[:.](\d{2})", token)
    if match:
        yield int(match[1]), int(match[2]), False, i + 1
        if token_at(tokens, i + 1) in ("uhr", "h"):
            yield int(match[1]), int(match[2]), False, i + 2
        return
    if token in ("mitternacht", "midnight"):
        yield 0, 0, False, i + 1
        return
    if token in ("noon", "midday"):
        yield 12, 0, False, i + 1
        return
    following = _hour_token(token_at(tokens, i + 1))
    if token == "halb" and following is not None:  # "halb 10" is 09:30
        yield (following - 1) % 24, 30, False, i + 2
    if token == "dreiviertel" and following is not None:
        yield (following - 1) % 24, 45, False, i + 2
    if token == "viertel" and token_at(tokens, i + 1) in ("nach", "vor"):
        quarter_hour = _hour_token(token_at(tokens, i + 2))
        if quarter_hour is not None and tokens[i + 1] == "nach":
            yield quarter_hour, 15, False, i + 3
        elif quarter_hour is not None:
            yield (quarter_hour - 1) % 24, 45, False, i + 3
    hour = _hour_token(token)
    if hour is None:
        return
    after = token_at(tokens, i + 1)
    if after in ("uhr", "h"):
        yield hour, 0, False, i + 2
        minute = _int(token_at(tokens, i + 2))
        if minute is not None and minute < 60 and len(tokens[i + 2]) <= 2:
            yield hour, minute, False, i + 3
    elif token.isdecimal():
        yield hour, 0, True, i + 1


def apply_meridiem(hour: int, meridiem: str, *, strict: bool) -> int | None:
    """Shift an hour by am/pm; strict (English am/pm) accepts only 1-12."""
    if strict and not 1 <= hour <= 12:
        return None
    if meridiem == AM:
        if hour > 12:
            return None
        return 0 if hour == 12 and strict else hour
    if meridiem == PM:
        return hour + 12 if 1 <= hour <= 11 else hour
    return hour + 12 if 6 <= hour <= 11 else (0 if hour == 12 else hour)  # night


def _meridiem(tokens: Sequence[str], i: int) -> Iterator[tuple[str, bool, int]]:
    token = token_at(tokens, i)
    if token in MERIDIEM_WORDS:
        yield MERIDIEM_WORDS[token], token in ("am", "pm", "a.m.", "p.m."), i + 1
    if token == "in" and token_at(tokens, i + 1) == "the":
        word = token_at(tokens, i + 2)
        if word in ("morning", "afternoon", "evening"):
            yield DAYTIMES[word][1], False, i + 3
    if token == "at" and token_at(tokens, i + 1) == "night":
        yield NIGHT, False, i + 2


def read_clock(tokens: Sequence[str], i: int, *, bare_ok: bool = False) -> Iterator[tuple[time, int]]:
    marked = token_at(tokens, i) in CLOCK_MARKERS
    start = i + 1 if marked else i
    for hour, minute, bare, j in _clock_base(tokens, start):
        if (marked or bare_ok or not bare) and hour <= 23 and minute <= 59:
            yield time(hour, minute), j
        for meridiem, strict, k in _meridiem(tokens, j):
            shifted = apply_meridiem(hour, meridiem, strict=strict)
            if shifted is not None and shifted <= 23 and minute <= 59:
                yield time(shifted, minute), k


def read_daytime(tokens: Sequence[str], i: int) -> Iterator[tuple[tuple[int, str], int]]:
    token = token_at(tokens, i)
    if token in DAYTIMES:
        yield DAYTIMES[token], i + 1
    if token == "am" and token_at(tokens, i + 1) in ("morgen", "vormittag", "mittag", "nachmittag", "abend"):
        word = token_at(tokens, i + 1)
        yield ((8, AM) if word == "morgen" else DAYTIMES[word]), i + 2
    if token == "in" and token_at(tokens, i + 1) == "the" and token_at(tokens, i + 2) in DAYTIMES:
        yield DAYTIMES[tokens[i + 2]], i + 3


# --- days -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DaySpec:
    """A calendar day: offset from today, a weekday, or a date (year None = next occurrence)."""

    offset: int | None = None
    weekday: int | None = None
    weekday_mode: str = "next"  # next | this | after_next
    year: int | None = None
    month: int = 0
    day: int = 0
    expected_weekday: int | None = None


def _weekday_token(token: str, *, abbreviations: bool) -> int | None:
    if token in WEEKDAYS:
        return WEEKDAYS[token]
    if token.endswith(".") and token[:-1] in WEEKDAY_ABBREVIATIONS:
        return WEEKDAY_ABBREVIATIONS[token[:-1]]
    if token in WEEKDAY_ABBREVIATIONS and (abbreviations or token in SAFE_ABBREVIATIONS):
        return WEEKDAY_ABBREVIATIONS[token]
    return None


def _full_year(text: str | None) -> int | None:
    if not text:
        return None
    value = int(text)
    return 2000 + value if value < 100 else value


def read_day_of_month(tokens: Sequence[str], i: int) -> Iterator[tuple[int, int]]:
    match = re.fullmatch(r"(\d{1,2})\.?", token_at(tokens, i))
    if match:
        yield int(match[1]), i + 1
        if token_at(tokens, i + 1) in ORDINAL_SUFFIXES:
            yield int(match[1]), i + 2


def _year(tokens: Sequence[str], i: int) -> Iterator[tuple[int | None, int]]:
    yield None, i
    if re.fullmatch(r"\d{4}", token_at(tokens, i)):
        yield int(tokens[i]), i + 1


def _date(tokens: Sequence[str], i: int) -> Iterator[tuple[DaySpec, int]]:
    token = token_at(tokens, i)
    if match := re.fullmatch(r"(\d{1,2})\.(\d{1,2})(?:\.(\d{4}|\d{2})?)?", token):
        yield DaySpec(year=_full_year(match[3]), month=int(match[2]), day=int(match[1])), i + 1
    elif match := re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", token):
        yield DaySpec(year=int(match[1]), month=int(match[2]), day=int(match[3])), i + 1
    elif match := re.fullmatch(r"(\d{1,2})/(\d{1,2})(?:/(\d{4}|\d{2}))?", token):
        yield DaySpec(year=_full_year(match[3]), month=int(match[2]), day=int(match[1])), i + 1
    # "15. Dezember 2027", "15th of December"
    for day, j in read_day_of_month(tokens, i):
        j = j + 1 if token_at(tokens, j) == "of" else j
        month = MONTHS.get(token_at(tokens, j).rstrip("."))
        if month is not None:
            for year, k in _year(tokens, j + 1):
                yield DaySpec(year=year, month=month, day=day), k
    # "December 15th, 2027"
    month = MONTHS.get(token.rstrip("."))
    if month is not None:
        for day, j in read_day_of_month(tokens, i + 1):
            for year, k in _year(tokens, j):
                yield DaySpec(year=year, month=month, day=day), k


def read_day(tokens: Sequence[str], i: int, *, marked: bool = False) -> Iterator[tuple[DaySpec, int]]:
    token = token_at(tokens, i)
    if token in DAY_MARKERS and not marked:
        yield from read_day(tokens, i + 1, marked=True)
        if token == "on" and token_at(tokens, i + 1) == "the":
            yield from _date(tokens, i + 2)
        return
    if not marked:
        if token in ("heute", "today"):
            yield DaySpec(offset=0), i + 1
        elif token in ("morgen", "tomorrow", "tmrw"):
            yield DaySpec(offset=1), i + 1
        elif token in ("übermorgen", "uebermorgen"):
            yield DaySpec(offset=2), i + 1
    mode = "next"
    j = i
    if token in NEXT_MODIFIERS | THIS_MODIFIERS | AFTER_NEXT_MODIFIERS:
        mode = (
            "this" if token in THIS_MODIFIERS else "after_next" if token in AFTER_NEXT_MODIFIERS else "next"
        )
        j = i + 1
    weekday = _weekday_token(token_at(tokens, j), abbreviations=False)
    if weekday is not None:
        yield DaySpec(weekday=weekday, weekday_mode=mode), j + 1
    # "Mo, 15.12.2026" as the bot itself writes it: the weekday must match the date
    named = _weekday_token(token, abbreviations=True)
    if named is not None:
        for found, k in _date(tokens, i + 1):
            yield DaySpec(year=found.year, month=found.month, day=found.day, expected_weekday=named), k
    yield from _date(tokens, i)

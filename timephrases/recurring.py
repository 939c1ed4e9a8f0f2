"""Recurring times: "jeden Montag um 9", "every first Tuesday of the month at 10" → APScheduler's cron
fields."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import time

from .grammar import read_clock, read_day_of_month, read_daytime, token_at, tokenize
from .oneoff import leading_starts, strip_fillers, word_spans
from .vocabulary import (
    CRON_WEEKDAYS,
    DEFAULT_TIME,
    MAX_PHRASE_WORDS,
    ORDINAL_SUFFIXES,
    ORDINAL_WORDS,
    WEEKDAY_PLURALS,
    WEEKDAYS,
)

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
    first = table.get(token_at(tokens, i))
    if first is None:
        return
    yield [first], i + 1
    j = i + 2 if token_at(tokens, i + 1) in ("und", "and", "&") else i + 1
    for more, k in _weekday_list(tokens, j, table):
        yield [first, *more], k


def _weekly(days: list[int]) -> _Schedule:
    names = ",".join(CRON_WEEKDAYS[day] for day in sorted(set(days)))
    return _Schedule("weekly", (("day_of_week", names),))


def _ordinal(tokens: Sequence[str], i: int) -> Iterator[tuple[str, int]]:
    token = token_at(tokens, i)
    if token in ORDINAL_WORDS:
        yield ORDINAL_WORDS[token], i + 1
    if token_at(tokens, i + 1) in ORDINAL_SUFFIXES and token in ("1", "2", "3", "4", "5"):
        yield ORDINAL_WORDS[token + "."], i + 2


def _month_day(tokens: Sequence[str], i: int) -> Iterator[tuple[str, int]]:
    for day, j in read_day_of_month(tokens, i):
        if 1 <= day <= 31 and (token_at(tokens, i).endswith(".") or j == i + 2):
            yield str(day), j
    token = token_at(tokens, i)
    if token in ORDINAL_WORDS and not token[0].isdecimal():
        value = ORDINAL_WORDS[token]
        yield ("last" if value == "last" else value[0]), i + 1


def _schedule(tokens: Sequence[str], i: int) -> Iterator[tuple[_Schedule, int]]:
    for words, schedule in _FIXED_SCHEDULES.items():
        if tuple(tokens[i : i + len(words)]) == words:
            yield schedule, i + len(words)
    token = token_at(tokens, i)
    # plural weekdays: "montags und donnerstags", "on mondays"
    j = i + 1 if token == "on" else i
    for days, k in _weekday_list(tokens, j, WEEKDAY_PLURALS):
        yield _weekly(days), k
    if token in ("wöchentlich", "woechentlich", "weekly"):
        j = i + 2 if token_at(tokens, i + 1) in ("am", "on") else i + 1
        for days, k in _weekday_list(tokens, j, WEEKDAYS):
            yield _weekly(days), k
    if token in _EVERY:
        for days, k in _weekday_list(tokens, i + 1, WEEKDAYS):
            yield _weekly(days), k
        for ordinal, j in _ordinal(tokens, i + 1):
            weekday = WEEKDAYS.get(token_at(tokens, j))
            if weekday is not None:
                day_field = (("day", f"{ordinal} {CRON_WEEKDAYS[weekday]}"),)
                yield _Schedule("monthly_weekday", day_field), j + 1
                for k in _month_suffix(tokens, j + 1):
                    yield _Schedule("monthly_weekday", day_field), k
        for day, j in _month_day(tokens, i + 1):
            for k in _month_suffix(tokens, j):
                yield _Schedule("monthly_day", (("day", day),)), k
        # "jeden Monat am 15.", "every month on the 15th"
        if token_at(tokens, i + 1) in ("monat", "month"):
            j = i + 2
            j += 1 if token_at(tokens, j) in ("am", "on") else 0
            j += 1 if token_at(tokens, j) == "the" else 0
            for day, k in _month_day(tokens, j):
                yield _Schedule("monthly_day", (("day", day),)), k
    if token in ("monatlich", "monthly"):
        j = i + 1 + (token_at(tokens, i + 1) in ("am", "on"))
        j += 1 if token_at(tokens, j) == "the" else 0
        for day, k in _month_day(tokens, j):
            yield _Schedule("monthly_day", (("day", day),)), k
    if token in ("am", "on"):
        j = i + 2 if token_at(tokens, i + 1) == "the" else i + 1
        for ordinal, k in _ordinal(tokens, j):
            weekday = WEEKDAYS.get(token_at(tokens, k))
            if weekday is not None:
                for m in _month_suffix(tokens, k + 1):
                    yield _Schedule("monthly_weekday", (("day", f"{ordinal} {CRON_WEEKDAYS[weekday]}"),)), m
        for day, k in _month_day(tokens, j):
            for m in _month_suffix(tokens, k):
                yield _Schedule("monthly_day", (("day", day),)), m


def _recurrence_readings(tokens: Sequence[str]) -> Iterator[tuple[_Schedule, time]]:
    end = len(tokens)
    for schedule, j in _schedule(tokens, 0):
        if j == end:
            yield schedule, DEFAULT_TIME
        for clock, k in read_clock(tokens, j):
            if k == end:
                yield schedule, clock
        for daytime, k in read_daytime(tokens, j):
            if k == end:
                yield schedule, time(daytime[0])
    for clock, j in read_clock(tokens, 0):
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
    spans = word_spans(text)
    for start in leading_starts(text, spans):
        for end in range(min(len(spans), start + MAX_PHRASE_WORDS), start, -1):
            found = _recurrence_of(tokenize(text[spans[start][0] : spans[end - 1][1]]))
            if found is not None:
                return found, strip_fillers(text[spans[end - 1][1] :], language)
    return None

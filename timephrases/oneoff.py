"""One-off times: "morgen 9 Uhr", "in 10 Minuten", "am 15.12. um 14:30" → an aware datetime; single fields
(durations, dates, clock times) for command arguments."""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from .grammar import (
    DaySpec,
    Duration,
    apply_meridiem,
    read_clock,
    read_day,
    read_daytime,
    read_durations,
    token_at,
    tokenize,
)
from .vocabulary import (
    AM,
    DEFAULT_TIME,
    FILLERS_DE,
    FILLERS_EN,
    MAX_FALLBACK_WORDS,
    MAX_PHRASE_WORDS,
    TRAILING_PHRASE_STARTS,
    language_of,
)

# --- phrases ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Phrase:
    day: DaySpec | None = None
    clock: time | None = None
    relative: Duration | None = None


def _with_daytime(clock: time, daytime: tuple[int, str]) -> time | None:
    hour = apply_meridiem(clock.hour, daytime[1], strict=False)
    return None if hour is None or hour > 23 else time(hour, clock.minute)


def _phrases(tokens: Sequence[str]) -> Iterator[_Phrase]:
    """Every reading of the whole token list, most specific first."""
    end = len(tokens)
    if token_at(tokens, 0) == "in":
        for duration, j in read_durations(tokens, 1):
            if j == end:
                yield _Phrase(relative=duration)
            if duration.is_calendar_only:
                for clock, k in read_clock(tokens, j):
                    if k == end:
                        yield _Phrase(relative=duration, clock=clock)
    for day, j in read_day(tokens, 0):
        if j == end:
            yield _Phrase(day=day)
        for clock, k in read_clock(tokens, j):
            if k == end:
                yield _Phrase(day=day, clock=clock)
        is_today = day.offset == 0
        daytimes = list(read_daytime(tokens, j))
        if is_today and token_at(tokens, j) == "morgen":  # "heute morgen" is this morning
            daytimes.append(((8, AM), j + 1))
        for daytime, k in daytimes:
            if k == end:
                yield _Phrase(day=day, clock=time(daytime[0]))
            for clock, m in read_clock(tokens, k, bare_ok=True):
                shifted = _with_daytime(clock, daytime)
                if m == end and shifted is not None:
                    yield _Phrase(day=day, clock=shifted)
    for clock, j in read_clock(tokens, 0):
        if j == end:
            yield _Phrase(clock=clock)
        for day, k in read_day(tokens, j):
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


def _resolve_day(spec: DaySpec, today: date) -> date | None:
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


def _next_date_occurrence(spec: DaySpec, clock: time, now: datetime, tz: ZoneInfo) -> datetime | None:
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
    languages = ["en", "de"] if language_of(language) == "en" else ["de", "en"]
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
    result = _parse_tokens(tokenize(text), local_now, tz)
    if result is None and text.strip():
        result = _dateparser_fallback(text.strip(), local_now, tz, language)
    return result


def strip_fillers(text: str, language: str) -> str:
    fillers = FILLERS_EN + (FILLERS_DE[:-1] if language_of(language) == "en" else FILLERS_DE)
    text = re.sub(r"^(?:[,:;–—]|-(?=\s))+", "", text.strip()).strip()
    for _ in range(2):  # "daran, dass …"
        lowered = text.lower()
        for filler in fillers:
            if re.match(rf"{filler}(?:\s*,\s*|\s+|$)", lowered):
                text = re.sub(rf"^{filler}\s*,?\s*", "", text, flags=re.IGNORECASE)
                break
    return text.strip()


def word_spans(text: str) -> list[tuple[int, int]]:
    return [match.span() for match in re.finditer(r"\S+", text)]


def leading_starts(words: str, spans: Sequence[tuple[int, int]]) -> list[int]:
    """Word indexes where the time may start: after "mich"/"me" first, else at the beginning."""
    if spans and tokenize(words[spans[0][0] : spans[0][1]]) in (["mich"], ["uns"], ["me"], ["us"]):
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
    spans = word_spans(words)
    starts = leading_starts(words, spans)

    def phrase(first: int, last: int) -> str:
        return words[spans[first][0] : spans[last - 1][1]]

    def rest_after(last: int) -> str:
        return strip_fillers(words[spans[last - 1][1] :], language)

    for start in starts:
        for end in range(min(len(spans), start + MAX_PHRASE_WORDS), start, -1):
            found = _parse_tokens(tokenize(phrase(start, end)), local_now, tz)
            if found is not None:
                return found, rest_after(end)
    for start in starts:
        for end in range(min(len(spans), start + MAX_FALLBACK_WORDS), start, -1):
            candidate = phrase(start, end)
            last_word = tokenize(words[spans[end - 1][0] : spans[end - 1][1]])
            if last_word and last_word[-1] in FILLERS_DE + FILLERS_EN:
                continue
            found = _dateparser_fallback(candidate, local_now, tz, language)
            if found is not None:
                return found, rest_after(end)
    start = starts[0]
    for begin in range(start + 1, len(spans)):
        first_tokens = tokenize(words[spans[begin][0] : spans[begin][1]])
        if not first_tokens or first_tokens[0] not in TRAILING_PHRASE_STARTS:
            continue
        found = _parse_tokens(tokenize(words[spans[begin][0] :]), local_now, tz)
        if found is not None:
            return found, strip_fillers(words[spans[start][0] : spans[begin][0]], language)
    return None


# --- public API: single fields ----------------------------------------------------------------------------


def parse_duration(text: str) -> timedelta | None:
    """ "7m", "1h30m", "30 Minuten", "2 hours", "eine halbe Stunde" → timedelta; None for junk or ≤ 0."""
    tokens = tokenize(text)
    if not tokens:
        return None
    for duration, end in read_durations(tokens, 0):
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
    tokens = tokenize(text)
    for spec, end in read_day(tokens, 0):
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
    tokens = tokenize(text)
    for clock, end in read_clock(tokens, 0, bare_ok=True):
        if end == len(tokens):
            return clock
    return None

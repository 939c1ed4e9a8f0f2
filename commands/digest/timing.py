"""When digests are due: the ``[digest] schedule`` cron string, and month names typed by moderators.

Pure functions (no database, no Matrix), tested in ``tests/unit/test_digest_timing.py``.

Cron semantics. The schedule is ``minute hour day month day_of_week`` (optionally preceded by a seconds
field), evaluated by APScheduler's :class:`CronTrigger`. Unlike classic Vixie cron, APScheduler requires
*every* field to match: ``0 9 1-7 * mon`` means "a Monday among the days 1–7", i.e. the first Monday of the
month (Vixie cron would fire on the days 1–7 *and* on every Monday). Two more pitfalls are handled here:

- numeric weekdays follow crontab numbering (0 or 7 = Sunday, 1 = Monday …), not APScheduler 3's
  (0 = Monday); they are translated to names, so ``0 9 1-7 * 1`` is the first Monday too;
- APScheduler's positional day expressions contain a space (``1st mon``, ``last fri``); in the day field
  they may be written with an underscore instead: ``0 9 1st_mon * *``.
"""

from __future__ import annotations

import re
from datetime import date, datetime, tzinfo

from apscheduler.triggers.cron import CronTrigger

from commands.digest.compose import month_bounds

FIELDS = ("minute", "hour", "day", "month", "day_of_week")
_WEEKDAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _crontab_weekdays(expression: str) -> str:
    """Numbers in a day-of-week field (0/7 = Sunday) as names; ranges that wrap over Sunday are split."""

    def item(part: str) -> str:
        step = ""
        if "/" in part:
            part, step_value = part.split("/", 1)
            step = "/" + step_value
        if re.fullmatch(r"[0-7]", part):
            return _WEEKDAY_NAMES[int(part)] + step
        match = re.fullmatch(r"([0-7])-([0-7])", part)
        if match:
            start, end = int(match.group(1)), int(match.group(2))
            if end == 7:
                end_name = "sun"
                if start == 0:
                    return "*" + step
                # "1-7" is Monday through Sunday: APScheduler's week runs mon..sun, so this stays one range.
                return f"{_WEEKDAY_NAMES[start]}-{end_name}{step}"
            if start == 0:
                # Sunday first: APScheduler's week ends on Sunday, so split "0-3" into "sun,mon-wed".
                if step:
                    raise ValueError(f"cannot combine a step with a range starting on Sunday: {part}{step}")
                return "sun" if end == 0 else f"sun,mon-{_WEEKDAY_NAMES[end]}"
            if start > end:
                raise ValueError(f"weekday range {part} runs backwards")
            return f"{_WEEKDAY_NAMES[start]}-{_WEEKDAY_NAMES[end]}{step}"
        return part + step

    return ",".join(item(part) for part in expression.split(","))


def cron_fields(schedule: str) -> dict[str, str]:
    """The schedule string as keyword arguments for :class:`CronTrigger` (raises ValueError when invalid)."""
    values = schedule.split()
    if len(values) not in (5, 6):
        raise ValueError(
            "expected 5 fields (minute hour day month day_of_week) or 6 (with seconds first), "
            f"got {len(values)}"
        )
    names = FIELDS if len(values) == 5 else ("second", *FIELDS)
    fields = dict(zip(names, values, strict=True))
    fields["day"] = fields["day"].replace("_", " ")
    fields["day_of_week"] = _crontab_weekdays(fields["day_of_week"].lower())
    # Constructing the trigger validates every field.
    CronTrigger(**fields)
    return fields


def trigger_for(schedule: str, tz: tzinfo) -> CronTrigger:
    return CronTrigger(**cron_fields(schedule), timezone=tz)


def first_run_in_month(schedule: str, tz: tzinfo, day: date) -> datetime | None:
    """The first scheduled time in the month of ``day`` (local), or None if there is none that month."""
    start, end = month_bounds(day, tz)
    first: datetime | None = trigger_for(schedule, tz).get_next_fire_time(None, start)
    if first is None or first >= end:
        return None
    return first


def due_run(schedule: str, tz: tzinfo, now: datetime) -> datetime | None:
    """The scheduled time this month at which the digest became due, if it lies in the past (else None).

    The digest of a month is posted at the first scheduled time of the following month; later runs in the
    same month find it posted and do nothing."""
    local_now = now.astimezone(tz)
    first = first_run_in_month(schedule, tz, local_now.date())
    if first is None or first > now:
        return None
    return first


def next_run(schedule: str, tz: tzinfo, now: datetime) -> datetime | None:
    result: datetime | None = trigger_for(schedule, tz).get_next_fire_time(None, now)
    return result


# --- months typed by moderators ---------------------------------------------------------------------------

_MONTH_WORDS: dict[str, int] = {}
for _number, _names in enumerate(
    (
        ("januar", "jänner", "january", "jan", "jän"),
        ("februar", "february", "feb"),
        ("märz", "maerz", "march", "mär", "mar", "mrz"),
        ("april", "apr"),
        ("mai", "may"),
        ("juni", "june", "jun"),
        ("juli", "july", "jul"),
        ("august", "aug"),
        ("september", "sept", "sep"),
        ("oktober", "october", "okt", "oct"),
        ("november", "nov"),
        ("dezember", "december", "dez", "dec"),
    ),
    start=1,
):
    for _name in _names:
        _MONTH_WORDS[_name] = _number

_RELATIVE = {
    "letzter": -1,
    "letzten": -1,
    "vormonat": -1,
    "last": -1,
    "previous": -1,
    "dieser": 0,
    "diesen": 0,
    "aktuell": 0,
    "this": 0,
    "current": 0,
    "nächster": 1,
    "nächsten": 1,
    "naechster": 1,
    "next": 1,
}


def _shift(month: date, months: int) -> date:
    index = month.year * 12 + month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def parse_month(text: str, today: date) -> date | None:
    """A month as typed: ``2026-11``, ``11/2026``, ``November 2026``, ``Nov``, ``11``, ``letzter``.

    Without a year, the most recent such month that is not after the current one is meant (in January,
    "Dezember" is the December just past). Returns the first day of the month, or None."""
    words = text.strip().casefold().replace(",", " ").split()
    if not words:
        return None
    current = today.replace(day=1)
    if words[0] in _RELATIVE and (len(words) == 1 or words[1:] in (["monat"], ["month"])):
        return _shift(current, _RELATIVE[words[0]])
    joined = " ".join(words)
    match = re.fullmatch(r"(\d{4})-(\d{1,2})", joined)
    if match:
        return _valid(int(match.group(1)), int(match.group(2)))
    match = re.fullmatch(r"(\d{1,2})\s*[./]\s*(\d{2}|\d{4})", joined)
    if match:
        year = int(match.group(2))
        return _valid(year + 2000 if year < 100 else year, int(match.group(1)))
    name = words[0].rstrip(".")
    month_number = _MONTH_WORDS.get(name)
    if month_number is None and re.fullmatch(r"\d{1,2}\.?", words[0]):
        month_number = int(words[0].rstrip("."))
        if not 1 <= month_number <= 12:
            return None
    if month_number is None:
        return None
    if len(words) == 1:
        year = current.year if month_number <= current.month else current.year - 1
        return date(year, month_number, 1)
    if len(words) == 2 and re.fullmatch(r"\d{4}", words[1]):
        return date(int(words[1]), month_number, 1)
    return None


def _valid(year: int, month: int) -> date | None:
    if 1 <= month <= 12 and 2000 <= year <= 2999:
        return date(year, month, 1)
    return None

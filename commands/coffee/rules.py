"""Pure decisions of NExT-Kaffee (no Matrix, no database): schedule weeks, rhythm, pause, "paired less often".

Tested in ``tests/unit/test_coffee_rules.py``; the reasons are in docs/coffee.md.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, tzinfo

from commands.coffee.status import Answer
from commands.digest.timing import trigger_for

RHYTHMS = (2, 4)
# A rhythm of n weeks is due when the last pairing is at least n weeks minus this long ago: runs drift (a late
# run after downtime, a manual run), and "every 2 weeks" on a bi-weekly schedule must mean every run.
RHYTHM_SLACK = timedelta(days=4)
# After this many follow-ups in a row without a meeting, a member sits out every other run they are due for.
MISSES_BEFORE_SKIPPING = 2

_RHYTHM_WORDS = {
    "zweiwöchentlich": 2,
    "zweiwoechentlich": 2,
    "14-tägig": 2,
    "14-taegig": 2,
    "biweekly": 2,
    "fortnightly": 2,
    "vierwöchentlich": 4,
    "vierwoechentlich": 4,
    "monatlich": 4,
    "monthly": 4,
}
_FILLERS = {"alle", "all", "every", "wochen", "woche", "weeks", "week", "rhythmus", "rhythm"}


def parse_rhythm(text: str) -> int | None:
    """``alle 2 Wochen``, ``every 4 weeks``, ``4``, ``monatlich`` → 2 or 4; None when it is not a rhythm."""
    words = [word for word in re.split(r"[\s,]+", text.strip().casefold()) if word]
    if len(words) == 1 and words[0] in _RHYTHM_WORDS:
        return _RHYTHM_WORDS[words[0]]
    numbers = [word for word in words if word not in _FILLERS]
    if len(numbers) != 1 or not numbers[0].isdigit():
        return None
    weeks = int(numbers[0])
    return weeks if weeks in RHYTHMS else None


def week_index(day: date, anchor: date) -> int:
    """Whole weeks from the Monday of ``anchor``'s week to the Monday of ``day``'s week."""
    monday = day - timedelta(days=day.weekday())
    anchor_monday = anchor - timedelta(days=anchor.weekday())
    return (monday - anchor_monday).days // 7


def is_run_week(day: date, every_weeks: int, anchor: date) -> bool:
    """Whether runs happen in the (local) week of ``day``: every ``every_weeks``-th week from ``anchor``.

    Counting from an anchor instead of ISO week parity keeps the rhythm across years with 53 ISO weeks."""
    return week_index(day, anchor) % every_weeks == 0


def scheduled_runs(
    schedule: str, tz: tzinfo, every_weeks: int, anchor: date, start: datetime, end: datetime
) -> list[datetime]:
    """The run times in ``[start, end]``: the cron schedule's times in run weeks only."""
    trigger = trigger_for(schedule, tz)
    found: list[datetime] = []
    moment: datetime | None = trigger.get_next_fire_time(None, start)
    for _ in range(10_000):  # a cron firing every minute still ends: the window is a few days at most
        if moment is None or moment > end:
            break
        if is_run_week(moment.astimezone(tz).date(), every_weeks, anchor):
            found.append(moment)
        moment = trigger.get_next_fire_time(moment, moment + timedelta(seconds=1))
    return found


def due_run(
    schedule: str, tz: tzinfo, every_weeks: int, anchor: date, now: datetime, catch_up: timedelta
) -> datetime | None:
    """The latest run time in the last ``catch_up`` (up to ``now``): the run to catch up at start, if any."""
    runs = scheduled_runs(schedule, tz, every_weeks, anchor, now - catch_up, now)
    return runs[-1] if runs else None


def is_paused(paused: bool, paused_until: date | None, today: date) -> bool:
    """Paused without a date: until ``!kaffee weiter``; with a date: up to and including that day."""
    if paused_until is not None:
        return today <= paused_until
    return paused


def rhythm_due(weeks: int, last_paired: datetime | None, run_at: datetime) -> bool:
    return last_paired is None or run_at - last_paired >= timedelta(weeks=weeks) - RHYTHM_SLACK


def sits_out(misses: int, skipped_last: bool) -> bool:
    """The "paired less often" rule: after two follow-ups in a row without a meeting, every other due run."""
    return misses >= MISSES_BEFORE_SKIPPING and not skipped_last


def misses_after(misses: int, answer: Answer | None) -> int:
    """A follow-up that ends with "we met" resets the count; no answer, "no" and "not yet" add one."""
    return 0 if answer is Answer.YES else misses + 1

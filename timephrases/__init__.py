"""Natural-language times (German and English) and how the bot shows dates and times.

Pure logic: nothing here talks to Matrix or the database, or imports the bot.

Parsing is a small token grammar of our own, because dateparser gets the everyday German forms wrong ("morgen
9 Uhr" keeps the current clock time, "9 Uhr" becomes the 9th of the month, "am Montag um 9:00" is None). The
grammar covers relative times ("in 10 Minuten"), day words, weekdays, day-first dates, clock times and times
of day; dateparser is only the fallback for phrases the grammar does not know ("nächste Woche",
"2027-12-15T14:00"), and its answers are accepted only if they lie in the future.

Day offsets are computed on local calendar dates and the wall-clock time is attached with zoneinfo afterwards,
so "morgen 9 Uhr" is 09:00 local on both sides of a DST change; "in 2 Stunden" is elapsed time instead.

- ``vocabulary``: the words (weekdays, months, numbers, units, markers)
- ``grammar``: tokens and the readings of durations, clock times and days
- ``oneoff``: one-off times and single fields (``parse_when``, ``split_time_and_text``, ``parse_duration``…)
- ``recurring``: recurring times as cron fields (``parse_recurring``)
- ``formatting``: dates, times and recurrences as text
"""

from .formatting import describe_recurrence, format_date, format_datetime, format_time, format_when
from .oneoff import parse_clock, parse_date, parse_duration, parse_when, split_time_and_text
from .recurring import Recurrence, parse_recurring
from .vocabulary import DEFAULT_TIME

__all__ = [
    "DEFAULT_TIME",
    "Recurrence",
    "describe_recurrence",
    "format_date",
    "format_datetime",
    "format_time",
    "format_when",
    "parse_clock",
    "parse_date",
    "parse_duration",
    "parse_recurring",
    "parse_when",
    "split_time_and_text",
]

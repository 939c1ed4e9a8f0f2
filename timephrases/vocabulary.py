"""The words of German and English time phrases: weekdays, months, numbers, units, markers."""

from __future__ import annotations

from datetime import time

DEFAULT_TIME = time(9, 0)
# The languages whose phrases and display texts this package knows; anything else is read as German.
LANGUAGES = ("de", "en")


def language_of(value: str | None) -> str:
    """ "en", "en-GB", "EN" → "en"; unknown or missing → "de" (the network's language)."""
    code = (value or "").strip().lower()[:2]
    return code if code in LANGUAGES else "de"


# --- vocabulary (locale data) -----------------------------------------------------------------------------

WEEKDAYS: dict[str, int] = {
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
WEEKDAY_ABBREVIATIONS: dict[str, int] = {
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
SAFE_ABBREVIATIONS = frozenset({"mo", "di", "mi", "fr", "mon", "tue", "tues", "thu", "thur", "thurs", "fri"})
WEEKDAY_PLURALS: dict[str, int] = {
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
CRON_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

MONTHS: dict[str, int] = {
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

HOUR_WORDS: dict[str, int] = {
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
NUMBER_WORDS: dict[str, int] = {
    **HOUR_WORDS,
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

_SECOND, MINUTE, HOUR = 1, 60, 3600
# unit word -> (field, multiplier); fields: seconds (elapsed time), days (calendar days), months
UNITS: dict[str, tuple[str, int]] = {
    **dict.fromkeys(
        ("s", "sec", "secs", "sek", "second", "seconds", "sekunde", "sekunden"), ("seconds", _SECOND)
    ),
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes", "minuten", "minütchen"), ("seconds", MINUTE)),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours", "std", "stunde", "stunden"), ("seconds", HOUR)),
    **dict.fromkeys(("d", "day", "days", "tag", "tage", "tagen"), ("days", 1)),
    **dict.fromkeys(("w", "wk", "wks", "week", "weeks", "woche", "wochen"), ("days", 7)),
    **dict.fromkeys(("monat", "monate", "monaten", "month", "months"), ("months", 1)),
}

CLOCK_MARKERS = frozenset({"um", "at", "gegen", "@"})
DAY_MARKERS = frozenset({"am", "on"})
NEXT_MODIFIERS = frozenset(
    {"nächsten", "nächster", "nächste", "naechsten", "naechster", "naechste", "kommenden", "kommender"}
    | {"kommende", "next", "coming"}
)
THIS_MODIFIERS = frozenset({"diesen", "dieser", "diese", "diesem", "this"})
AFTER_NEXT_MODIFIERS = frozenset({"übernächsten", "übernächster", "uebernaechsten", "uebernaechster"})

# Meridiem words after a clock time: "9 Uhr abends", "9pm", "2 Uhr nachts".
AM, PM, NIGHT = "am", "pm", "night"
MERIDIEM_WORDS: dict[str, str] = {
    "am": AM,
    "a.m.": AM,
    "morgens": AM,
    "früh": AM,
    "frueh": AM,
    "vormittags": AM,
    "pm": PM,
    "p.m.": PM,
    "mittags": PM,
    "nachmittags": PM,
    "abends": PM,
    "nachts": NIGHT,
}
# A time of day without a clock ("morgen früh", "heute Abend"): default hour and how it shifts a later clock.
DAYTIMES: dict[str, tuple[int, str]] = {
    "früh": (8, AM),
    "frueh": (8, AM),
    "morgens": (8, AM),
    "morning": (8, AM),
    "vormittag": (10, AM),
    "vormittags": (10, AM),
    "mittag": (12, PM),
    "mittags": (12, PM),
    "noon": (12, PM),
    "midday": (12, PM),
    "nachmittag": (15, PM),
    "nachmittags": (15, PM),
    "afternoon": (15, PM),
    "abend": (19, PM),
    "abends": (19, PM),
    "evening": (19, PM),
    "nacht": (22, NIGHT),
    "nachts": (22, NIGHT),
    "night": (22, NIGHT),
}
# Whole-token rewrites applied before parsing.
PHRASE_REWRITES: dict[tuple[str, ...], tuple[str, ...]] = {
    ("tonight",): ("heute", "abend"),
    ("this", "morning"): ("heute", "früh"),
    ("this", "afternoon"): ("heute", "nachmittag"),
    ("this", "evening"): ("heute", "abend"),
    ("the", "day", "after", "tomorrow"): ("übermorgen",),
    ("day", "after", "tomorrow"): ("übermorgen",),
    ("o'clock",): ("uhr",),
    ("oclock",): ("uhr",),
}

ORDINAL_WORDS: dict[str, str] = {
    **dict.fromkeys(("erste", "ersten", "erster", "first", "1."), "1st"),
    **dict.fromkeys(("zweite", "zweiten", "zweiter", "second", "2."), "2nd"),
    **dict.fromkeys(("dritte", "dritten", "dritter", "third", "3."), "3rd"),
    **dict.fromkeys(("vierte", "vierten", "vierter", "fourth", "4."), "4th"),
    **dict.fromkeys(("fünfte", "fünften", "fünfter", "fuenften", "fifth", "5."), "5th"),
    **dict.fromkeys(("letzte", "letzten", "letzter", "last"), "last"),
}
ORDINAL_SUFFIXES = frozenset({"st", "nd", "rd", "th"})

_LEADING_PRONOUNS = frozenset({"mich", "uns", "me", "us"})
TRAILING_PHRASE_STARTS = frozenset(
    {"in", "at", "on", "um", "am", "gegen", "morgen", "tomorrow", "heute", "today", "übermorgen", "tonight"}
    | NEXT_MODIFIERS
    | THIS_MODIFIERS
)
MAX_PHRASE_WORDS = 12
MAX_FALLBACK_WORDS = 6
FILLERS_DE = ("daran", "dass", "an")
FILLERS_EN = ("about", "that", "to")

"""Pure helpers of the networking feature (no Matrix, no database): options, timers, history, starters."""

from __future__ import annotations

import random
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from timephrases import parse_duration

DEFAULT_STARTERS = Path(__file__).with_name("starters.toml")
GROUP_WORDS = {"gruppen", "gruppe", "gruppengröße", "groups", "group", "size", "größe"}
ALLOWED_GROUP_SIZES = (2, 3, 4)
MIN_ROUND = timedelta(seconds=10)
MAX_ROUND = timedelta(hours=2)
# Meetings of the running block get values above every timestamp, so they are the most recent rounds.
BLOCK_OFFSET = 10**12


class OptionError(ValueError):
    """Bad ``!runde start`` options; ``key`` is the catalog message, ``value`` the offending word."""

    def __init__(self, key: str, value: str = "") -> None:
        super().__init__(key)
        self.key = key
        self.value = value


@dataclass(frozen=True)
class StartOptions:
    duration: timedelta | None = None
    group_size: int | None = None


def parse_start_options(text: str) -> StartOptions:
    """``7m``, ``gruppen 3``, ``groups 4``, ``3er``, in any order; missing parts stay ``None``."""
    words = text.replace(",", " ").split()
    duration: timedelta | None = None
    group_size: int | None = None
    index = 0
    while index < len(words):
        word = words[index]
        folded = word.casefold()
        if folded in GROUP_WORDS or folded.rstrip(":=") in GROUP_WORDS:
            if index + 1 >= len(words):
                raise OptionError("networking_error_group_size", word)
            group_size = _group_size(words[index + 1])
            index += 2
            continue
        if folded.startswith(("gruppen=", "groups=")):
            group_size = _group_size(folded.split("=", 1)[1])
            index += 1
            continue
        if folded.endswith("er") and folded[:-2].isdigit():  # "3er" (Dreiergruppen)
            group_size = _group_size(folded[:-2])
            index += 1
            continue
        # A duration may be one word ("7m") or two ("7 Minuten").
        parsed = None
        taken = 0
        for span in (2, 1):
            if index + span <= len(words):
                parsed = parse_duration(" ".join(words[index : index + span]))
                if parsed is not None:
                    taken = span
                    break
        if parsed is None:
            raise OptionError("networking_error_option", word)
        if not MIN_ROUND <= parsed <= MAX_ROUND:
            raise OptionError("networking_error_duration", " ".join(words[index : index + taken]))
        duration = parsed
        index += taken
    return StartOptions(duration, group_size)


def _group_size(word: str) -> int:
    if word.isdigit() and int(word) in ALLOWED_GROUP_SIZES:
        return int(word)
    raise OptionError("networking_error_group_size", word)


def warning_offset(duration: timedelta) -> timedelta:
    """How long after the start the warning goes out: one minute before the end, at half time if shorter
    than two minutes."""
    if duration >= timedelta(minutes=2):
        return duration - timedelta(minutes=1)
    return duration / 2


def ordered_pair(first: str, second: str) -> tuple[str, str]:
    return (first, second) if first < second else (second, first)


@dataclass(frozen=True)
class PastMeeting:
    user_a: str
    user_b: str
    met_at: datetime
    block_id: int | None = None
    round_number: int | None = None


def build_history(meetings: Iterable[PastMeeting], block_id: int | None = None) -> dict[frozenset[str], int]:
    """History for the matcher: timestamps, or for rounds of ``block_id`` a value above every timestamp.

    Every pair of one round carries the same value (rounds store their start as ``met_at``); the running
    block's rounds come last, so the matcher sees them as the most recent run and continues its schedule."""
    history: dict[frozenset[str], int] = {}
    for meeting in meetings:
        if block_id is not None and meeting.block_id == block_id and meeting.round_number is not None:
            value = BLOCK_OFFSET + meeting.round_number
        else:
            value = int(meeting.met_at.timestamp())
        pair = frozenset((meeting.user_a, meeting.user_b))
        if len(pair) == 2 and value > history.get(pair, -1):
            history[pair] = value
    return history


def new_contacts(block_pairs: Iterable[tuple[str, str]], earlier_pairs: Iterable[tuple[str, str]]) -> int:
    """Distinct pairs of a block that had not met before it."""
    before = {frozenset(pair) for pair in earlier_pairs}
    return len({frozenset(pair) for pair in block_pairs} - before)


def rooms_overlap(first: Iterable[str], second: Iterable[str]) -> list[str]:
    """Rooms both requests may use, in the order of ``first``."""
    other = set(second)
    return [room for room in first if room in other]


@dataclass(frozen=True)
class Contact:
    user_id: str
    last_met: datetime
    times: int


def contacts_of(user_id: str, meetings: Iterable[PastMeeting]) -> list[Contact]:
    """Everyone ``user_id`` met, most recent first, with the number of meetings."""
    last: dict[str, datetime] = {}
    count: dict[str, int] = {}
    for meeting in meetings:
        if user_id not in (meeting.user_a, meeting.user_b) or meeting.user_a == meeting.user_b:
            continue
        other = meeting.user_b if meeting.user_a == user_id else meeting.user_a
        count[other] = count.get(other, 0) + 1
        if other not in last or meeting.met_at > last[other]:
            last[other] = meeting.met_at
    return sorted(
        (Contact(other, last[other], count[other]) for other in last),
        key=lambda contact: (-contact.last_met.timestamp(), contact.user_id),
    )


# --- conversation starters ----------------------------------------------------------------------------------


def load_starters(path: Path | None = None) -> dict[str, list[str]]:
    """Starters per language from TOML (``de = [...]``, ``en = [...]``) or a text file (one per line, used for
    every language). Falls back to the shipped list for a language the file does not cover."""
    shipped = _read_toml(DEFAULT_STARTERS)
    if path is None:
        return shipped
    if path.suffix.casefold() == ".toml":
        custom = _read_toml(path)
    else:
        lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
        entries = [line for line in lines if line and not line.startswith("#")]
        custom = {"de": entries, "en": entries}
    return {language: custom.get(language) or shipped.get(language, []) for language in ("de", "en")}


def _read_toml(path: Path) -> dict[str, list[str]]:
    with path.open("rb") as handle:
        data = tomllib.load(handle)
    result: dict[str, list[str]] = {}
    for language, entries in data.items():
        if isinstance(entries, list):
            result[language] = [str(entry).strip() for entry in entries if str(entry).strip()]
    return result


def pick_starter(starters: Mapping[str, list[str]], language: str, rng: random.Random | None = None) -> str:
    entries = starters.get(language) or starters.get("de") or []
    if not entries:
        return ""
    return (rng or random).choice(entries)

"""Verwaltungsbingo game logic: prompt pool, cards and field names (lines and standings: ``scoring``).

Everything here is plain data in, plain data out. Positions are ``(row, col)`` tuples counted from 0; the
field name shown to people is column letter + row number (``A1`` top left, ``E5`` bottom right of a 5×5
card). Confirmed and pending fields are sets of positions that the command layer keeps in the database.
"""

from __future__ import annotations

import random
import re
import tomllib
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from bot.format import esc
from bot.i18n import Translate

Position = tuple[int, int]
LineKind = Literal["row", "column", "diagonal"]

MIN_CARD_SIZE = 3
MAX_CARD_SIZE = 5
# Only the 5×5 card gets a free centre, as on classic bingo cards; 3×3 would make lines too cheap.
FREE_CENTRE_SIZE = 5
COLUMN_LETTERS = "ABCDE"

# A prompt has to fit into a 200 px cell of the PNG and a table cell on a phone.
MAX_PROMPT_CHARS = 120
MAX_PROMPTS = 500
MAX_PROMPT_FILE_BYTES = 100_000
# Retries when a new card happens to equal an existing one; only tiny pools ever need more than one.
_MAX_CARD_ATTEMPTS = 50

DEFAULT_PROMPTS_FILE = Path(__file__).with_name("prompts.toml")

_WHITESPACE = re.compile(r"\s+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_TOML_PROMPT_TABLE = re.compile(r"^\s*\[\[\s*prompt\s*\]\]", re.MULTILINE)
_FIELD_LETTER_FIRST = re.compile(r"([A-Za-z])([1-9])")
_FIELD_DIGIT_FIRST = re.compile(r"([1-9])([A-Za-z])")


class BingoError(ValueError):
    """A problem to report to the user: a catalog ``key`` plus its ``params``."""

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(f"{key}: {params}")
        self.key = key
        self.params = params

    def message(self, t: Translate) -> str:
        """The user-facing Markdown text; parameters may contain user text, so all are escaped."""
        return t(self.key, **{name: esc(value) for name, value in self.params.items()})


class PromptFileError(BingoError):
    """A prompt file that cannot be used (empty, invalid, too large, …)."""


# --------------------------------------------------------------------------------------------- prompts


@dataclass(frozen=True)
class Prompt:
    """One bingo prompt; ``en`` is None when only a German text exists."""

    de: str
    en: str | None = None

    def text(self, language: str) -> str:
        if language == "en" and self.en:
            return self.en
        return self.de

    @property
    def identity(self) -> str:
        """What counts as "the same prompt" when removing duplicates: the German text, case-insensitively."""
        return self.de.casefold()


def clean_prompt_text(text: str) -> str:
    """One line of text: control characters removed, whitespace runs collapsed."""
    return _WHITESPACE.sub(" ", _CONTROL.sub("", text)).strip()


def dedupe_prompts(prompts: Iterable[Prompt]) -> list[Prompt]:
    """Prompts without repeats (same German text ignoring case), first occurrence kept, order kept."""
    seen: set[str] = set()
    unique: list[Prompt] = []
    for prompt in prompts:
        if prompt.identity not in seen:
            seen.add(prompt.identity)
            unique.append(prompt)
    return unique


def combine_prompts(*pools: Iterable[Prompt]) -> list[Prompt]:
    """Several pools as one (e.g. default pool extended by an operator file), without repeats."""
    return dedupe_prompts(prompt for pool in pools for prompt in pool)


def parse_prompts(data: bytes | str, filename: str = "") -> list[Prompt]:
    """Prompts from a file's content: TOML ``[[prompt]]`` tables, or plain text with one German prompt a line.

    The format is TOML when the name ends in ``.toml`` or the text has a ``[[prompt]]`` header; anything
    else is read as text, where blank lines and lines starting with ``#`` are skipped. Raises
    :class:`PromptFileError` for empty, undecodable, invalid or oversized files.
    """
    name = filename or "?"
    if isinstance(data, bytes):
        if len(data) > MAX_PROMPT_FILE_BYTES:
            raise PromptFileError(
                "bingo_prompts_error_too_large", file=name, size=len(data), max=MAX_PROMPT_FILE_BYTES
            )
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise PromptFileError("bingo_prompts_error_encoding", file=name) from None
    else:
        text = data.removeprefix("\ufeff")
        if len(text.encode("utf-8")) > MAX_PROMPT_FILE_BYTES:
            raise PromptFileError(
                "bingo_prompts_error_too_large",
                file=name,
                size=len(text.encode("utf-8")),
                max=MAX_PROMPT_FILE_BYTES,
            )
    if filename.lower().endswith(".toml") or _TOML_PROMPT_TABLE.search(text):
        prompts = _parse_toml_prompts(text, name)
    else:
        prompts = _parse_text_prompts(text, name)
    prompts = dedupe_prompts(prompts)
    if not prompts:
        raise PromptFileError("bingo_prompts_error_empty", file=name)
    if len(prompts) > MAX_PROMPTS:
        raise PromptFileError("bingo_prompts_error_too_many", file=name, count=len(prompts), max=MAX_PROMPTS)
    return prompts


def load_prompts(path: Path | str) -> list[Prompt]:
    """Prompts from a file on disk (see :func:`parse_prompts` for the accepted formats)."""
    file_path = Path(path)
    try:
        with file_path.open("rb") as handle:
            # Read one byte more than allowed so an oversized file is reported instead of cut off.
            data = handle.read(MAX_PROMPT_FILE_BYTES + 1)
    except OSError:
        raise PromptFileError("bingo_prompts_error_unreadable", file=file_path.name) from None
    return parse_prompts(data, file_path.name)


def default_prompts() -> list[Prompt]:
    """The pool shipped with the bot."""
    return load_prompts(DEFAULT_PROMPTS_FILE)


def _parse_toml_prompts(text: str, name: str) -> list[Prompt]:
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise PromptFileError("bingo_prompts_error_toml", file=name, detail=str(error)) from None
    entries = document.get("prompt")
    if not isinstance(entries, list):
        raise PromptFileError("bingo_prompts_error_no_table", file=name)
    prompts: list[Prompt] = []
    for number, entry in enumerate(entries, start=1):
        german, english = _toml_entry_texts(entry)
        if not german:
            raise PromptFileError("bingo_prompts_error_entry", file=name, number=number)
        for candidate in (german, english or ""):
            if len(candidate) > MAX_PROMPT_CHARS:
                raise PromptFileError(
                    "bingo_prompts_error_entry_too_long",
                    file=name,
                    number=number,
                    length=len(candidate),
                    max=MAX_PROMPT_CHARS,
                )
        prompts.append(Prompt(de=german, en=english or None))
    return prompts


def _toml_entry_texts(entry: Any) -> tuple[str, str]:
    """(German, English) of one ``[[prompt]]`` entry; empty German text means the entry is unusable."""
    if isinstance(entry, str):
        return clean_prompt_text(entry), ""
    if not isinstance(entry, dict):
        return "", ""
    german, english = entry.get("de"), entry.get("en", "")
    if not isinstance(german, str) or not isinstance(english, str):
        return "", ""
    return clean_prompt_text(german), clean_prompt_text(english)


def _parse_text_prompts(text: str, name: str) -> list[Prompt]:
    prompts: list[Prompt] = []
    for line_number, raw_line in enumerate(text.splitlines(), start=1):
        line = clean_prompt_text(raw_line)
        if not line or line.startswith("#"):
            continue
        if len(line) > MAX_PROMPT_CHARS:
            raise PromptFileError(
                "bingo_prompts_error_line_too_long",
                file=name,
                line=line_number,
                length=len(line),
                max=MAX_PROMPT_CHARS,
            )
        prompts.append(Prompt(de=line))
    return prompts


# ----------------------------------------------------------------------------------------------- cards


def has_free_centre(size: int) -> bool:
    return size == FREE_CENTRE_SIZE


def prompts_needed(size: int) -> int:
    """How many distinct prompts a card of this size uses."""
    return size * size - (1 if has_free_centre(size) else 0)


def check_card_size(size: int) -> None:
    if not MIN_CARD_SIZE <= size <= MAX_CARD_SIZE:
        raise BingoError("bingo_error_size", size=size, min=MIN_CARD_SIZE, max=MAX_CARD_SIZE)


@dataclass(frozen=True)
class Card:
    """A player's card: ``prompts`` row by row, ``None`` only at the free centre of a 5×5 card."""

    size: int
    prompts: tuple[Prompt | None, ...]

    def __post_init__(self) -> None:
        check_card_size(self.size)
        if len(self.prompts) != self.size * self.size:
            raise ValueError(f"a {self.size}×{self.size} card needs {self.size * self.size} cells")

    @property
    def free_centre(self) -> bool:
        return has_free_centre(self.size)

    @property
    def centre(self) -> Position | None:
        return (self.size // 2, self.size // 2) if self.free_centre else None

    def positions(self) -> list[Position]:
        return [(row, col) for row in range(self.size) for col in range(self.size)]

    def is_free(self, position: Position) -> bool:
        return position == self.centre

    def prompt_at(self, position: Position) -> Prompt | None:
        row, col = position
        if not (0 <= row < self.size and 0 <= col < self.size):
            raise IndexError(f"{position} is outside a {self.size}×{self.size} card")
        return self.prompts[row * self.size + col]

    def to_data(self) -> dict[str, Any]:
        """JSON-ready form for the database; the prompt texts are stored so a changed pool keeps old cards."""
        return {
            "size": self.size,
            "cells": [
                None if prompt is None else {"de": prompt.de, "en": prompt.en} for prompt in self.prompts
            ],
        }

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Card:
        cells = tuple(
            None if cell is None else Prompt(de=str(cell["de"]), en=cell.get("en")) for cell in data["cells"]
        )
        return cls(size=int(data["size"]), prompts=cells)


def new_card(
    pool: Sequence[Prompt], size: int, rng_seed: int | str | bytes, *, avoid: Iterable[Card] = ()
) -> Card:
    """A random card of distinct prompts from ``pool``, reproducible for the same seed.

    ``avoid`` holds the cards other players already have: if the draw equals one of them, drawing goes on
    with the same generator, so the result is still determined by the seed and the existing cards.
    Raises :class:`BingoError` for a bad size or a pool too small for the card.
    """
    check_card_size(size)
    unique_pool = dedupe_prompts(pool)
    needed = prompts_needed(size)
    if len(unique_pool) < needed:
        raise BingoError("bingo_error_pool_too_small", size=size, needed=needed, count=len(unique_pool))
    taken = set(avoid)
    rng = random.Random(rng_seed)
    card = _draw_card(unique_pool, size, rng)
    for _ in range(_MAX_CARD_ATTEMPTS):
        if card not in taken:
            break
        card = _draw_card(unique_pool, size, rng)
    return card


def _draw_card(pool: Sequence[Prompt], size: int, rng: random.Random) -> Card:
    cells: list[Prompt | None] = list(rng.sample(pool, prompts_needed(size)))
    if has_free_centre(size):
        cells.insert((size // 2) * size + size // 2, None)
    return Card(size=size, prompts=tuple(cells))


# ---------------------------------------------------------------------------------------------- fields


def field_name(position: Position) -> str:
    """``(0, 1)`` → ``"B1"``: column letter, then row number."""
    row, col = position
    return f"{COLUMN_LETTERS[col]}{row + 1}"


def parse_field(text: str, size: int) -> Position | None:
    """``"B2"``, ``"b2"`` or ``"2B"`` → ``(1, 1)``; None for anything else or a field outside the card."""
    candidate = text.strip()
    match = _FIELD_LETTER_FIRST.fullmatch(candidate)
    if match:
        letter, digit = match.group(1), match.group(2)
    else:
        match = _FIELD_DIGIT_FIRST.fullmatch(candidate)
        if not match:
            return None
        digit, letter = match.group(1), match.group(2)
    col = ord(letter.upper()) - ord("A")
    row = int(digit) - 1
    if not (0 <= row < size and 0 <= col < size):
        return None
    return (row, col)


def field_problem(
    card: Card, position: Position, confirmed: Collection[Position], pending: Collection[Position]
) -> str | None:
    """Why a field cannot be requested (a catalog key taking ``field``), or None when it can."""
    if card.is_free(position):
        return "bingo_field_free"
    if position in confirmed:
        return "bingo_field_confirmed"
    if position in pending:
        return "bingo_field_pending"
    return None

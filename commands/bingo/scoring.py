"""Scoring a bingo card: its lines (rows, columns, diagonals), which are complete, the full card, and the
players' standings and leaderboard."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from bot.i18n import Translate

from .game import COLUMN_LETTERS, Card, Position, field_name

LineKind = Literal["row", "column", "diagonal"]


# ----------------------------------------------------------------------------------------------- lines


@dataclass(frozen=True)
class Line:
    """A row, a column or a diagonal (``index`` 0: from A1 down to the right, 1: from top right down)."""

    kind: LineKind
    index: int
    cells: tuple[Position, ...]

    @property
    def key(self) -> str:
        """Stable id for storing which lines were already announced, e.g. ``"row-2"``."""
        return f"{self.kind}-{self.index}"


def all_lines(size: int) -> list[Line]:
    """Rows top to bottom, columns left to right, then both diagonals."""
    rows = [Line("row", row, tuple((row, col) for col in range(size))) for row in range(size)]
    columns = [Line("column", col, tuple((row, col) for row in range(size))) for col in range(size)]
    diagonals = [
        Line("diagonal", 0, tuple((i, i) for i in range(size))),
        Line("diagonal", 1, tuple((i, size - 1 - i) for i in range(size))),
    ]
    return rows + columns + diagonals


def _filled(size: int, confirmed: Collection[Position], free_centre: bool) -> set[Position]:
    filled = set(confirmed)
    if free_centre:
        if size % 2 == 0:
            raise ValueError("only a card with an odd size has a centre")
        filled.add((size // 2, size // 2))
    return filled


def completed_lines(size: int, confirmed: Collection[Position], free_centre: bool) -> list[Line]:
    """The lines whose every field is confirmed (the free centre counts as confirmed)."""
    filled = _filled(size, confirmed, free_centre)
    return [line for line in all_lines(size) if filled.issuperset(line.cells)]


def newly_completed_lines(
    size: int, before: Collection[Position], after: Collection[Position], free_centre: bool
) -> list[Line]:
    """Lines complete in ``after`` but not in ``before``: what to announce after a confirmation."""
    done_before = {line.key for line in completed_lines(size, before, free_centre)}
    return [line for line in completed_lines(size, after, free_centre) if line.key not in done_before]


def is_full(size: int, confirmed: Collection[Position], free_centre: bool) -> bool:
    """Every field of the card confirmed."""
    filled = _filled(size, confirmed, free_centre)
    return all((row, col) in filled for row in range(size) for col in range(size))


def line_label(line: Line, t: Translate) -> str:
    """ "Zeile 2", "Spalte B", "Diagonale A1–C3"."""
    if line.kind == "row":
        return t("bingo_line_row", number=line.index + 1)
    if line.kind == "column":
        return t("bingo_line_column", letter=COLUMN_LETTERS[line.index])
    return t("bingo_line_diagonal", start=field_name(line.cells[0]), end=field_name(line.cells[-1]))


# --------------------------------------------------------------------------------------------- ranking


@dataclass(frozen=True)
class PlayerStanding:
    """One row of the leaderboard. ``first_line_at`` is timezone-aware, None while no line is complete."""

    player_id: str
    lines: int
    fields: int
    first_line_at: datetime | None = None


def standing(
    player_id: str, card: Card, confirmed: Collection[Position], first_line_at: datetime | None
) -> PlayerStanding:
    """Count lines and confirmed fields (the free centre is not a field anyone earned)."""
    on_card = set(card.positions())
    earned = {position for position in confirmed if position in on_card and not card.is_free(position)}
    lines = len(completed_lines(card.size, earned, card.free_centre))
    return PlayerStanding(player_id=player_id, lines=lines, fields=len(earned), first_line_at=first_line_at)


def leaderboard(players: Iterable[PlayerStanding]) -> list[PlayerStanding]:
    """Most lines first; among equals the earlier first line, then more fields; player id breaks ties."""
    return sorted(
        players,
        key=lambda player: (
            -player.lines,
            player.first_line_at is None,
            player.first_line_at.timestamp() if player.first_line_at is not None else 0.0,
            -player.fields,
            player.player_id,
        ),
    )


def bingo_place(players: Iterable[PlayerStanding], player_id: str) -> int | None:
    """The player's place in the order of first lines (1 = first BINGO), None without a line."""
    finishers = sorted(
        (player for player in players if player.first_line_at is not None),
        key=lambda player: (
            player.first_line_at.timestamp() if player.first_line_at is not None else 0.0,
            player.player_id,
        ),
    )
    for place, player in enumerate(finishers, start=1):
        if player.player_id == player_id:
            return place
    return None

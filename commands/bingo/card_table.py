"""A Verwaltungsbingo card as a Markdown table with status marks, and the status of a field (also used by
the picture in ``render``)."""

from __future__ import annotations

from collections.abc import Collection
from enum import Enum

from bot.format import esc
from bot.i18n import Translate

from .game import COLUMN_LETTERS, Card, Position, field_name


class CellStatus(Enum):
    OPEN = "open"
    PENDING = "pending"
    CONFIRMED = "confirmed"
    FREE = "free"


def cell_status(
    card: Card, position: Position, confirmed: Collection[Position], pending: Collection[Position]
) -> CellStatus:
    """Free centre first, then confirmed (a confirmation settles a pending request), then pending."""
    if card.is_free(position):
        return CellStatus.FREE
    if position in confirmed:
        return CellStatus.CONFIRMED
    if position in pending:
        return CellStatus.PENDING
    return CellStatus.OPEN


def card_markdown(
    card: Card, confirmed: Collection[Position], pending: Collection[Position], t: Translate
) -> str:
    """The card as a Markdown table (columns A…, rows 1…) with status marks, plus a legend line."""
    letters = COLUMN_LETTERS[: card.size]
    header = "| |" + "".join(f" {letter} |" for letter in letters)
    separator = "|:-:|" + ":--|" * card.size
    rows: list[str] = []
    for row in range(card.size):
        cells = [_markdown_cell(card, (row, col), confirmed, pending, t) for col in range(card.size)]
        rows.append(f"| **{row + 1}** | " + " | ".join(cells) + " |")
    counts = _status_counts(card, confirmed, pending)
    legend = t(
        "bingo_card_legend",
        confirmed=counts[CellStatus.CONFIRMED],
        pending=counts[CellStatus.PENDING],
        open=counts[CellStatus.OPEN],
    )
    return "\n".join([header, separator, *rows]) + "\n\n" + legend


def _markdown_cell(
    card: Card,
    position: Position,
    confirmed: Collection[Position],
    pending: Collection[Position],
    t: Translate,
) -> str:
    status = cell_status(card, position, confirmed, pending)
    name = field_name(position)
    if status is CellStatus.FREE:
        return t("bingo_cell_free", mark=t("bingo_mark_free"), field=name).strip()
    prompt = card.prompt_at(position)
    # Prompts may come from an operator's file: one line, escaped, so they cannot break the table.
    text = esc(" ".join(prompt.text(t.language).split())) if prompt is not None else ""
    mark_key = {
        CellStatus.CONFIRMED: "bingo_mark_confirmed",
        CellStatus.PENDING: "bingo_mark_pending",
        CellStatus.OPEN: "bingo_mark_open",
    }[status]
    return t("bingo_cell", mark=t(mark_key), field=name, prompt=text).strip()


def _status_counts(
    card: Card, confirmed: Collection[Position], pending: Collection[Position]
) -> dict[CellStatus, int]:
    counts = dict.fromkeys(CellStatus, 0)
    for position in card.positions():
        counts[cell_status(card, position, confirmed, pending)] += 1
    return counts

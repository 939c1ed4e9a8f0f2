"""Verwaltungsbingo card as a PNG picture (Pillow); the Markdown table is in ``card_table``.

The PNG uses DejaVu Sans when the system has it (Debian package ``fonts-dejavu-core``). Otherwise it falls
back to the font Pillow ships, which has no umlauts: texts are then drawn transliterated (``ä`` → ``ae``)
instead of as empty boxes. Status is shown by colour *and* by a drawn symbol, never by colour alone.
"""

from __future__ import annotations

import functools
import io
import math
import re
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from .card_table import CellStatus, cell_status
from .game import Card, Position, clean_prompt_text, field_name

CELL_PX = 200
MARGIN_PX = 20
TITLE_PX = 64
GRID_LINE_PX = 2
CELL_PADDING_PX = 12
LABEL_BAND_PX = 36
TITLE_FONT_PX = 28
LABEL_FONT_PX = 18
# Largest first: the biggest size at which the prompt fits without splitting a word wins.
PROMPT_FONT_SIZES = (20, 18, 17, 16, 15, 14, 13, 12)

BACKGROUND = "#ffffff"
TITLE_BACKGROUND = "#1f3a5f"
TITLE_TEXT = "#ffffff"
GRID = "#37474f"
TEXT = "#1a1a1a"
LABEL_TEXT = "#455a64"
FILL_OPEN = "#ffffff"
FILL_CONFIRMED = "#c8e6c9"
ICON_CONFIRMED = "#2e7d32"
FILL_PENDING = "#fff3b0"
ICON_PENDING = "#a15c00"
FILL_FREE = "#dbe9f6"
ICON_FREE = "#1f3a5f"

# Where Debian/Ubuntu, Fedora and Arch put DejaVu Sans.
FONT_DIRECTORIES: tuple[str, ...] = (
    "/usr/share/fonts/truetype/dejavu",
    "/usr/share/fonts/dejavu-sans-fonts",
    "/usr/share/fonts/dejavu",
    "/usr/share/fonts/TTF",
)
FONT_REGULAR = "DejaVuSans.ttf"
FONT_BOLD = "DejaVuSans-Bold.ttf"

_ASCII_REPLACEMENTS = str.maketrans(
    {
        "ä": "ae",
        "ö": "oe",
        "ü": "ue",
        "Ä": "Ae",
        "Ö": "Oe",
        "Ü": "Ue",
        "ß": "ss",
        "„": '"',
        "“": '"',
        "”": '"',
        "‚": "'",
        "‘": "'",
        "’": "'",
        "–": "-",
        "—": "-",
        "…": "...",
        "×": "x",
        "·": "-",
    }
)

# Pieces of a word after which a line may break: "OZG-Leistung" → "OZG-", "Leistung".
_HYPHEN_PARTS = re.compile(r"[^-]+-*|-+")

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


# ------------------------------------------------------------------------------------------------ PNG


def png_size(size: int) -> tuple[int, int]:
    """(width, height) in pixels of the picture of a ``size``×``size`` card."""
    grid = size * CELL_PX
    return (2 * MARGIN_PX + grid, 2 * MARGIN_PX + TITLE_PX + grid)


def ascii_fallback(text: str) -> str:
    """Text the Pillow default font can draw: German letters transliterated, other accents dropped."""
    replaced = unicodedata.normalize("NFKD", text.translate(_ASCII_REPLACEMENTS))
    without_marks = "".join(char for char in replaced if not unicodedata.combining(char))
    return "".join(char if 32 <= ord(char) < 127 else "?" for char in without_marks)


@dataclass(frozen=True)
class _Fonts:
    regular_path: str | None
    bold_path: str | None

    @property
    def unicode(self) -> bool:
        return self.regular_path is not None

    def regular(self, size: int) -> Font:
        return _load_font(self.regular_path, size)

    def bold(self, size: int) -> Font:
        return _load_font(self.bold_path, size)

    def prepare(self, text: str) -> str:
        return text if self.unicode else ascii_fallback(text)


@functools.lru_cache(maxsize=64)
def _load_font(path: str | None, size: int) -> Font:
    if path is None:
        return ImageFont.load_default(size=size)
    return ImageFont.truetype(path, size=size)


def _find_fonts(font_path: Path | None) -> _Fonts:
    if font_path is not None:
        return _Fonts(str(font_path), str(font_path))
    for directory in FONT_DIRECTORIES:
        regular, bold = Path(directory, FONT_REGULAR), Path(directory, FONT_BOLD)
        if regular.is_file():
            return _Fonts(str(regular), str(bold if bold.is_file() else regular))
    return _Fonts(None, None)


def render_card_png(
    card: Card,
    confirmed: Collection[Position],
    pending: Collection[Position],
    *,
    language: str,
    title: str,
    font_path: Path | None = None,
) -> bytes:
    """The card as PNG bytes: prompts in ``language``, ``title`` (already translated) in a band on top.

    Confirmed fields are green with a check mark, pending ones yellow with a clock, the free centre blue
    with a star. ``font_path`` overrides the font search (one TTF for everything).
    """
    fonts = _find_fonts(font_path)
    width, height = png_size(card.size)
    image = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(image)
    _draw_title(draw, fonts, title, width)
    for position in card.positions():
        _draw_cell(draw, fonts, card, position, cell_status(card, position, confirmed, pending), language)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _draw_title(draw: ImageDraw.ImageDraw, fonts: _Fonts, title: str, width: int) -> None:
    band_bottom = MARGIN_PX + TITLE_PX - 12
    draw.rectangle((MARGIN_PX, MARGIN_PX, width - MARGIN_PX - 1, band_bottom), fill=TITLE_BACKGROUND)
    font = fonts.bold(TITLE_FONT_PX)
    text = _ellipsize(
        fonts.prepare(clean_prompt_text(title)), font, width - 2 * MARGIN_PX - 24, fonts.prepare("…")
    )
    draw.text((width / 2, (MARGIN_PX + band_bottom) / 2), text, font=font, fill=TITLE_TEXT, anchor="mm")


def _draw_cell(
    draw: ImageDraw.ImageDraw,
    fonts: _Fonts,
    card: Card,
    position: Position,
    status: CellStatus,
    language: str,
) -> None:
    row, col = position
    left = MARGIN_PX + col * CELL_PX
    top = MARGIN_PX + TITLE_PX + row * CELL_PX
    fill = {
        CellStatus.OPEN: FILL_OPEN,
        CellStatus.CONFIRMED: FILL_CONFIRMED,
        CellStatus.PENDING: FILL_PENDING,
        CellStatus.FREE: FILL_FREE,
    }[status]
    draw.rectangle((left, top, left + CELL_PX, top + CELL_PX), fill=fill, outline=GRID, width=GRID_LINE_PX)
    draw.text(
        (left + CELL_PADDING_PX, top + CELL_PADDING_PX - 2),
        field_name(position),
        font=fonts.bold(LABEL_FONT_PX),
        fill=LABEL_TEXT,
    )
    icon_box = (left + CELL_PX - CELL_PADDING_PX - 26, top + CELL_PADDING_PX - 4, 26)
    if status is CellStatus.CONFIRMED:
        _draw_check(draw, *icon_box)
    elif status is CellStatus.PENDING:
        _draw_clock(draw, *icon_box)

    if status is CellStatus.FREE:
        _draw_star(draw, left + CELL_PX / 2, top + CELL_PX / 2 + 8, 56)
        return
    prompt = card.prompt_at(position)
    if prompt is None:
        return
    box_width = CELL_PX - 2 * CELL_PADDING_PX
    box_height = CELL_PX - LABEL_BAND_PX - CELL_PADDING_PX
    lines, font, line_height = _fit_text(fonts, fonts.prepare(prompt.text(language)), box_width, box_height)
    block_top = top + LABEL_BAND_PX + (box_height - len(lines) * line_height) / 2
    for number, line in enumerate(lines):
        draw.text(
            (left + CELL_PX / 2, block_top + number * line_height + line_height / 2),
            line,
            font=font,
            fill=TEXT,
            anchor="mm",
        )


def _draw_check(draw: ImageDraw.ImageDraw, left: float, top: float, box: float) -> None:
    points = [
        (left + box * 0.08, top + box * 0.55),
        (left + box * 0.38, top + box * 0.85),
        (left + box * 0.95, top + box * 0.15),
    ]
    draw.line(points, fill=ICON_CONFIRMED, width=5, joint="curve")


def _draw_clock(draw: ImageDraw.ImageDraw, left: float, top: float, box: float) -> None:
    draw.ellipse((left, top, left + box, top + box), outline=ICON_PENDING, width=3)
    centre_x, centre_y = left + box / 2, top + box / 2
    draw.line([(centre_x, centre_y), (centre_x, top + box * 0.2)], fill=ICON_PENDING, width=3)
    draw.line([(centre_x, centre_y), (left + box * 0.75, centre_y)], fill=ICON_PENDING, width=3)


def _draw_star(draw: ImageDraw.ImageDraw, centre_x: float, centre_y: float, radius: float) -> None:
    points = []
    for corner in range(10):
        distance = radius if corner % 2 == 0 else radius * 0.42
        angle = -math.pi / 2 + corner * math.pi / 5
        points.append((centre_x + distance * math.cos(angle), centre_y + distance * math.sin(angle)))
    draw.polygon(points, fill=ICON_FREE)


def _line_height(size: int) -> int:
    return math.ceil(size * 1.25)


def _fit_text(fonts: _Fonts, text: str, width: int, height: int) -> tuple[list[str], Font, int]:
    """Lines, font and line height for ``text`` in a box: largest size without split words if possible."""
    fallback: tuple[list[str], Font, int] | None = None
    for size in PROMPT_FONT_SIZES:
        font = fonts.regular(size)
        lines, forced = wrap_text(text, font, width)
        if len(lines) * _line_height(size) > height:
            continue
        if not forced:
            return lines, font, _line_height(size)
        if fallback is None:
            fallback = (lines, font, _line_height(size))
    if fallback is not None:
        return fallback
    size = PROMPT_FONT_SIZES[-1]
    font = fonts.regular(size)
    lines, _ = wrap_text(text, font, width)
    max_lines = max(1, height // _line_height(size))
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        ellipsis = fonts.prepare("…")
        lines[-1] = _ellipsize(lines[-1] + " " + ellipsis, font, width, ellipsis)
    return lines, font, _line_height(size)


def wrap_text(text: str, font: Font, width: float) -> tuple[list[str], bool]:
    """Word-wrap ``text`` to ``width`` pixels, breaking after hyphens too (German compounds are long).

    The flag tells whether a piece was still too wide and had to be cut with an added hyphen.
    """
    lines: list[str] = []
    current = ""
    forced = False
    for word in text.split():
        for part_number, part in enumerate(_HYPHEN_PARTS.findall(word)):
            joiner = " " if part_number == 0 and current else ""
            if font.getlength(current + joiner + part) <= width:
                current += joiner + part
                continue
            if current:
                lines.append(current)
            if font.getlength(part) <= width:
                current = part
                continue
            forced = True
            pieces = _cut_to_width(part, font, width)
            lines.extend(pieces[:-1])
            current = pieces[-1]
    if current:
        lines.append(current)
    return lines, forced


def _cut_to_width(part: str, font: Font, width: float) -> list[str]:
    """Pieces of a word that each fit into ``width`` pixels, every cut marked with a hyphen."""
    pieces: list[str] = []
    rest = part
    while font.getlength(rest) > width and len(rest) > 1:
        cut = 1
        while cut < len(rest) - 1 and font.getlength(rest[: cut + 1] + "-") <= width:
            cut += 1
        pieces.append(rest[:cut] + "-")
        rest = rest[cut:]
    pieces.append(rest)
    return pieces


def _ellipsize(text: str, font: Font, width: float, ellipsis: str) -> str:
    """``text`` cut at the end with ``ellipsis`` so that it fits into ``width`` pixels."""
    if font.getlength(text) <= width:
        return text
    base = text
    while base and font.getlength(base.rstrip() + ellipsis) > width:
        base = base[:-1]
    return base.rstrip() + ellipsis

"""Verwaltungsbingo pure logic: prompt pool, cards, fields, lines, ranking, PNG and Markdown rendering."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from bot.format import to_html
from bot.i18n import Catalog, Translate
from commands.bingo import render
from commands.bingo.card_table import card_markdown
from commands.bingo.game import (
    MAX_PROMPT_CHARS,
    MAX_PROMPT_FILE_BYTES,
    MAX_PROMPTS,
    BingoError,
    Card,
    Position,
    Prompt,
    PromptFileError,
    combine_prompts,
    default_prompts,
    field_name,
    field_problem,
    load_prompts,
    new_card,
    parse_field,
    parse_prompts,
)
from commands.bingo.render import (
    CELL_PX,
    FILL_CONFIRMED,
    FILL_FREE,
    FILL_OPEN,
    FILL_PENDING,
    MARGIN_PX,
    TITLE_PX,
    ascii_fallback,
    png_size,
    render_card_png,
    wrap_text,
)
from commands.bingo.scoring import (
    Line,
    PlayerStanding,
    all_lines,
    bingo_place,
    completed_lines,
    is_full,
    leaderboard,
    line_label,
    newly_completed_lines,
    standing,
)

MESSAGES = Path("commands/bingo/messages.toml")


def translator(language: str) -> Translate:
    return Catalog.from_files([MESSAGES]).translator(language)


def numbered_pool(count: int) -> list[Prompt]:
    return [Prompt(de=f"Frage {number}", en=f"Prompt {number}") for number in range(count)]


def all_positions(size: int) -> set[Position]:
    return {(row, col) for row in range(size) for col in range(size)}


# ------------------------------------------------------------------------------------------ default pool


def test_default_pool_is_large_bilingual_and_unique() -> None:
    pool = default_prompts()
    assert len(pool) >= 48
    assert all(prompt.en for prompt in pool)
    assert len({prompt.de.casefold() for prompt in pool}) == len(pool)
    assert len({(prompt.en or "").casefold() for prompt in pool}) == len(pool)
    assert max(len(prompt.de) for prompt in pool) <= MAX_PROMPT_CHARS
    by_german = {prompt.de: prompt.en for prompt in pool}
    assert by_german["… kann erklären, wofür NOOTS steht"] == "… can explain what NOOTS stands for"
    assert "… setzt gerade eine OZG-Leistung um" in by_german


def test_prompt_text_falls_back_to_german() -> None:
    assert Prompt(de="Hallo", en="Hello").text("en") == "Hello"
    assert Prompt(de="Hallo", en="Hello").text("de") == "Hallo"
    assert Prompt(de="Hallo").text("en") == "Hallo"


# ------------------------------------------------------------------------------------------------ cards


@pytest.mark.parametrize(("size", "needed"), [(3, 9), (4, 16), (5, 24)])
def test_card_has_distinct_prompts(size: int, needed: int) -> None:
    for seed in range(20):
        card = new_card(default_prompts(), size, seed)
        prompts = [prompt for prompt in card.prompts if prompt is not None]
        assert len(prompts) == needed
        assert len({prompt.de for prompt in prompts}) == needed


def test_card_with_duplicates_in_pool_still_has_distinct_prompts() -> None:
    pool = [*numbered_pool(9), Prompt(de="frage 1"), Prompt(de="FRAGE 2")]
    card = new_card(pool, 3, 7)
    assert len({prompt.de.casefold() for prompt in card.prompts if prompt is not None}) == 9


def test_only_five_by_five_has_a_free_centre() -> None:
    card5 = new_card(default_prompts(), 5, "seed")
    assert card5.free_centre is True
    assert card5.centre == (2, 2)
    assert card5.prompt_at((2, 2)) is None
    assert [position for position in card5.positions() if card5.prompt_at(position) is None] == [(2, 2)]
    for size in (3, 4):
        card = new_card(default_prompts(), size, "seed")
        assert card.free_centre is False
        assert card.centre is None
        assert None not in card.prompts


def test_same_seed_gives_same_card() -> None:
    first = new_card(default_prompts(), 4, "game-1:@anna:example.org")
    second = new_card(default_prompts(), 4, "game-1:@anna:example.org")
    assert first == second
    assert first.to_data() == second.to_data()


def test_different_seeds_give_different_cards() -> None:
    cards = [new_card(default_prompts(), 3, f"game-1:@player{number}:example.org") for number in range(50)]
    assert len(set(cards)) == 50


def test_avoid_draws_another_card_from_a_tiny_pool() -> None:
    pool = numbered_pool(9)
    first = new_card(pool, 3, 1)
    second = new_card(pool, 3, 1, avoid=[first])
    assert second != first
    assert sorted(p.de for p in second.prompts if p) == sorted(p.de for p in first.prompts if p)
    assert new_card(pool, 3, 1, avoid=[first]) == second


def test_pool_too_small_is_reported() -> None:
    with pytest.raises(BingoError) as caught:
        new_card(numbered_pool(23), 5, 1)
    assert caught.value.key == "bingo_error_pool_too_small"
    assert caught.value.params == {"size": 5, "needed": 24, "count": 23}
    assert new_card(numbered_pool(24), 5, 1).size == 5


@pytest.mark.parametrize("size", [0, 2, 6, 10])
def test_bad_card_size_is_reported(size: int) -> None:
    with pytest.raises(BingoError) as caught:
        new_card(default_prompts(), size, 1)
    assert caught.value.key == "bingo_error_size"
    assert caught.value.params == {"size": size, "min": 3, "max": 5}


def test_card_round_trips_through_json() -> None:
    pool = [*default_prompts(), Prompt(de="nur deutsch")]
    card = new_card(pool, 5, 99)
    restored = Card.from_data(json.loads(json.dumps(card.to_data())))
    assert restored == card


def test_prompt_at_outside_card_raises() -> None:
    card = new_card(default_prompts(), 3, 1)
    with pytest.raises(IndexError):
        card.prompt_at((3, 0))


# ----------------------------------------------------------------------------------------------- fields


@pytest.mark.parametrize(
    ("text", "size", "expected"),
    [
        ("B2", 3, (1, 1)),
        ("b2", 3, (1, 1)),
        ("2B", 3, (1, 1)),
        ("2b", 3, (1, 1)),
        (" c3 ", 3, (2, 2)),
        ("A1", 3, (0, 0)),
        ("C1", 3, (0, 2)),
        ("A3", 3, (2, 0)),
        ("D4", 4, (3, 3)),
        ("E5", 5, (4, 4)),
        ("e1", 5, (0, 4)),
    ],
)
def test_parse_field_accepts(text: str, size: int, expected: Position) -> None:
    assert parse_field(text, size) == expected


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("D1", 3),
        ("A4", 3),
        ("E4", 4),
        ("F1", 5),
        ("A0", 5),
        ("A10", 5),
        ("A6", 5),
        ("", 5),
        ("   ", 5),
        ("B", 5),
        ("2", 5),
        ("BB", 5),
        ("22", 5),
        ("B2x", 5),
        ("B-2", 5),
        ("B 2", 5),
        ("B2B", 5),
        ("２B", 5),
        ("B²", 5),
        ("Ä1", 5),
        ("@anna:example.org", 5),
    ],
)
def test_parse_field_rejects_junk(text: str, size: int) -> None:
    assert parse_field(text, size) is None


@pytest.mark.parametrize("size", [3, 4, 5])
def test_field_name_and_parse_field_are_inverse(size: int) -> None:
    for position in all_positions(size):
        assert parse_field(field_name(position), size) == position
    assert field_name((0, 0)) == "A1"
    assert field_name((0, 1)) == "B1"
    assert field_name((4, 2)) == "C5"


def test_field_problem() -> None:
    card = new_card(default_prompts(), 5, 1)
    assert field_problem(card, (2, 2), set(), set()) == "bingo_field_free"
    assert field_problem(card, (0, 0), {(0, 0)}, {(0, 0)}) == "bingo_field_confirmed"
    assert field_problem(card, (0, 1), set(), {(0, 1)}) == "bingo_field_pending"
    assert field_problem(card, (0, 2), {(0, 0)}, {(0, 1)}) is None


# ------------------------------------------------------------------------------------------------ lines


def test_all_lines_of_a_three_by_three_card() -> None:
    lines = all_lines(3)
    assert [line.key for line in lines] == [
        "row-0",
        "row-1",
        "row-2",
        "column-0",
        "column-1",
        "column-2",
        "diagonal-0",
        "diagonal-1",
    ]
    assert lines[1].cells == ((1, 0), (1, 1), (1, 2))
    assert lines[4].cells == ((0, 1), (1, 1), (2, 1))
    assert lines[6].cells == ((0, 0), (1, 1), (2, 2))
    assert lines[7].cells == ((0, 2), (1, 1), (2, 0))


@pytest.mark.parametrize("size", [3, 4, 5])
def test_each_line_is_detected_alone(size: int) -> None:
    lines = all_lines(size)
    assert len(lines) == 2 * size + 2
    for line in lines:
        assert completed_lines(size, set(line.cells), free_centre=False) == [line]
        for missing in line.cells:
            assert completed_lines(size, set(line.cells) - {missing}, free_centre=False) == []


@pytest.mark.parametrize("size", [3, 4, 5])
def test_full_card_completes_every_line(size: int) -> None:
    assert completed_lines(size, all_positions(size), free_centre=False) == all_lines(size)
    assert is_full(size, all_positions(size), free_centre=False) is True
    assert is_full(size, all_positions(size) - {(0, 0)}, free_centre=False) is False
    assert completed_lines(size, set(), free_centre=False) == []


def test_free_centre_counts_for_lines_through_it() -> None:
    row_without_centre = {(2, 0), (2, 1), (2, 3), (2, 4)}
    assert [line.key for line in completed_lines(5, row_without_centre, free_centre=True)] == ["row-2"]
    assert completed_lines(5, row_without_centre, free_centre=False) == []
    diagonal = {(0, 0), (1, 1), (3, 3), (4, 4)}
    assert [line.key for line in completed_lines(5, diagonal, free_centre=True)] == ["diagonal-0"]
    anti = {(0, 4), (1, 3), (3, 1), (4, 0)}
    assert [line.key for line in completed_lines(5, anti, free_centre=True)] == ["diagonal-1"]
    assert completed_lines(5, set(), free_centre=True) == []
    assert is_full(5, all_positions(5) - {(2, 2)}, free_centre=True) is True
    assert is_full(5, all_positions(5) - {(2, 2)}, free_centre=False) is False


def test_free_centre_needs_an_odd_size() -> None:
    with pytest.raises(ValueError, match="odd size"):
        completed_lines(4, set(), free_centre=True)


def test_two_lines_at_once() -> None:
    confirmed = {(0, 0), (0, 1), (0, 2), (1, 0), (2, 0)}
    assert [line.key for line in completed_lines(3, confirmed, free_centre=False)] == ["row-0", "column-0"]


def test_newly_completed_lines() -> None:
    before = {(0, 0), (0, 1), (1, 0)}
    after = before | {(0, 2)}
    assert [line.key for line in newly_completed_lines(3, before, after, False)] == ["row-0"]
    assert newly_completed_lines(3, after, after | {(1, 1)}, False) == []
    assert [line.key for line in newly_completed_lines(3, after, after | {(2, 0)}, False)] == ["column-0"]


@given(st.sets(st.tuples(st.integers(0, 4), st.integers(0, 4))), st.booleans())
def test_completed_lines_match_a_brute_force_count(confirmed: set[Position], free: bool) -> None:
    filled = confirmed | ({(2, 2)} if free else set())
    expected = [line for line in all_lines(5) if all(cell in filled for cell in line.cells)]
    assert completed_lines(5, confirmed, free_centre=free) == expected
    assert is_full(5, confirmed, free_centre=free) == (len(filled) == 25)


def test_line_labels() -> None:
    de, en = translator("de"), translator("en")
    lines = all_lines(3)
    assert [line_label(line, de) for line in lines] == [
        "Zeile 1",
        "Zeile 2",
        "Zeile 3",
        "Spalte A",
        "Spalte B",
        "Spalte C",
        "Diagonale A1–C3",
        "Diagonale C1–A3",
    ]
    assert line_label(Line("column", 4, ()), en) == "column E"
    assert line_label(all_lines(5)[-1], en) == "diagonal E1–A5"


# ---------------------------------------------------------------------------------------------- ranking

T0 = datetime(2025, 5, 15, 10, 0, tzinfo=UTC)


def test_leaderboard_orders_by_lines_then_first_line_then_fields() -> None:
    players = [
        PlayerStanding("@nolines_few:x", lines=0, fields=2),
        PlayerStanding("@two_late:x", lines=2, fields=6, first_line_at=T0 + timedelta(minutes=9)),
        PlayerStanding("@one_early:x", lines=1, fields=3, first_line_at=T0 + timedelta(minutes=1)),
        PlayerStanding("@two_early:x", lines=2, fields=5, first_line_at=T0 + timedelta(minutes=2)),
        PlayerStanding("@nolines_many:x", lines=0, fields=4),
        PlayerStanding("@one_late_more:x", lines=1, fields=8, first_line_at=T0 + timedelta(minutes=5)),
        PlayerStanding("@b_same:x", lines=1, fields=3, first_line_at=T0 + timedelta(minutes=1)),
        PlayerStanding("@one_early_more:x", lines=1, fields=4, first_line_at=T0 + timedelta(minutes=1)),
    ]
    assert [player.player_id for player in leaderboard(players)] == [
        "@two_early:x",
        "@two_late:x",
        "@one_early_more:x",
        "@b_same:x",
        "@one_early:x",
        "@one_late_more:x",
        "@nolines_many:x",
        "@nolines_few:x",
    ]
    assert leaderboard([]) == []


def test_leaderboard_compares_time_zones_correctly() -> None:
    berlin_later = datetime(2025, 5, 15, 12, 30, tzinfo=timezone(timedelta(hours=2)))  # 10:30 UTC
    players = [
        PlayerStanding("@a:x", lines=1, fields=3, first_line_at=berlin_later),
        PlayerStanding("@b:x", lines=1, fields=3, first_line_at=T0 + timedelta(minutes=20)),
    ]
    assert [player.player_id for player in leaderboard(players)] == ["@b:x", "@a:x"]


def test_bingo_place_follows_first_line_time() -> None:
    players = [
        PlayerStanding("@c:x", lines=3, fields=9, first_line_at=T0 + timedelta(minutes=7)),
        PlayerStanding("@a:x", lines=1, fields=3, first_line_at=T0 + timedelta(minutes=2)),
        PlayerStanding("@b:x", lines=0, fields=5),
    ]
    assert bingo_place(players, "@a:x") == 1
    assert bingo_place(players, "@c:x") == 2
    assert bingo_place(players, "@b:x") is None
    assert bingo_place(players, "@unknown:x") is None


def test_standing_counts_earned_fields_and_lines() -> None:
    card = new_card(default_prompts(), 5, 3)
    confirmed = {(2, 0), (2, 1), (2, 3), (2, 4), (2, 2), (7, 7)}
    result = standing("@anna:x", card, confirmed, T0)
    assert result == PlayerStanding("@anna:x", lines=1, fields=4, first_line_at=T0)


# ------------------------------------------------------------------------------------------ prompt files


def test_load_toml_prompts(tmp_path: Path) -> None:
    path = tmp_path / "fragen.toml"
    path.write_text(
        """
# comment
[[prompt]]
de = "… hat einen Hund"
en = "… has a dog"

[[prompt]]
de = "  … fährt   Rad\t"

[[prompt]]
de = "… HAT EINEN HUND"
en = "duplicate"
""",
        encoding="utf-8",
    )
    assert load_prompts(path) == [Prompt(de="… hat einen Hund", en="… has a dog"), Prompt(de="… fährt Rad")]


def test_load_text_prompts(tmp_path: Path) -> None:
    path = tmp_path / "fragen.txt"
    path.write_bytes(
        "\ufeff# Unsere Fragen\n\n… kennt NOOTS\r\n   \n  # eingerückter Kommentar\n"
        "… kennt noots\n… mag Kaffee\n".encode()
    )
    assert load_prompts(path) == [Prompt(de="… kennt NOOTS"), Prompt(de="… mag Kaffee")]


def test_text_with_prompt_header_is_read_as_toml() -> None:
    data = b'[[prompt]]\nde = "Eins"\n'
    assert parse_prompts(data, "upload") == [Prompt(de="Eins")]
    assert parse_prompts(data, "fragen.txt") == [Prompt(de="Eins")]


def test_extending_the_default_pool() -> None:
    extra = parse_prompts("… kann erklären, wofür NOOTS steht\n… neu dabei\n", "extra.txt")
    combined = combine_prompts(default_prompts(), extra)
    assert len(combined) == len(default_prompts()) + 1
    assert combined[-1] == Prompt(de="… neu dabei")


def prompt_error(data: bytes | str, filename: str = "fragen.txt") -> PromptFileError:
    with pytest.raises(PromptFileError) as caught:
        parse_prompts(data, filename)
    return caught.value


def test_invalid_prompt_files_are_reported() -> None:
    assert prompt_error(b"").key == "bingo_prompts_error_empty"
    assert prompt_error(b"# nur Kommentar\n\n   \n").key == "bingo_prompts_error_empty"
    assert prompt_error(b"", "x.toml").key == "bingo_prompts_error_no_table"
    assert prompt_error(b'title = "x"\n', "x.toml").key == "bingo_prompts_error_no_table"
    broken = prompt_error(b'[[prompt]]\nde = "offen\n', "x.toml")
    assert broken.key == "bingo_prompts_error_toml"
    assert broken.params["file"] == "x.toml"
    assert "line 2" in str(broken.params["detail"])
    missing = prompt_error(b'[[prompt]]\nde = "gut"\n[[prompt]]\nen = "only english"\n', "x.toml")
    assert (missing.key, missing.params["number"]) == ("bingo_prompts_error_entry", 2)
    wrong_type = prompt_error(b"[[prompt]]\nde = 5\n", "x.toml")
    assert (wrong_type.key, wrong_type.params["number"]) == ("bingo_prompts_error_entry", 1)
    assert prompt_error(b"prompt = 5\n", "x.toml").key == "bingo_prompts_error_no_table"
    assert prompt_error("Gr\u00fc\u00dfe".encode("latin-1")).key == "bingo_prompts_error_encoding"


def test_too_long_prompts_are_reported_with_their_place() -> None:
    long_line = "x" * (MAX_PROMPT_CHARS + 1)
    error = prompt_error(f"eins\n\n{long_line}\n")
    assert error.key == "bingo_prompts_error_line_too_long"
    assert error.params == {"file": "fragen.txt", "line": 3, "length": 121, "max": MAX_PROMPT_CHARS}
    entry = prompt_error(f'[[prompt]]\nde = "ok"\n[[prompt]]\nde = "ok2"\nen = "{long_line}"\n', "x.toml")
    assert (entry.key, entry.params["number"]) == ("bingo_prompts_error_entry_too_long", 2)
    assert parse_prompts("x" * MAX_PROMPT_CHARS) == [Prompt(de="x" * MAX_PROMPT_CHARS)]


def test_size_limits_of_prompt_files() -> None:
    assert prompt_error(b"a" * (MAX_PROMPT_FILE_BYTES + 1)).key == "bingo_prompts_error_too_large"
    many = "\n".join(f"Frage {number}" for number in range(MAX_PROMPTS + 1))
    error = prompt_error(many)
    assert (error.key, error.params["count"]) == ("bingo_prompts_error_too_many", MAX_PROMPTS + 1)


def test_missing_prompt_file(tmp_path: Path) -> None:
    with pytest.raises(PromptFileError) as caught:
        load_prompts(tmp_path / "gibt-es-nicht.toml")
    assert caught.value.key == "bingo_prompts_error_unreadable"
    assert caught.value.params == {"file": "gibt-es-nicht.toml"}


def test_error_message_escapes_user_text() -> None:
    error = prompt_error(b"", "<b>@room</b>_x.txt")
    message = error.message(translator("de"))
    assert message.startswith("Die Fragendatei \\<b\\>@\u2060room\\</b\\>\\_x\\.txt enthält keine Fragen.")
    assert "<b>" not in to_html(message)


# ----------------------------------------------------------------------------------------------- catalog


def test_catalog_is_complete_in_both_languages() -> None:
    catalog = Catalog.from_files([MESSAGES])
    assert catalog.missing_keys() == {"de": set(), "en": set()}
    used = [
        "bingo_prompts_error_unreadable",
        "bingo_prompts_error_encoding",
        "bingo_prompts_error_too_large",
        "bingo_prompts_error_toml",
        "bingo_prompts_error_no_table",
        "bingo_prompts_error_entry",
        "bingo_prompts_error_entry_too_long",
        "bingo_prompts_error_line_too_long",
        "bingo_prompts_error_empty",
        "bingo_prompts_error_too_many",
        "bingo_error_size",
        "bingo_error_pool_too_small",
        "bingo_field_free",
        "bingo_field_confirmed",
        "bingo_field_pending",
    ]
    for key in used:
        assert catalog.has(key, "de"), key
        assert catalog.has(key, "en"), key


# ------------------------------------------------------------------------------------------------- PNG


def test_png_size() -> None:
    assert png_size(3) == (640, 704)
    assert png_size(4) == (840, 904)
    assert png_size(5) == (1040, 1104)


def cell_background(image: Image.Image, position: Position) -> tuple[int, int, int]:
    row, col = position
    left = MARGIN_PX + col * CELL_PX
    top = MARGIN_PX + TITLE_PX + row * CELL_PX
    pixel = image.getpixel((left + 6, top + CELL_PX - 6))
    assert isinstance(pixel, tuple)
    return (int(pixel[0]), int(pixel[1]), int(pixel[2]))


def hex_rgb(colour: str) -> tuple[int, int, int]:
    return (int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16))


@pytest.mark.parametrize("size", [3, 4, 5])
def test_png_is_a_valid_image_with_status_colours(size: int) -> None:
    card = new_card(default_prompts(), size, "png")
    data = render_card_png(card, {(0, 0)}, {(0, 1), (0, 0)}, language="de", title="Karte von Anna Müller")
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    image = Image.open(io.BytesIO(data))
    image.verify()
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG"
    assert image.size == png_size(size)
    assert cell_background(image, (0, 0)) == hex_rgb(FILL_CONFIRMED)
    assert cell_background(image, (0, 1)) == hex_rgb(FILL_PENDING)
    assert cell_background(image, (1, 0)) == hex_rgb(FILL_OPEN)
    if size == 5:
        assert cell_background(image, (2, 2)) == hex_rgb(FILL_FREE)


def test_png_without_system_fonts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(render, "FONT_DIRECTORIES", ())
    long_prompt = Prompt(de="… " + "Donaudampfschifffahrtsgesellschaft " * 3)
    card = Card(size=3, prompts=(long_prompt, *numbered_pool(8)))
    data = render_card_png(card, set(), set(), language="en", title="Ü" * 200)
    image = Image.open(io.BytesIO(data))
    assert image.size == png_size(3)


def test_ascii_fallback() -> None:
    assert ascii_fallback("„Größe“ – Übung … café") == '"Groesse" - Uebung ... cafe'
    assert ascii_fallback("日本") == "??"


def test_wrap_text_fits_and_prefers_hyphens() -> None:
    font = render._load_font(None, 16)
    lines, forced = wrap_text("… setzt gerade eine OZG-Leistung um im Open-Source-Arbeitsplatz", font, 120)
    assert forced is False
    assert all(font.getlength(line) <= 120 for line in lines)
    assert (
        " ".join(lines).replace("- ", "-")
        == "… setzt gerade eine OZG-Leistung um im Open-Source-Arbeitsplatz"
    )
    lines, forced = wrap_text("Donaudampfschifffahrtsgesellschaftskapitän", font, 80)
    assert forced is True
    assert all(font.getlength(line) <= 80 for line in lines)
    assert "".join(line.removesuffix("-") for line in lines) == "Donaudampfschifffahrtsgesellschaftskapitän"


# -------------------------------------------------------------------------------------------- Markdown


def test_card_markdown_marks_and_legend() -> None:
    card = Card(size=5, prompts=(*numbered_pool(12), None, *numbered_pool(24)[12:]))
    markdown = card_markdown(card, {(0, 0), (4, 4)}, {(0, 1), (0, 0)}, translator("de"))
    lines = markdown.splitlines()
    assert lines[0] == "| | A | B | C | D | E |"
    assert lines[1] == "|:-:|:--|:--|:--|:--|:--|"
    assert lines[2].startswith("| **1** | ✅ **A1** Frage 0 | ⏳ **B1** Frage 1 | **C1** Frage 2 |")
    assert "| ⭐ **C3** frei |" in lines[4]
    assert lines[-1] == "✅ bestätigt: 2 · ⏳ wartet auf Bestätigung: 1 · offen: 21"
    english = card_markdown(card, set(), set(), translator("en"))
    assert "| **A1** Prompt 0 |" in english
    assert "⭐ **C3** free" in english


def test_card_markdown_escapes_operator_text() -> None:
    evil = Prompt(de="<b>fett</b> | *stern* @room [link](https://x.example)\nzweite Zeile")
    card = Card(size=3, prompts=(evil, *numbered_pool(8)))
    markdown = card_markdown(card, set(), set(), translator("de"))
    html = to_html(markdown)
    assert "<b>" not in html
    assert "&lt;b&gt;fett&lt;/b&gt; | *stern* @\u2060room [link](https://x.example) zweite Zeile" in html
    assert "<a " not in html
    assert "<em>" not in html
    first_row = html.split("<tr>")[2]
    assert first_row.count("<td") == 4
    assert html.count("<tr>") == 4

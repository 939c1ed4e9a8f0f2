"""Members by their display name in lists (leaderboards, hosts, contacts): from the member state nio keeps."""

from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

from nio import MatrixRoom

from bot.names import display_name, display_names, named_pill
from bot.sender import message_content
from commands.bingo.scoring import PlayerStanding
from commands.bingo.texts import ranking_lines
from tests.catalog import catalog


def room(**names: str | None) -> MatrixRoom:
    """A room with nio's own member state."""
    real = MatrixRoom("!room:example.org", "@bot:example.org")
    for user, name in names.items():
        real.add_member(user, name, None)
    return real


def app_with(**rooms: Any) -> Any:
    return SimpleNamespace(matrix=SimpleNamespace(client=SimpleNamespace(rooms=rooms)))


ANNA = "@anna:example.org"
BERT = "@bert:example.org"


def test_the_rooms_own_name_first_then_any_shared_room() -> None:
    app = app_with(**{"!a": room(**{ANNA: "Anna (Stadt X)"}), "!b": room(**{ANNA: "Anna", BERT: None})})
    assert display_name(app, ANNA, "!b") == "Anna"
    assert display_name(app, ANNA, "!a") == "Anna (Stadt X)"
    assert display_name(app, ANNA) in ("Anna", "Anna (Stadt X)")
    assert display_name(app, BERT) is None  # no display name set: the caller shows the Matrix ID
    assert display_names(app, [BERT, ANNA], "!b") == (BERT, "Anna")


def test_members_sharing_a_display_name_are_told_apart_by_their_matrix_id() -> None:
    app = app_with(**{"!a": room(**{ANNA: "Anna", BERT: "Anna"}), "!b": room(**{ANNA: "Anna"})})
    assert display_name(app, ANNA, "!a") == f"Anna ({ANNA})"
    assert display_names(app, [ANNA, BERT], "!a") == (f"Anna ({ANNA})", f"Anna ({BERT})")
    assert display_name(app, ANNA, "!b") == "Anna"  # alone with that name in this room


def test_a_named_pill_shows_the_name_and_stays_clickable() -> None:
    app = app_with(**{"!a": room(**{ANNA: "Anna *Schmidt*"})})
    content = message_content(named_pill(app, ANNA, "!a"))
    assert "Anna \\*Schmidt\\*" not in content["body"]
    assert "Anna *Schmidt*" in content["body"]
    assert f'href="https://matrix.to/#/{ANNA}"' in content["formatted_body"]


def test_the_leaderboard_names_players() -> None:
    t = catalog().translator("de")
    players = [
        PlayerStanding(
            ANNA, lines=1, fields=5, first_line_at=datetime(2026, 5, 1, 10, tzinfo=ZoneInfo("UTC"))
        )
    ]
    with_names = ranking_lines(t, players, ZoneInfo("Europe/Berlin"), {ANNA: "Anna"})
    assert "[Anna](https://matrix.to/#/@anna:example.org)" in with_names[0]
    without = ranking_lines(t, players, ZoneInfo("Europe/Berlin"))
    assert "](https://matrix.to/#/@anna:example.org)" in without[0]
    assert "[Anna]" not in without[0]


def test_a_name_becomes_ambiguous_when_someone_else_takes_it() -> None:
    real = room(**{ANNA: "Anna", BERT: "Bert"})
    app = app_with(**{"!real:example.org": real})
    assert display_name(app, ANNA) == "Anna"
    real.add_member("@anna2:example.org", "Anna", None)
    assert display_name(app, ANNA) == f"Anna ({ANNA})"
    assert display_name(app, BERT) == "Bert"

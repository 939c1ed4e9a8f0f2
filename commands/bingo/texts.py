"""Option parsing and the small texts of the bingo feature (counts, places, the ranking)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.framework import CommandError
from bot.i18n import Translate
from bot.names import display_names
from bot.sender import pill
from timephrases import format_time, parse_duration

from .feature import MAX_LISTED_PLAYERS, SIZE
from .scoring import PlayerStanding

if TYPE_CHECKING:
    from bot.app import App

# ------------------------------------------------------------------------------------------------ helpers


def parse_start_options(text: str, default_size: int) -> tuple[int, timedelta | None]:
    """``""``, ``"3"``, ``"4x4"``, ``"30m"``, ``"5 30 Minuten"``, ``"20m 3"`` → (size, duration)."""
    words = text.split()
    if not words:
        return default_size, None
    whole = parse_duration(text)
    if whole is not None:
        return default_size, whole
    for index, word in enumerate(words):
        match = SIZE.fullmatch(word)
        if not match:
            continue
        if match.group(2) is not None and match.group(2) != match.group(1):
            raise CommandError("bingo_error_start_options", value=word)
        size = int(match.group(1))
        rest = " ".join(words[:index] + words[index + 1 :])
        if not rest:
            return size, None
        duration = parse_duration(rest)
        if duration is not None:
            return size, duration
        raise CommandError("bingo_error_start_options", value=rest)
    raise CommandError("bingo_error_start_options", value=text)


def minutes_text(minutes: float) -> str:
    return f"{minutes:g}".replace(".", ",")


def count_text(t: Translate, key: str, count: int) -> str:
    return t(f"{key}_one" if count == 1 else f"{key}_other", count=count)


def place_text(t: Translate, place: int) -> str:
    if t.language == "en":
        suffix = "th" if 10 <= place % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(place % 10, "th")
        return t("bingo_place", place=place, ordinal=f"{place}{suffix}")
    return t("bingo_place", place=place, ordinal=f"{place}.")


def ranking_lines(
    t: Translate, players: Sequence[PlayerStanding], tz: ZoneInfo, names: Mapping[str, str] | None = None
) -> list[str]:
    """The leaderboard: players as pills named by their display names (``names``), when known."""
    names = names or {}
    lines = []
    for rank, player in enumerate(players[:MAX_LISTED_PLAYERS], start=1):
        first = (
            t("bingo_rank_first_line", time=format_time(player.first_line_at.astimezone(tz)))
            if player.first_line_at is not None
            else ""
        )
        lines.append(
            t(
                "bingo_rank",
                rank=rank,
                player=pill(player.player_id, names.get(player.player_id)),
                lines=count_text(t, "bingo_count_lines", player.lines),
                fields=count_text(t, "bingo_count_fields", player.fields),
                first=first,
            )
        )
    if len(players) > MAX_LISTED_PLAYERS:
        lines.append(t("bingo_rank_more", count=len(players) - MAX_LISTED_PLAYERS))
    return lines


def leaderboard_names(app: App, players: Sequence[PlayerStanding], room_id: str) -> dict[str, str]:
    """Display names of the listed players, as the game's room knows them."""
    listed = [player.player_id for player in players[:MAX_LISTED_PLAYERS]]
    return dict(zip(listed, display_names(app, listed, room_id), strict=True))

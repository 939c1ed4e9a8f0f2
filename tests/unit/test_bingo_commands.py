"""Verwaltungsbingo command layer: start options, wording helpers, pools, and the database rules
(confirmations, places, full card, expiry, end of game, privacy) against a real SQLite database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import select

from bot.app import CORE_MESSAGES
from bot.framework import CommandError
from bot.i18n import Catalog
from commands.bingo import feature, jobs, pools, privacy, queries, service, texts
from commands.bingo.config import BingoConfig
from commands.bingo.feature import claim_job_id, end_job_id
from commands.bingo.game import Card, Prompt, default_prompts, field_name
from storage.base import Base
from storage.bingo import BingoCard, BingoClaim, BingoGame
from storage.db import Database
from storage.models import OutboxMessage
from tests.fakes import FakeApp, settings_for_tests

MESSAGES = Path("commands/bingo/messages.toml")
ROOM = "!game:example.org"
ANNA, BERT = "@anna:example.org", "@bert:example.org"
HELPERS = [f"@helper{n}:example.org" for n in range(12)]


# ------------------------------------------------------------------------------------------- pure helpers


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", (4, None)),
        ("3", (3, None)),
        ("5x5", (5, None)),
        ("30m", (4, timedelta(minutes=30))),
        ("3 20s", (3, timedelta(seconds=20))),
        ("20m 3", (3, timedelta(minutes=20))),
        ("5 30 Minuten", (5, timedelta(minutes=30))),
        ("1 Stunde", (4, timedelta(hours=1))),
    ],
)
def test_start_options(text: str, expected: tuple[int, timedelta | None]) -> None:
    assert texts.parse_start_options(text, 4) == expected


@pytest.mark.parametrize("text", ["foo", "3 foo", "3x4", "3 4 5"])
def test_bad_start_options(text: str) -> None:
    with pytest.raises(CommandError) as caught:
        texts.parse_start_options(text, 4)
    assert caught.value.key == "bingo_error_start_options"


def catalog() -> Catalog:
    return Catalog.from_files([CORE_MESSAGES, MESSAGES])


def test_places_and_counts_in_both_languages() -> None:
    de, en = catalog().translator("de"), catalog().translator("en")
    assert texts.place_text(de, 1) == "1. Platz"
    assert [texts.place_text(en, n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 101, 111)] == [
        f"{o} place"
        for o in ("1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "101st", "111th")
    ]
    assert texts.count_text(de, "bingo_count_lines", 1) == "1 Linie"
    assert texts.count_text(de, "bingo_count_fields", 0) == "0 Felder"
    assert texts.count_text(en, "bingo_count_lines", 2) == "2 lines"
    assert texts.minutes_text(0.5) == "0,5"
    assert texts.minutes_text(30) == "30"


def test_every_command_has_help_usage_and_example_in_both_languages() -> None:
    cat = catalog()
    commands = [*feature.commands, *(s for c in feature.commands for s in c.subcommands)]
    assert len(commands) == 8
    for command in commands:
        for suffix in ("help", "usage", "example"):
            for language in ("de", "en"):
                assert cat.has(f"{command.help}_{suffix}", language), (command.help, suffix, language)
    assert not any(cat.missing_keys().values())


def app_with(config: BingoConfig) -> Any:
    return SimpleNamespace(settings=SimpleNamespace(bingo=config))


def test_configured_pool_replace_extend_and_broken_file(tmp_path: Path) -> None:
    default = default_prompts()
    assert pools.configured_pool(app_with(BingoConfig())) == default
    own = tmp_path / "eigene.txt"
    own.write_text("Eigene Frage 1\nEigene Frage 2\n" + default[0].de + "\n")
    extended = pools.configured_pool(app_with(BingoConfig(prompts_file=own)))
    assert extended[: len(default)] == default
    assert len(extended) == len(default) + 2
    replaced = pools.configured_pool(app_with(BingoConfig(prompts_file=own, prompts_mode="replace")))
    assert [p.de for p in replaced] == ["Eigene Frage 1", "Eigene Frage 2", default[0].de]
    broken = tmp_path / "kaputt.toml"
    broken.write_text("[[prompt]\n")
    assert pools.configured_pool(app_with(BingoConfig(prompts_file=broken))) == default
    missing = tmp_path / "fehlt.txt"
    assert pools.configured_pool(app_with(BingoConfig(prompts_file=missing))) == default


def test_prompt_data_round_trip() -> None:
    prompts = [Prompt("… kann NOOTS erklären", "… can explain NOOTS"), Prompt("nur deutsch")]
    assert pools.prompts_from_data(pools.prompts_to_data(prompts)) == prompts


# ------------------------------------------------------------------------------------ database rules


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[FakeApp]:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'bingo.db'}")
    names = ("bingo_games", "bingo_cards", "bingo_claims", "bingo_prompt_pools", "outbox")
    tables = [Base.metadata.tables[name] for name in names]
    async with db.engine.begin() as connection:
        await connection.run_sync(lambda sync: Base.metadata.create_all(sync, tables=tables))
    yield FakeApp(
        db, catalog=catalog(), settings=settings_for_tests(bingo=BingoConfig(confirmation_minutes=1))
    )
    await db.close()


async def new_game(app: FakeApp, size: int = 3, ends_at: datetime | None = None) -> int:
    async with app.db.session() as session:
        game = BingoGame(
            room_id=ROOM,
            size=size,
            status="running",
            started_by=ANNA,
            ends_at=ends_at,
            language="de",
            timezone="Europe/Berlin",
            seed=1,
            prompts=pools.prompts_to_data(default_prompts()),
        )
        session.add(game)
    return game.id


async def request(app: FakeApp, game_id: int, player: str, field_: str, named: str) -> int:
    async with app.db.session() as session:
        game = await session.get(BingoGame, game_id)
        assert game is not None
        card = await queries.card_of(session, game, player)
        claim = BingoClaim(card_id=card.id, field=field_, named_user_id=named, status="pending")
        session.add(claim)
    return claim.id


async def room_messages(app: FakeApp) -> list[str]:
    async with app.db.session() as session:
        rows = (await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all()
    return [row.content["content"]["body"] for row in rows]


async def confirm(app: FakeApp, game_id: int, player: str, field_: str, named: str) -> service.Decision:
    claim_id = await request(app, game_id, player, field_, named)
    return await service.decide(app, claim_id, named, True)  # type: ignore[arg-type]


async def test_cards_are_reproducible_from_the_seed_and_differ_per_player(app: FakeApp) -> None:
    game_id = await new_game(app)
    async with app.db.session() as session:
        game = await session.get(BingoGame, game_id)
        assert game is not None
        first = Card.from_data((await queries.card_of(session, game, ANNA)).data)
        again = Card.from_data((await queries.card_of(session, game, ANNA)).data)
        other = Card.from_data((await queries.card_of(session, game, BERT)).data)
    assert first == again
    assert first != other
    assert len({p.de for p in first.prompts if p}) == 9


async def test_first_line_gets_place_one_then_two_and_full_card_is_announced(app: FakeApp) -> None:
    game_id = await new_game(app)
    for row, helper in zip((1, 2), HELPERS, strict=False):
        assert (await confirm(app, game_id, ANNA, f"A{row}", helper)).error is None
    for row, helper in zip((1, 2, 3), HELPERS, strict=False):
        await confirm(app, game_id, BERT, f"A{row}", helper)
    await confirm(app, game_id, ANNA, "A3", HELPERS[2])
    messages = await room_messages(app)
    bingos = [m for m in messages if "BINGO!" in m]
    assert len(bingos) == 2
    assert BERT in bingos[0]
    assert "1. Platz" in bingos[0]
    assert "Spalte A" in bingos[0]
    assert ANNA in bingos[1]
    assert "2. Platz" in bingos[1]

    # Anna fills the rest of her card: more lines, then the full card.
    rest = [field_name((r, c)) for r in range(3) for c in range(1, 3)]
    for name, helper in zip(rest, HELPERS[3:], strict=False):
        await confirm(app, game_id, ANNA, name, helper)
    messages = await room_messages(app)
    assert sum("noch eine Linie" in m for m in messages) >= 1
    assert sum("ganze Karte" in m for m in messages) == 1
    async with app.db.session() as session:
        players = await queries.game_standings(session, (await session.get(BingoGame, game_id)))  # type: ignore[arg-type]
    assert [p.player_id for p in players] == [ANNA, BERT]
    assert (players[0].lines, players[0].fields) == (8, 9)


async def test_only_the_named_person_decides_and_only_once(app: FakeApp) -> None:
    game_id = await new_game(app)
    claim_id = await request(app, game_id, ANNA, "B2", HELPERS[0])
    decide = service.decide
    assert (await decide(app, claim_id, BERT, True)).error == "bingo_error_claim_not_yours"  # type: ignore[arg-type]
    assert (await decide(app, 999, HELPERS[0], True)).error == "bingo_error_claim_unknown"  # type: ignore[arg-type]
    assert (await decide(app, claim_id, HELPERS[0], False)).error is None  # type: ignore[arg-type]
    assert (await decide(app, claim_id, HELPERS[0], True)).error == "bingo_error_claim_refused"  # type: ignore[arg-type]
    messages = await room_messages(app)
    assert len(messages) == 1
    assert "abgelehnt" in messages[0]


async def test_expiry_runs_once_and_end_of_game_closes_open_requests(app: FakeApp) -> None:
    game_id = await new_game(app, ends_at=datetime.now(UTC) + timedelta(minutes=5))
    expiring = await request(app, game_id, ANNA, "A1", HELPERS[0])
    now = datetime.now(UTC)
    await jobs.expire_claim(app, expiring, scheduled_for=now)  # type: ignore[arg-type]
    await jobs.expire_claim(app, expiring, scheduled_for=now)  # type: ignore[arg-type]
    assert sum("abgelaufen" in m for m in await room_messages(app)) == 1

    await confirm(app, game_id, ANNA, "A1", HELPERS[1])
    still_open = await request(app, game_id, ANNA, "B1", HELPERS[2])
    assert await service.finish_game(app, game_id)  # type: ignore[arg-type]
    assert not await service.finish_game(app, game_id)  # type: ignore[arg-type]
    await jobs.end_game(app, game_id, scheduled_for=now)  # type: ignore[arg-type]
    messages = await room_messages(app)
    results = [m for m in messages if "beendet" in m]
    assert len(results) == 1
    assert ANNA in results[0]
    assert "1 Feld" in results[0]
    assert claim_job_id(still_open) in app.jobs.cancelled
    async with app.db.session() as session:
        claim = await session.get(BingoClaim, still_open)
        assert claim is not None
        assert claim.status == "expired"
    decision = await service.decide(app, still_open, HELPERS[2], True)  # type: ignore[arg-type]
    assert decision.error == "bingo_error_claim_expired"


async def test_start_hook_recreates_lost_jobs(app: FakeApp) -> None:
    ends = datetime.now(UTC) + timedelta(minutes=5)
    game_id = await new_game(app, ends_at=ends)
    claim_id = await request(app, game_id, ANNA, "A1", HELPERS[0])
    await jobs.reschedule_missing(app)  # type: ignore[arg-type]
    assert app.jobs.scheduled[end_job_id(game_id)][1] == ends
    assert claim_job_id(claim_id) in app.jobs.scheduled


async def test_privacy_export_and_erase(app: FakeApp) -> None:
    game_id = await new_game(app)
    await confirm(app, game_id, BERT, "A1", ANNA)
    open_for_anna = await request(app, game_id, BERT, "A2", ANNA)
    await confirm(app, game_id, ANNA, "A1", BERT)
    exported = await privacy.export_bingo(app, ANNA)  # type: ignore[arg-type]
    assert len(exported["bingo_cards"]) == 1
    assert exported["bingo_cards"][0]["claims"][0]["field"] == "A1"
    assert {c["field"] for c in exported["bingo_fields_you_were_named_for"]} == {"A1", "A2"}
    assert exported["bingo_games_started"][0]["id"] == game_id

    assert await privacy.erase_bingo(app, ANNA) > 0  # type: ignore[arg-type]
    assert await privacy.export_bingo(app, ANNA) == {  # type: ignore[arg-type]
        "bingo_cards": [],
        "bingo_fields_you_were_named_for": [],
        "bingo_games_started": [],
        "bingo_prompt_pools_loaded": [],
    }
    async with app.db.session() as session:
        cards = (await session.scalars(select(BingoCard))).all()
        assert [c.player_id for c in cards] == [BERT]
        pending = await session.get(BingoClaim, open_for_anna)
        assert pending is not None
        assert pending.status == "expired"
        assert pending.named_user_id == ""
    assert claim_job_id(open_for_anna) in app.jobs.cancelled

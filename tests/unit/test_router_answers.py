"""Plain answers to the bot's questions (``Feature.on_reply``): a reply without the prefix to a tracked bot
message goes to the feature that asked, once; replies to anything else are not the bot's business."""

from __future__ import annotations

import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import select

from bot.app import App
from commands.sessions.results_service import RESULTS_REQUEST_KIND
from storage.models import BotMessage, OutboxMessage, ProcessedEvent
from tests.catalog import says
from tests.inprocess import BOT, make_app, prepare

ROOM = "!dm:example.org"
HANNA = "@hanna:example.org"


def answer(event_id: str, replied: str | None, text: str, sender: str = HANNA) -> Any:
    content: dict[str, Any] = {"msgtype": "m.text", "body": text}
    if replied is not None:
        content["m.relates_to"] = {"m.in_reply_to": {"event_id": replied}}
    return SimpleNamespace(
        event_id=event_id,
        sender=sender,
        body=text,
        source={"content": content},
        server_timestamp=int(time.time() * 1000),
    )


@pytest.fixture
async def app(tmp_path: Path) -> Any:
    app = make_app(tmp_path)
    await prepare(app)
    app.matrix.is_fresh = lambda event, joined_at_ms: True  # type: ignore[method-assign]
    async with app.db.session() as session:
        session.add(BotMessage(event_id="$asked", room_id=ROOM, kind=RESULTS_REQUEST_KIND, ref_id=999))
        session.add(BotMessage(event_id="$listed", room_id=ROOM, kind="session_announcement", ref_id=1))
    yield app
    await app.db.close()


async def handled(app: App) -> tuple[set[str], list[OutboxMessage]]:
    await app.router.drain(timeout=5)
    async with app.db.session() as session:
        claimed = set((await session.scalars(select(ProcessedEvent.event_id))).all())
        sent = list((await session.scalars(select(OutboxMessage))).all())
    return claimed, sent


async def test_an_answer_to_a_question_goes_to_the_feature_once(app: App) -> None:
    room = SimpleNamespace(room_id=ROOM)
    event = answer("$answer", "$asked", "Wir gründen eine AG")
    await app.router.on_message(room, event)  # type: ignore[arg-type]
    await app.router.on_message(room, event)  # type: ignore[arg-type]  # the same event again (re-sync)
    claimed, sent = await handled(app)
    assert claimed == {"$answer"}
    assert len(sent) == 1  # session 999 does not exist: the handler's refusal, as a reply
    assert says(sent[0].content["content"]["body"], "sessions_error_unknown_session", session_id=999)
    assert sent[0].content["content"]["m.relates_to"]["m.in_reply_to"]["event_id"] == "$answer"


async def test_other_messages_without_the_prefix_are_ignored(app: App) -> None:
    room = SimpleNamespace(room_id=ROOM)
    for event in (
        answer("$chat", None, "Hallo zusammen"),
        answer("$unknown", "$someone-else", "Genau!"),
        answer("$untracked-kind", "$listed", "Toll"),  # tracked, but no feature answers that kind
        answer("$own", "$asked", "Echo", sender=BOT),
        answer("$empty", "$asked", "   "),
    ):
        await app.router.on_message(room, event)  # type: ignore[arg-type]
    claimed, sent = await handled(app)
    assert claimed == set()
    assert sent == []


def direct_chat(app: App, *others: str) -> Any:
    app.matrix.direct_rooms.add(ROOM)  # type: ignore[attr-defined]
    return SimpleNamespace(room_id=ROOM, users=dict.fromkeys((BOT, HANNA, *others)))


async def test_in_a_direct_chat_a_command_works_without_its_prefix(app: App) -> None:
    await app.router.on_message(direct_chat(app), answer("$help", None, "Hilfe"))  # type: ignore[arg-type]
    claimed, sent = await handled(app)
    assert claimed == {"$help"}
    [reply] = sent
    assert says(reply.content["content"]["body"], "help_header")
    assert reply.content["content"]["m.relates_to"]["m.in_reply_to"]["event_id"] == "$help"


async def test_in_a_direct_chat_other_text_gets_one_hint_how_to_talk_to_the_bot(app: App) -> None:
    room = direct_chat(app)
    for event_id, text in (("$thanks", "Danke!"), ("$hello", "Hallo, noch eine Frage"), ("$bye", "Tschüss")):
        await app.router.on_message(room, answer(event_id, None, text))  # type: ignore[arg-type]
    _, sent = await handled(app)
    [hint] = sent  # once, not for every message
    assert says(hint.content["content"]["body"], "core_direct_hint", p="!")
    assert hint.content["content"]["m.relates_to"]["m.in_reply_to"]["event_id"] == "$thanks"


async def test_a_chat_with_more_people_is_no_direct_chat_for_commands_without_prefix(app: App) -> None:
    room = direct_chat(app, "@third:example.org")
    await app.router.on_message(room, answer("$help", None, "hilfe"))  # type: ignore[arg-type]
    claimed, sent = await handled(app)
    assert (claimed, sent) == (set(), [])

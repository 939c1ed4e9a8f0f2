"""Interest by reaction and by poll through the real router (in-process): 👍/⭐ on a proposal's
announcement and its removal, MSC3381 poll responses (stable and unstable, the latest one counts); the pure
poll content."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import date, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import select

from bot.app import App
from commands.sessions.interest_service import POLL_KIND, PROPOSAL_KIND, create_polls
from commands.sessions.polls import MAX_ANSWERS, answer_id, chunks, poll_content, selections
from storage.models import BotMessage, OutboxMessage
from storage.sessions import SessionInterest
from tests.inprocess import all_commands, invoke, make_app, prepare

ROOM = "!camp:example.org"
MOD, HOST, FAN = "@orga:example.org", "@host:example.org", "@fan:example.org"
_ids = iter(range(1, 1_000_000))


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[App]:
    app = make_app(tmp_path)
    await prepare(app)
    app.matrix.is_fresh = lambda event, joined_at_ms: True  # type: ignore[method-assign]
    yield app
    await app.db.close()


async def run(app: App, group: str | None, name: str, rest: str, sender: str = MOD) -> list[dict[str, Any]]:
    command = next(
        c
        for c in all_commands(app)
        if c.de == name and ((c.parent is None) if group is None else (c.parent and c.parent.de == group))
    )
    return await invoke(app, command, rest, sender=sender, moderator=sender == MOD, room_id=ROOM)


async def proposals(app: App, count: int) -> None:
    day = (date.today() + timedelta(days=3)).strftime("%d.%m.%Y")
    await run(app, "veranstaltung", "neu", f'"Camp" {day}')
    await run(app, "veranstaltung", "öffnen", "1")
    for number in range(1, count + 1):
        await run(app, "session", "vorschlagen", f'"Thema {number}"', sender=HOST)


async def interest_of(app: App, user_id: str) -> dict[int, set[str]]:
    async with app.db.session() as db:
        rows = (await db.scalars(select(SessionInterest).where(SessionInterest.user_id == user_id))).all()
    found: dict[int, set[str]] = {}
    for row in rows:
        found.setdefault(row.session_id, set()).add(row.source)
    return found


async def eventually(check: Callable[[], Any]) -> None:
    for _ in range(200):
        if await check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not reached")


async def tracked(app: App, kind: str, ref_id: int) -> str:
    event_id = f"$tracked{next(_ids)}"
    async with app.db.session() as db:
        db.add(BotMessage(event_id=event_id, room_id=ROOM, kind=kind, ref_id=ref_id))
    return event_id


def room() -> Any:
    return SimpleNamespace(room_id=ROOM)


async def test_a_proposal_in_the_event_room_is_its_own_tracked_announcement(app: App) -> None:
    await proposals(app, 1)
    async with app.db.session() as db:
        row = await db.scalar(select(OutboxMessage).where(OutboxMessage.track_kind == PROPOSAL_KIND))
    assert row is not None
    assert row.track_ref == 1
    assert row.room_id == ROOM


async def test_reactions_mark_interest_and_their_removal_takes_it_back(app: App) -> None:
    await proposals(app, 1)
    target = await tracked(app, PROPOSAL_KIND, 1)
    await run(app, None, "interesse", "1", sender=FAN)

    def reaction(key: str) -> Any:
        return SimpleNamespace(
            event_id=f"$r{next(_ids)}", reacts_to=target, key=key, sender=FAN, server_timestamp=0
        )

    thumbs, star = reaction("👍"), reaction("⭐")
    await app.router.on_reaction(room(), thumbs)
    await app.router.on_reaction(room(), star)

    async def has_reaction() -> bool:
        return "reaction" in (await interest_of(app, FAN)).get(1, set())

    await eventually(has_reaction)
    # One of two interest reactions removed: still interested by reaction.
    await app.router.on_redaction(room(), SimpleNamespace(redacts=thumbs.event_id, sender=FAN))
    await asyncio.sleep(0.3)
    assert await interest_of(app, FAN) == {1: {"reaction", "command"}}
    await app.router.on_redaction(room(), SimpleNamespace(redacts=star.event_id, sender=FAN))

    async def only_command() -> bool:
        return await interest_of(app, FAN) == {1: {"command"}}

    await eventually(only_command)


async def test_poll_responses_count_the_latest_answer_stable_or_unstable(app: App) -> None:
    await proposals(app, 3)
    _, polls = await create_polls(app, 1)
    assert len(polls) == 1
    assert [a[1] for a in polls[0].answers] == [1, 2, 3]
    poll_event = await tracked(app, POLL_KIND, polls[0].poll_id)

    def response(event_type: str, content: dict[str, Any], ts: int) -> Any:
        content = {**content, "m.relates_to": {"rel_type": "m.reference", "event_id": poll_event}}
        return SimpleNamespace(
            type=event_type,
            source={"content": content},
            sender=FAN,
            event_id=f"$p{next(_ids)}",
            server_timestamp=ts,
        )

    unstable = {"org.matrix.msc3381.poll.response": {"answers": [answer_id(1), answer_id(2)]}}
    await app.router.on_related_event(room(), response("org.matrix.msc3381.poll.response", unstable, 1000))

    async def first() -> bool:
        return set(await interest_of(app, FAN)) == {1, 2}

    await eventually(first)
    stable = {"m.selections": [answer_id(3)]}
    await app.router.on_related_event(room(), response("m.poll.response", stable, 2000))

    async def replaced() -> bool:
        return await interest_of(app, FAN) == {3: {"poll"}}

    await eventually(replaced)
    # An older response arriving late changes nothing.
    await app.router.on_related_event(room(), response("org.matrix.msc3381.poll.response", unstable, 1500))
    await asyncio.sleep(0.3)
    assert await interest_of(app, FAN) == {3: {"poll"}}


def test_polls_are_split_evenly_at_twenty_answers() -> None:
    assert chunks(list(range(20))) == [list(range(20))]
    sizes = [len(part) for part in chunks(list(range(45)))]
    assert sizes == [15, 15, 15]
    assert max(sizes) <= MAX_ANSWERS
    assert chunks([]) == []


def test_poll_content_has_the_stable_and_unstable_blocks_and_a_fallback() -> None:
    content = poll_content("Welche?", [("session-1", "A"), ("session-2", "B")], "Welche? A B")
    unstable = content["org.matrix.msc3381.poll.start"]
    assert [a["id"] for a in unstable["answers"]] == ["session-1", "session-2"]
    assert unstable["max_selections"] == 2
    assert [a["m.id"] for a in content["m.poll"]["answers"]] == ["session-1", "session-2"]
    assert content["body"] == "Welche? A B"


def test_selections_reads_both_formats_and_ignores_other_content() -> None:
    assert selections({"m.selections": ["a"]}) == ["a"]
    assert selections({"org.matrix.msc3381.poll.response": {"answers": ["b", 3]}}) == ["b"]
    assert selections({"m.poll.response": {"answers": []}}) == []
    assert selections({"body": "hi"}) is None


async def test_only_subscribed_event_types_on_tracked_messages_reach_a_feature(app: App) -> None:
    assert app.router.wants_event_type("m.poll.response")
    assert app.router.wants_event_type("org.matrix.msc3381.poll.response")
    assert not app.router.wants_event_type("m.room.pinned_events")
    await proposals(app, 1)
    _, polls = await create_polls(app, 1)
    answer = {"m.selections": [answer_id(1)]}
    untracked = SimpleNamespace(
        type="m.poll.response",
        source={"content": {**answer, "m.relates_to": {"rel_type": "m.reference", "event_id": "$elsewhere"}}},
        sender=FAN,
        event_id="$x1",
        server_timestamp=1,
    )
    await app.router.on_related_event(room(), untracked)
    # Tracked, but as a proposal announcement: poll responses are not for that kind.
    proposal_event = await tracked(app, PROPOSAL_KIND, 1)
    wrong_kind = SimpleNamespace(
        type="m.poll.response",
        source={
            "content": {**answer, "m.relates_to": {"rel_type": "m.reference", "event_id": proposal_event}}
        },
        sender=FAN,
        event_id="$x2",
        server_timestamp=2,
    )
    await app.router.on_related_event(room(), wrong_kind)
    await asyncio.sleep(0.3)
    assert polls
    assert await interest_of(app, FAN) == {}

"""👍 as a sign-up reaction through the real router (in-process): on a scheduled session it signs up like ✅,
its removal withdraws unless ✅ is still there; on a session that is still proposed it marks interest."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import select

from bot.app import App
from commands.sessions.feature import SESSION_KIND, SIGNUP_KEYS
from commands.sessions.suggestions import SUGGESTION_KEYS
from storage.sessions import SessionSignup
from tests.inprocess import make_app, prepare
from tests.unit.test_sessions_interest import FAN, eventually, interest_of, proposals, room, run, tracked

_ids = iter(range(1, 1_000_000))


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[App]:
    app = make_app(tmp_path)
    await prepare(app)
    app.matrix.is_fresh = lambda event, joined_at_ms: True  # type: ignore[method-assign]
    yield app
    await app.db.close()


def reaction(target: str, key: str) -> Any:
    return SimpleNamespace(
        event_id=f"$s{next(_ids)}", reacts_to=target, key=key, sender=FAN, server_timestamp=0
    )


def redaction(event: Any) -> Any:
    return SimpleNamespace(redacts=event.event_id, sender=FAN)


async def signed_up(app: App) -> bool:
    async with app.db.session() as db:
        found = await db.scalar(
            select(SessionSignup.id).where(SessionSignup.session_id == 1, SessionSignup.user_id == FAN)
        )
    return found is not None


async def scheduled(app: App) -> str:
    await proposals(app, 1)
    await run(app, "veranstaltung", "zeitfenster", '1 "Runde 1" 11:15-12:00')
    await run(app, "session", "einplanen", "1 1")
    await run(app, "veranstaltung", "veröffentlichen", "1")
    return await tracked(app, SESSION_KIND, 1)


def test_thumbs_up_signs_up_wherever_a_reaction_signs_up() -> None:
    for keys in (SIGNUP_KEYS, SUGGESTION_KEYS):
        assert {"✅", "👍"} <= set(keys)


@pytest.mark.parametrize("key", ["👍", "👍🏽", "✅", "✔️"])
async def test_a_sign_up_reaction_signs_up_and_its_removal_withdraws(app: App, key: str) -> None:
    target = await scheduled(app)
    added = reaction(target, key)
    await app.router.on_reaction(room(), added)

    async def is_in() -> bool:
        return await signed_up(app)

    await eventually(is_in)
    await app.router.on_redaction(room(), redaction(added))

    async def is_out() -> bool:
        return not await signed_up(app)

    await eventually(is_out)


async def test_taking_back_one_of_two_sign_up_reactions_keeps_the_seat(app: App) -> None:
    target = await scheduled(app)
    thumbs, check = reaction(target, "👍"), reaction(target, "✅")
    await app.router.on_reaction(room(), thumbs)
    await app.router.on_reaction(room(), check)

    async def is_in() -> bool:
        return await signed_up(app)

    await eventually(is_in)
    await app.router.on_redaction(room(), redaction(thumbs))
    await asyncio.sleep(0.3)  # as in test_sessions_interest: time for a wrong withdrawal to happen
    assert await signed_up(app)
    await app.router.on_redaction(room(), redaction(check))

    async def is_out() -> bool:
        return not await signed_up(app)

    await eventually(is_out)


async def test_thumbs_up_on_a_proposed_session_marks_interest_not_a_sign_up(app: App) -> None:
    await proposals(app, 1)
    target = await tracked(app, SESSION_KIND, 1)
    thumbs = reaction(target, "👍")
    await app.router.on_reaction(room(), thumbs)

    async def interested() -> bool:
        return "reaction" in (await interest_of(app, FAN)).get(1, set())

    await eventually(interested)
    assert not await signed_up(app)
    await app.router.on_redaction(room(), redaction(thumbs))

    async def not_interested() -> bool:
        return 1 not in await interest_of(app, FAN)

    await eventually(not_interested)

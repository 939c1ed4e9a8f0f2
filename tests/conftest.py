"""Shared fixtures: one Synapse for the session, a bot process and members on it."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.devserver import Synapse
from tests.e2e.harness import BotProcess, Member

_counter = itertools.count()


@pytest.fixture(scope="session")
def synapse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synapse]:
    server = Synapse(tmp_path_factory.mktemp("synapse"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("e2e")


def unique(name: str) -> str:
    return f"{name}{next(_counter)}"


@pytest.fixture(scope="session")
def member_factory(synapse: Synapse, workdir: Path):  # type: ignore[no-untyped-def]
    created: list[Member] = []

    async def make(name: str) -> Member:
        member = Member(synapse, unique(name), workdir)
        await member.start()
        created.append(member)
        return member

    yield make


@pytest.fixture(scope="session")
def bot(synapse: Synapse, workdir: Path) -> Iterator[BotProcess]:
    """The shared bot: members on this homeserver may invite it; moderators by power level."""
    process = BotProcess(
        synapse,
        workdir / "bot",
        allowed_inviters=["localhost"],
        extra_config='\n[bot]\nmoderators = []\n\n[sessions]\nreminder_minutes = 1\n',
    )
    process.start()
    yield process
    process.stop()


@pytest.fixture
async def room_with_bot(bot: BotProcess, member_factory) -> AsyncIterator[tuple[str, Member]]:  # type: ignore[no-untyped-def]
    """A plain room created by a member (who is therefore a moderator there) with the bot joined."""
    owner = await member_factory("owner")
    room_id = await owner.create_room(invite=[bot.user_id])
    await owner.wait_until(lambda: bot.user_id in owner.client.rooms[room_id].users and
                           bot.user_id not in owner.client.rooms[room_id].invited_users)
    yield room_id, owner

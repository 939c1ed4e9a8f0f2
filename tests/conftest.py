"""Shared fixtures: one Synapse for the session, a bot process and members on it."""

from __future__ import annotations

import itertools
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from bot.devserver import Synapse
from tests.e2e.element import ElementMember, ElementMemberFactory, Mode
from tests.e2e.harness import BotProcess, Member

# CI (.ci/run) checks a fixed sequence of generated inputs, so a red CI is a regression, not a new random
# find; local runs draw new inputs every time and keep exploring. Loaded here, before the test modules'
# @settings decorators copy the defaults.
settings.register_profile("ci", derandomize=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

_counter = itertools.count()
MemberFactory = Callable[..., Awaitable[Member]]


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
async def member_factory(synapse: Synapse, workdir: Path) -> AsyncIterator[MemberFactory]:
    created: list[Member] = []

    async def make(name: str, *, cross_signed: bool = True) -> Member:
        member = Member(synapse, unique(name), workdir)
        await member.start(cross_signed=cross_signed)
        created.append(member)
        return member

    yield make
    for member in created:
        await member.stop()


@pytest.fixture(scope="session")
async def element_member_factory(synapse: Synapse, workdir: Path) -> AsyncIterator[ElementMemberFactory]:
    """Members on Element's SDK (tests/e2e/element.py): strict isolation and cross-signed by default."""
    created: list[ElementMember] = []

    async def make(name: str, *, mode: Mode = "strict", cross_signed: bool = True) -> ElementMember:
        member = ElementMember(synapse, unique(name), workdir, mode=mode, cross_signed=cross_signed)
        created.append(member)  # stopped at the end even if start() fails half-way
        await member.start()
        return member

    yield make
    for member in created:
        await member.stop()


@pytest.fixture(scope="session")
def bot(synapse: Synapse, workdir: Path) -> Iterator[BotProcess]:
    """The shared bot: members on this homeserver may invite it; moderators by power level."""
    process = BotProcess(
        synapse,
        workdir / "bot",
        allowed_inviters=["localhost"],
        extra_config="\n[bot]\nmoderators = []\n\n[sessions]\nreminder_minutes = 1\n",
    )
    process.start()
    yield process
    process.stop()

"""Permission table: every moderator command is refused for a member; the refusal names what to do."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from bot.app import App
from bot.framework import Command, Permission
from tests.inprocess import all_commands, invoke, make_app, prepare


@pytest.fixture(scope="module")
def loop_and_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[asyncio.AbstractEventLoop, App]]:
    loop = asyncio.new_event_loop()
    app = make_app(tmp_path_factory.mktemp("security"))
    loop.run_until_complete(prepare(app))
    yield loop, app
    loop.run_until_complete(app.db.close())
    loop.close()


def privileged(app: App) -> list[Command]:
    return [c for c in all_commands(app) if c.permission >= Permission.MODERATOR]


def test_there_are_moderator_commands(loop_and_app) -> None:
    _, app = loop_and_app
    assert len(privileged(app)) >= 3


def test_each_moderator_command_is_refused_for_a_member(loop_and_app) -> None:
    loop, app = loop_and_app
    for command in privileged(app):
        for language, refusal in (("de", "Das dürfen nur"), ("en", "Only")):
            contents = loop.run_until_complete(
                invoke(app, command, "1 2 3", moderator=False, language=language)
            )
            assert len(contents) == 1, command.name_in("de")
            assert refusal in contents[0]["body"], (command.name_in(language), contents[0]["body"])

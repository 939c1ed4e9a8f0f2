"""Commands as phones type them: autocapitalised, a space after the prefix, a full stop at the end."""

from __future__ import annotations

import pytest

from bot.app import build_catalog
from bot.features import discover_features
from tests.conftest import MemberFactory
from tests.e2e.harness import BotProcess

HEADER = build_catalog(discover_features()).translator("de")("help_header", p="!")


@pytest.mark.parametrize("typed", ["! hilfe", "!Hilfe", "!hilfe.", "!Hilfe!"])
async def test_help_as_typed_on_a_phone(bot: BotProcess, member_factory: MemberFactory, typed: str) -> None:
    member = await member_factory("handy")
    room = await member.room_with(bot.user_id)
    reply = await member.command(room, typed)
    assert HEADER in reply.body

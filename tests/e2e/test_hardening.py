"""Real community rooms are messy: pending invites, hostile input, dying workers. Nothing may stall."""

from __future__ import annotations

from tests.conftest import MemberFactory
from tests.e2e.harness import BotProcess


async def test_a_pending_invite_does_not_delay_answers_in_a_community_room(
    bot: BotProcess, member_factory: MemberFactory
) -> None:
    host = await member_factory("ruth")
    never_joins = await member_factory("schlaf")
    never_joins.auto_join = False
    room = await host.create_room(invite=[bot.user_id, never_joins.user_id], encrypted=True)
    await host.wait_for_member(room, bot.user_id)
    # Before the fix every message to an encrypted room waited up to 10 minutes while anyone was invited.
    reply = await host.command(room, "!hilfe", timeout=20)
    assert reply.msgtype == "m.notice"
    assert never_joins.user_id in host.client.rooms[room].invited_users

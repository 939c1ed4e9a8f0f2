"""Crash safety and invitation rules, with a bot process of its own that the tests kill and restart."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from nio import AsyncClient, LoginResponse

from bot.devserver import Synapse
from tests.catalog import parts, says
from tests.e2e.harness import BotProcess, Member

# The fixed start of a member reminder as it fires (its wording comes from the catalog).
REMINDER = parts("reminders_fire")[0]


@pytest.fixture(scope="module")
def crashbot(synapse: Synapse, workdir: Path) -> Iterator[BotProcess]:
    process = BotProcess(
        synapse,
        workdir / "crashbot",
        localpart="crashbot",
        allowed_inviters=[synapse.user_id("trusted")],
    )
    process.start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
async def trusted(synapse: Synapse, workdir: Path) -> Member:
    member = Member(synapse, "trusted", workdir)
    await member.start()
    return member


async def joined_room(member: Member, bot: BotProcess, *, encrypted: bool) -> str:
    room_id = await member.create_room(invite=[bot.user_id], encrypted=encrypted)
    await member.wait_for_member(room_id, bot.user_id)
    return room_id


def count(member: Member, bot: BotProcess, room_id: str, key: str) -> int:
    """How many of the bot's messages in the room are the catalog message ``key``."""
    return sum(says(r.body, key) for r in member.messages_from(bot.user_id, room_id))


async def test_reminder_survives_kill_and_fires_once(crashbot: BotProcess, trusted: Member) -> None:
    room = await joined_room(trusted, crashbot, encrypted=True)
    reply = await trusted.command(room, "!erinnere mich in 25 Sekunden an den Kaffee")
    assert says(reply.body, "reminders_created")
    crashbot.kill()
    crashbot.start()
    fired = await trusted.next_message(room_id=room, contains=REMINDER, timeout=60)
    assert "den Kaffee" in fired.body
    await asyncio.sleep(5)  # a duplicate would arrive within this window
    assert count(trusted, crashbot, room, "reminders_fire") == 1
    assert count(trusted, crashbot, room, "reminders_created") == 1, "an old command was answered again"


async def test_reminder_due_while_down_fires_at_start(crashbot: BotProcess, trusted: Member) -> None:
    room = await joined_room(trusted, crashbot, encrypted=False)
    await trusted.command(room, "!erinnere mich in 3 Sekunden an die Mittagspause")
    crashbot.kill()
    await asyncio.sleep(6)
    crashbot.start()
    fired = await trusted.next_message(room_id=room, contains=REMINDER, timeout=60)
    assert "die Mittagspause" in fired.body
    crashbot.stop()  # graceful this time
    crashbot.start()
    await asyncio.sleep(4)
    assert count(trusted, crashbot, room, "reminders_fire") == 1
    assert count(trusted, crashbot, room, "reminders_created") == 1


async def test_command_sent_while_bot_is_down_is_answered_once(crashbot: BotProcess, trusted: Member) -> None:
    room = await joined_room(trusted, crashbot, encrypted=True)
    crashbot.stop()
    event_id = await trusted.say(room, "!profil")
    crashbot.start()
    reply = await trusted.next_message(room_id=room, reply_to=event_id, timeout=60)
    assert says(reply.body, "profile_show")
    crashbot.kill()
    crashbot.start()
    await asyncio.sleep(4)
    assert sum(r.in_reply_to == event_id for r in trusted.messages_from(crashbot.user_id, room)) == 1


async def test_invite_from_allowed_inviter_is_accepted(crashbot: BotProcess, trusted: Member) -> None:
    room = await joined_room(trusted, crashbot, encrypted=False)
    assert crashbot.user_id in trusted.client.rooms[room].users


async def test_invite_from_other_inviter_is_refused(crashbot: BotProcess, member_factory) -> None:
    stranger = await member_factory("stranger")
    room_id = await stranger.create_room(invite=[crashbot.user_id])
    room = stranger.client.rooms[room_id]
    await stranger.wait_until(lambda: f"rejected invite to {room_id}" in crashbot.log())
    # The invitation is declined: the bot's membership goes from "invite" to "leave".
    await stranger.wait_until(
        lambda: crashbot.user_id not in room.users and crashbot.user_id not in room.invited_users
    )
    assert f"joined {room_id}" not in crashbot.log()


async def test_fresh_bot_treats_what_happened_before_its_first_start_as_history(
    synapse: Synapse, workdir: Path, member_factory
) -> None:
    """A new installation whose account is already in a busy room: old commands stay unanswered, old joins are
    not counted as new members — but what happens after the start is."""
    fresh = BotProcess(synapse, workdir / "freshbot", localpart="freshbot", allowed_inviters=["localhost"])
    host, early = await member_factory("host"), await member_factory("early")
    room_id = await host.create_room(invite=[fresh.user_id, early.user_id])
    account = AsyncClient(synapse.url, fresh.user_id)  # the bot's account, before the bot ever ran
    assert isinstance(await account.login(fresh.password), LoginResponse)
    await account.join(room_id)
    await account.close()
    await host.wait_for_member(room_id, early.user_id)
    old_commands = [await host.say(room_id, "!hilfe" if n % 5 == 4 else f"Nachricht {n}") for n in range(30)]
    fresh.start()
    try:
        reply = await host.command(room_id, "!hilfe", timeout=60)
        assert reply.sender == fresh.user_id
        late = await member_factory("late")
        await host.invite(room_id, late.user_id)
        await host.wait_for_member(room_id, late.user_id)
        await host.command(room_id, "!hilfe", timeout=60)  # one more sync: the join has been recorded
        replies = host.messages_from(fresh.user_id, room_id)
        assert [r for r in replies if r.in_reply_to in old_commands] == []
        with sqlite3.connect(fresh.workdir / "bot.db") as db:
            members = {row[0] for row in db.execute("SELECT user_id FROM room_memberships")}
        assert late.user_id in members
        assert early.user_id not in members
        assert host.user_id not in members
        assert "filled a gap" not in fresh.log()
    finally:
        fresh.stop()

"""Fault injection: the homeserver goes away, rate limits bite, the database is busy.

Each test runs its own Synapse so that stopping or throttling it does not disturb the other tests."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from bot.devserver import Synapse, rate_limits
from tests.catalog import says, stable
from tests.e2e.harness import BotProcess, Member

REMINDER = stable("reminders_fire")


async def start_world(
    directory: Path, *, overrides: dict[str, Any] | None = None
) -> tuple[Synapse, BotProcess, Member, str]:
    synapse = Synapse(directory / "synapse", overrides=overrides or {})
    await asyncio.to_thread(synapse.start)
    bot = BotProcess(synapse, directory / "bot", allowed_inviters=["localhost"])
    await asyncio.to_thread(bot.start)
    member = Member(synapse, "member", directory)
    await member.start()
    room_id = await member.create_room(invite=[bot.user_id])
    await member.wait_for_member(room_id, bot.user_id)
    return synapse, bot, member, room_id


async def stop_world(synapse: Synapse, bot: BotProcess, member: Member) -> None:
    await member.stop()
    await asyncio.to_thread(bot.stop)
    await asyncio.to_thread(synapse.stop)


async def test_homeserver_outage(tmp_path: Path) -> None:
    synapse, bot, member, room = await start_world(tmp_path)
    try:
        await member.command(room, "!erinnere mich in 8 Sekunden an die Pause")
        await asyncio.to_thread(synapse.stop)
        await asyncio.sleep(20)  # the reminder falls due while the homeserver is away
        await asyncio.to_thread(synapse.start)
        fired = await member.next_message(room_id=room, contains=REMINDER, timeout=90)
        assert "die Pause" in fired.body
        reply = await member.command(room, "!profil", timeout=60)
        assert says(reply.body, "profile_show")
        assert bot.process is not None
        assert bot.process.poll() is None, "the bot process must survive the outage"
    finally:
        await stop_world(synapse, bot, member)


async def test_strict_rate_limits_deliver_every_reply(tmp_path: Path) -> None:
    strict = rate_limits(relaxed=True, message={"per_second": 1, "burst_count": 2})
    synapse, bot, member, room = await start_world(tmp_path, overrides=strict)
    try:
        sent = [await member.say(room, f"!erinnere mich in {n + 2} Stunden an Punkt {n}") for n in range(6)]
        for event_id in sent:
            reply = await member.next_message(room_id=room, reply_to=event_id, timeout=90)
            assert says(reply.body, "reminders_created")
    finally:
        await stop_world(synapse, bot, member)


async def test_busy_database_does_not_fail_a_command(tmp_path: Path) -> None:
    synapse, bot, member, room = await start_world(tmp_path)
    try:
        locked = threading.Event()

        def hold_write_lock() -> None:
            connection = sqlite3.connect(bot.workdir / "bot.db", timeout=30)
            connection.execute("BEGIN EXCLUSIVE")
            locked.set()
            time.sleep(4)
            connection.rollback()
            connection.close()

        holder = threading.Thread(target=hold_write_lock)
        holder.start()
        await asyncio.to_thread(locked.wait)
        reply = await member.command(room, "!profil organisation Landkreis Beispiel", timeout=60)
        holder.join()
        assert "Landkreis Beispiel" in reply.body
    finally:
        await stop_world(synapse, bot, member)

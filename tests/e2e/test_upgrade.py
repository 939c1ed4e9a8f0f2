"""A bot upgraded from release 0.1.0: the jobs that release stored (by Python path) still fire."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from bot.devserver import Synapse
from tests.catalog import body, esc, pill
from tests.e2e.harness import BotProcess, Member

RELEASE_0_1_0 = Path(__file__).parents[1] / "fixtures" / "release-0.1.0"
FIXTURE_REMINDER = "Fixture reminder from release 0.1.0"


async def test_reminder_stored_by_release_0_1_0_fires(synapse: Synapse, workdir: Path) -> None:
    # The fixture's reminder was due in the past; a long grace period lets it fire as due, not as missed.
    upgraded = BotProcess(
        synapse,
        workdir / "upgraded",
        ["localhost"],
        extra_config="\n[scheduler]\nmisfire_grace_minutes = 100000000\n",
        localpart="upgraded",
    )
    member = Member(synapse, "upgrader", workdir)
    await member.start()
    try:
        room_id = await member.create_room(invite=[upgraded.user_id])
        for name in ("bot.db", "bot-jobs.db"):
            shutil.copy(RELEASE_0_1_0 / name, upgraded.workdir / name)
        with sqlite3.connect(upgraded.workdir / "bot.db") as connection:
            connection.execute(
                "UPDATE reminders SET room_id = ?, owner_id = ? WHERE id = 1", (room_id, member.user_id)
            )
        upgraded.start()
        try:
            expected = body("reminders_fire", people=pill(member.user_id), text=esc(FIXTURE_REMINDER))
            fired = await member.next_message(room_id=room_id, contains=FIXTURE_REMINDER, timeout=60)
            assert fired.body == expected
            assert "Traceback" not in upgraded.log()
        finally:
            upgraded.stop()
    finally:
        await member.stop()

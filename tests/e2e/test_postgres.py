"""The bot on PostgreSQL (asyncpg for the bot, psycopg for migrations and the job store).

A throw-away cluster is created with the PostgreSQL server binaries of the machine (CI installs them) and
listens on 127.0.0.1 only."""

from __future__ import annotations

import asyncio
import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.devserver import Synapse, free_port
from storage.db import Database, upgrade_database
from storage.models import Member as MemberRow
from storage.models import Reminder
from tests.catalog import number_in, says, stable
from tests.e2e.harness import BotProcess, Member


def _server_binaries() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb is None:
        raise RuntimeError("PostgreSQL server binaries not found: install the 'postgresql' package")
    return Path(initdb).parent


def _as_postgres(args: list[str]) -> list[str]:
    # initdb refuses to run as root; CI runs as root, developers usually not.
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    binaries = _server_binaries()
    # Not under pytest's tmp dir: that is private to root, and the server runs as the postgres user.
    base = Path(tempfile.mkdtemp(prefix="community-bot-pg-"))
    data = base / "data"
    data.mkdir()
    if os.geteuid() == 0:
        shutil.chown(base, "postgres")
        shutil.chown(data, "postgres")
    port = free_port()
    env = {**os.environ, "LC_ALL": "C.UTF-8"}
    subprocess.run(
        _as_postgres([str(binaries / "initdb"), "-D", str(data), "-A", "trust", "-U", "bot", "-E", "UTF8"]),
        check=True,
        capture_output=True,
        env=env,
    )
    options = f"-p {port} -c listen_addresses=127.0.0.1 -k {data}"
    subprocess.run(
        _as_postgres(
            [str(binaries / "pg_ctl"), "-D", str(data), "-o", options, "-w", "-l", str(data / "log"), "start"]
        ),
        check=True,
        capture_output=True,
        env=env,
    )
    subprocess.run(
        _as_postgres(
            [str(binaries / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "bot", "community"]
        ),
        check=True,
        capture_output=True,
        env=env,
    )
    yield f"postgresql+asyncpg://bot@127.0.0.1:{port}/community"
    subprocess.run(
        _as_postgres([str(binaries / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"]), check=False
    )
    shutil.rmtree(base, ignore_errors=True)


async def test_migrations_and_repositories_on_postgres(postgres_url: str) -> None:
    await asyncio.to_thread(upgrade_database, postgres_url)
    await asyncio.to_thread(upgrade_database, postgres_url)  # idempotent
    database = Database(postgres_url)
    due = datetime(2027, 3, 28, 7, 30, tzinfo=UTC)  # the morning the clocks change in Berlin
    try:
        async with database.session() as session:
            session.add(MemberRow(user_id="@pg:example.org", topics=["OZG", "Open Source"], level="land"))
            session.add(
                Reminder(
                    owner_id="@pg:example.org",
                    room_id="!r:example.org",
                    text="t",
                    timezone="Europe/Berlin",
                    due_at=due,
                )
            )
        async with database.session() as session:
            member = await session.get(MemberRow, "@pg:example.org")
            reminder = (await session.scalars(select(Reminder))).first()
        assert member is not None
        assert member.topics == ["OZG", "Open Source"]
        assert reminder is not None
        assert reminder.due_at == due
    finally:
        await database.close()


async def test_bot_reminder_on_postgres(postgres_url: str, synapse: Synapse, workdir: Path) -> None:
    await asyncio.to_thread(upgrade_database, postgres_url)
    bot = BotProcess(
        synapse,
        workdir / "pgbot",
        localpart="pgbot",
        allowed_inviters=["localhost"],
        env={"COMMUNITY_BOT_STORAGE__DATABASE_URL": postgres_url},
    )
    await asyncio.to_thread(bot.start)
    try:
        member = Member(synapse, "pgmember", workdir)
        await member.start()
        room_id = await member.create_room(invite=[bot.user_id], encrypted=True)
        await member.wait_for_member(room_id, bot.user_id)
        reply = await member.command(room_id, "!erinnere mich in 3 Sekunden an Postgres")
        assert says(reply.body, "reminders_created")
        fired = await member.next_message(room_id=room_id, contains=stable("reminders_fire"), timeout=40)
        assert "Postgres" in fired.body
        assert timedelta(0) <= datetime.now(UTC) - datetime.fromtimestamp(
            fired.source["origin_server_ts"] / 1000, UTC
        )

        # Sign-ups lock the session's row (SELECT … FOR UPDATE), which PostgreSQL, unlike SQLite, checks.
        guest = Member(synapse, "pgguest", workdir)
        await guest.start()
        await member.invite(room_id, guest.user_id)
        await guest.join(room_id)
        tomorrow = datetime.now(UTC) + timedelta(days=1)
        created = await member.command(room_id, f'!veranstaltung neu "PG-Camp" {tomorrow:%d.%m.%Y}')
        event = number_in(created.body, "sessions_event_created", "event_id")
        await member.command(room_id, f'!veranstaltung zeitfenster {event} "Runde 1" 11:15-12:00')
        proposed = await member.command(room_id, '!session vorschlagen "Auf Postgres" plätze 1')
        session = number_in(proposed.body, "sessions_proposed", "session_id")
        await member.command(room_id, f"!session einplanen {session} 1")
        await member.command(room_id, f"!veranstaltung veröffentlichen {event}")
        signed = await guest.command(room_id, f"!anmelden {session}")
        assert says(signed.body, "sessions_signup_confirmed", title="Auf Postgres", session_id=session)
        hosting = await member.command(
            room_id, f"!anmelden {session}"
        )  # the seat is taken: hosts still get in
        assert says(hosting.body, "sessions_signup_host_confirmed", title="Auf Postgres", session_id=session)
        withdrawn = await guest.command(room_id, f"!abmelden {session}")
        assert says(withdrawn.body, "sessions_withdrawn", title="Auf Postgres", session_id=session)
        topics = await guest.command(room_id, "!profil themen OZG, KI")  # add the member, set the field
        assert says(topics.body, "profile_saved_topics", value="OZG, KI")
        agenda = await guest.command(room_id, "!programm")  # the agenda's four statements, on PostgreSQL
        for shown in ("PG-Camp", "Runde 1", "Auf Postgres"):
            assert shown in agenda.body
        await guest.stop()
        await member.stop()
    finally:
        await asyncio.to_thread(bot.stop)

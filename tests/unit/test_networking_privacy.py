"""Networking data in the privacy export and erasure: contacts, partner requests, participation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from commands.networking.feature import request_job
from commands.networking.privacy import erase_networking, export_networking
from storage.db import Database
from storage.networking import BlockParticipant, Meeting, NetworkingBlock, PartnerRequest
from tests.fakes import FakeApp

T0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
ME, OTHER, THIRD = "@me:x", "@other:x", "@third:x"


async def test_export_and_erase(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}")
    await db.upgrade()
    app: Any = FakeApp(db)
    async with db.session() as session:
        block = NetworkingBlock(room_id="!room:x", duration_seconds=420, opened_by=OTHER)
        session.add(block)
        await session.flush()
        session.add_all(
            [
                BlockParticipant(block_id=block.id, user_id=ME),
                BlockParticipant(block_id=block.id, user_id=OTHER),
                Meeting(user_a=ME, user_b=OTHER, met_at=T0, room_id="!room:x", block_id=block.id),
                Meeting(user_a=OTHER, user_b=THIRD, met_at=T0, room_id="!room:x", block_id=block.id),
                PartnerRequest(
                    user_id=ME, room_id="!room:x", rooms=["!room:x"], expires_at=T0 + timedelta(minutes=10)
                ),
                PartnerRequest(
                    user_id=OTHER,
                    room_id="!room:x",
                    rooms=["!room:x"],
                    status="matched",
                    partner_id=ME,
                    expires_at=T0,
                ),
            ]
        )
    exported = await export_networking(app, ME)
    assert [contact["met"] for contact in exported["contacts"]] == [OTHER]
    assert len(exported["partner_requests"]) == 1
    assert exported["networking_participation"][0]["room_id"] == "!room:x"

    removed = await erase_networking(app, ME)
    assert removed == 3  # one meeting, one participation, one request
    async with db.session() as session:
        mentioning_me = await session.scalar(
            select(func.count()).select_from(Meeting).where((Meeting.user_a == ME) | (Meeting.user_b == ME))
        )
        partner_ids = (await session.scalars(select(PartnerRequest.partner_id))).all()
        others_left = await session.scalar(select(func.count()).select_from(Meeting))
    assert mentioning_me == 0
    assert partner_ids == [None]
    assert others_left == 1
    waiting_id = exported["partner_requests"][0]["id"]
    assert request_job(waiting_id) in app.jobs.cancelled
    assert await export_networking(app, ME) == {
        "partner_requests": [],
        "networking_participation": [],
        "contacts": [],
    }
    await db.close()

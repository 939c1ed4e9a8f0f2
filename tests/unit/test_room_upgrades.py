"""Following a room upgrade moves every table's references to the old room (generic over the models)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from bot.room_upgrades import move_room_data
from storage.models import OutboxMessage, ProcessedEvent, Reminder, RoomMembership, RoomSetting
from storage.networking import PartnerRequest
from tests.inprocess import make_app, prepare

OLD, NEW, OTHER = "!old:example.org", "!new:example.org", "!other:example.org"


async def test_the_old_rooms_data_moves_and_its_timeline_records_stay(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    await prepare(app)
    now = datetime.now(UTC)
    try:
        async with app.db.session() as session:
            session.add_all(
                [
                    RoomSetting(room_id=OLD, language="en", joined_at=now),
                    RoomSetting(room_id=NEW, joined_at=now),  # made when the bot joined the successor
                    Reminder(owner_id="@a:x", room_id=OLD, text="t", timezone="UTC", due_at=now),
                    ProcessedEvent(event_id="$cmd", room_id=OLD),
                    RoomMembership(room_id=OLD, user_id="@a:x", joined_at=now),
                    RoomMembership(room_id=OLD, user_id="@b:x", joined_at=now),
                    RoomMembership(room_id=NEW, user_id="@a:x", joined_at=now),
                    PartnerRequest(user_id="@a:x", room_id=OLD, rooms=[OLD, OTHER], expires_at=now),
                    OutboxMessage(room_id=OLD, content={}, txn_id="sent", sent_at=now, created_at=now),
                    OutboxMessage(room_id=OLD, content={}, txn_id="queued", created_at=now),
                ]
            )
        moved = await move_room_data(app, OLD, NEW)
        async with app.db.session() as session:
            settings = {s.room_id: s for s in (await session.scalars(select(RoomSetting))).all()}
            reminder_rooms = set((await session.scalars(select(Reminder.room_id))).all())
            processed = set((await session.scalars(select(ProcessedEvent.room_id))).all())
            members = set(
                (await session.execute(select(RoomMembership.room_id, RoomMembership.user_id))).all()
            )
            request = (await session.scalars(select(PartnerRequest))).one()
            outbox = dict((await session.execute(select(OutboxMessage.txn_id, OutboxMessage.room_id))).all())
        assert set(settings) == {NEW}
        assert settings[NEW].language == "en", "the room's language goes along"
        assert reminder_rooms == {NEW}
        assert processed == {OLD}, "handled events stay with the timeline they came from"
        assert members == {(NEW, "@a:x"), (NEW, "@b:x")}
        assert (request.room_id, request.rooms) == (NEW, [NEW, OTHER])
        assert outbox == {"sent": OLD, "queued": NEW}
        assert moved["reminders"] == 1
        assert await move_room_data(app, OLD, NEW) == {}, "idempotent"
    finally:
        await app.db.close()

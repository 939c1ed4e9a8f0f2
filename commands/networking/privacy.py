"""Privacy export and erasure of the networking feature."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, or_, select, update

from storage.networking import BlockParticipant, Meeting, NetworkingBlock, PartnerRequest

if TYPE_CHECKING:
    from bot.app import App
from .feature import feature, request_job
from .status import RequestStatus


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


@feature.privacy_export
async def export_networking(app: App, user_id: str) -> dict[str, Any]:
    async with app.db.session() as session:
        requests = (
            await session.scalars(select(PartnerRequest).where(PartnerRequest.user_id == user_id))
        ).all()
        participations = (
            await session.execute(
                select(BlockParticipant, NetworkingBlock.room_id)
                .join(NetworkingBlock, NetworkingBlock.id == BlockParticipant.block_id)
                .where(BlockParticipant.user_id == user_id)
            )
        ).all()
        meetings = (
            await session.scalars(
                select(Meeting)
                .where(or_(Meeting.user_a == user_id, Meeting.user_b == user_id))
                .order_by(Meeting.id)
            )
        ).all()
    return {
        "partner_requests": [
            {
                "id": r.id,
                "room_id": r.room_id,
                "rooms": r.rooms,
                "status": r.status,
                "partner": r.partner_id,
                "created_at": _iso(r.created_at),
                "expires_at": _iso(r.expires_at),
            }
            for r in requests
        ],
        "networking_participation": [
            {"block_id": p.block_id, "room_id": room_id, "status": p.status, "joined_at": _iso(p.joined_at)}
            for p, room_id in participations
        ],
        "contacts": [
            {
                "met": m.other(user_id),
                "met_at": _iso(m.met_at),
                "room_id": m.room_id,
                "intro_room_id": m.intro_room_id,
                "block_id": m.block_id,
                "round_id": m.round_id,
            }
            for m in meetings
        ],
    }


@feature.privacy_erase
async def erase_networking(app: App, user_id: str) -> int:
    async with app.db.session() as session:
        waiting = (
            await session.scalars(
                select(PartnerRequest.id).where(
                    PartnerRequest.user_id == user_id, PartnerRequest.status == RequestStatus.WAITING
                )
            )
        ).all()
        count = 0
        for statement in (
            delete(Meeting).where(or_(Meeting.user_a == user_id, Meeting.user_b == user_id)),
            delete(BlockParticipant).where(BlockParticipant.user_id == user_id),
            delete(PartnerRequest).where(PartnerRequest.user_id == user_id),
        ):
            result = await session.execute(statement)
            count += int(getattr(result, "rowcount", 0) or 0)
        # Other people's requests keep their own rows but no longer name this person.
        await session.execute(
            update(PartnerRequest).where(PartnerRequest.partner_id == user_id).values(partner_id=None)
        )
    for request_id in waiting:
        app.jobs.cancel(request_job(request_id))
    return count

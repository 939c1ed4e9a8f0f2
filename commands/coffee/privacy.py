"""Privacy export and erasure of NExT-Kaffee: opt-in, own block list, groups, follow-up answers.

Other people's block lists are theirs: an export never shows who blocked the member (never revealed); erasure
removes the member from every group and answer, and their own block list."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select

from storage.coffee import CoffeeAnswer, CoffeeBlock, CoffeeGroup, CoffeeParticipant

if TYPE_CHECKING:
    from bot.app import App
from .feature import feature


def _iso(value: datetime | date | None) -> str | None:
    return value.isoformat() if value else None


@feature.privacy_export
async def export_coffee(app: App, user_id: str) -> dict[str, Any]:
    async with app.db.session() as session:
        row = await session.get(CoffeeParticipant, user_id)
        blocked = (await session.scalars(select(CoffeeBlock).where(CoffeeBlock.user_id == user_id))).all()
        groups = [
            g
            for g in (await session.scalars(select(CoffeeGroup).order_by(CoffeeGroup.id))).all()
            if user_id in g.members
        ]
        answers = {
            a.group_id: a
            for a in (
                await session.scalars(select(CoffeeAnswer).where(CoffeeAnswer.user_id == user_id))
            ).all()
        }
    return {
        "coffee_participation": None
        if row is None
        else {
            "status": row.status,
            "rhythm_weeks": row.weeks,
            "paused": row.paused,
            "paused_until": _iso(row.paused_until),
            "follow_ups_without_meeting": row.misses,
            "last_paired_at": _iso(row.last_paired_at),
            "joined_at": _iso(row.joined_at),
        },
        "coffee_blocked": [{"user": b.blocked_id, "since": _iso(b.created_at)} for b in blocked],
        "coffee_pairings": [
            {
                "with": [user for user in g.members if user != user_id],
                "chat": g.room_id,
                "paired_at": _iso(g.created_at),
                "answer": answers[g.id].answer if g.id in answers else None,
            }
            for g in groups
        ],
    }


@feature.privacy_erase
async def erase_coffee(app: App, user_id: str) -> int:
    count = 0
    async with app.db.session() as session:
        for statement in (
            delete(CoffeeParticipant).where(CoffeeParticipant.user_id == user_id),
            delete(CoffeeBlock).where(CoffeeBlock.user_id == user_id),
            delete(CoffeeAnswer).where(CoffeeAnswer.user_id == user_id),
        ):
            result = await session.execute(statement)
            count += int(getattr(result, "rowcount", 0) or 0)
        # Groups keep the other members (their history), without this person.
        for group in (await session.scalars(select(CoffeeGroup))).all():
            if user_id in group.members:
                group.members = [user for user in group.members if user != user_id]
                count += 1
    return count

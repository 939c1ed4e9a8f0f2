"""Repository of members (preferences and networking profile)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Member


async def get_or_create_member(session: AsyncSession, user_id: str) -> Member:
    member = await session.get(Member, user_id)
    if member is None:
        member = Member(user_id=user_id, topics=[])
        session.add(member)
        await session.flush()
    return member

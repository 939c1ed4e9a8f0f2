"""Introducing the people who meet: a private room per group, or a threaded message in the community room."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import TYPE_CHECKING

from sqlalchemy import select

from bot.format import esc
from bot.i18n import Translate
from bot.sender import pill
from commands.networking.logic import (
    pick_starter,
)
from storage.models import Member

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.app import App
    from commands.networking.matching import Participant
from .feature import ROOM_CREATION_PARALLEL, log, networking_settings, starters

# --- profiles and introductions -----------------------------------------------------------------------------


async def load_profiles(session: AsyncSession, user_ids: Sequence[str]) -> dict[str, Member]:
    if not user_ids:
        return {}
    rows = (await session.scalars(select(Member).where(Member.user_id.in_(list(user_ids))))).all()
    return {row.user_id: row for row in rows}


def participant(user_id: str, member: Member | None) -> Participant:
    # numpy and rustworkx are imported on first use, not at start-up.
    from commands.networking.matching import Participant

    return Participant(user_id, member.organisation if member else None, member.level if member else None)


def _person_line(t: Translate, user_id: str, member: Member | None) -> str:
    dash = t("networking_not_set")
    organisation = esc(member.organisation) if member and member.organisation else dash
    level = t(f"networking_level_{member.level}") if member and member.level else dash
    topics = ", ".join(esc(topic) for topic in member.topics) if member and member.topics else dash
    return t(
        "networking_intro_person", user=pill(user_id), organisation=organisation, level=level, topics=topics
    )


def intro_markdown(
    app: App, t: Translate, group: Sequence[str], profiles: dict[str, Member], *, heading: str, threaded: bool
) -> str:
    people = "\n".join(_person_line(t, user_id, profiles.get(user_id)) for user_id in group)
    starter = pick_starter(starters(app), t.language)
    key = "networking_intro_threaded" if threaded else "networking_intro"
    return t(key, heading=heading, people=people, starter=esc(starter))


async def introduce(
    app: App,
    groups: Sequence[Sequence[str]],
    *,
    language: str,
    community_room: str | None,
    thread_root: str | None,
    headings: Sequence[str],
    room_names: Sequence[str],
) -> list[str | None]:
    """Send one introduction per group; returns the private room of each group (None: intro in the community
    room, as a thread under ``thread_root`` when given)."""
    t = app.catalog.translator(language)
    async with app.db.session() as session:
        profiles = await load_profiles(session, sorted({user for group in groups for user in group}))
    private = networking_settings(app).private_rooms or community_room is None
    limit = asyncio.Semaphore(ROOM_CREATION_PARALLEL)

    async def one(index: int, group: Sequence[str]) -> str | None:
        room_id: str | None = None
        if private:
            try:
                async with limit:
                    room_id = await app.matrix.create_room(room_names[index], list(group))
            except Exception:
                log.exception("could not create an intro room; introducing in the community room instead")
        if room_id is not None:
            text = intro_markdown(app, t, group, profiles, heading=headings[index], threaded=False)
            # The outbox holds it until the invited people have joined (they get the room key then).
            await app.sender.send(text, room_id=room_id, mentions=tuple(group))
            return room_id
        if community_room is None:
            return None
        text = intro_markdown(app, t, group, profiles, heading=headings[index], threaded=True)
        await app.sender.send(
            text,
            room_id=community_room,
            mentions=tuple(group),
            thread_root=thread_root,
            reply_to=None,
        )
        return None

    return list(await asyncio.gather(*(one(i, group) for i, group in enumerate(groups))))

"""Introducing a pair or trio: a new private (encrypted) chat with names, organisations, levels, shared topics
and one conversation starter. Only the group's own members (all opted in) are named in it."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import select, update

from bot.format import esc
from bot.i18n import Translate
from bot.names import display_name
from bot.sender import pill
from commands.coffee.pairing import CoffeeMember, shared_topics
from commands.networking.feature import starters
from commands.networking.logic import pick_starter
from storage.coffee import CoffeeGroup
from storage.db import claimed
from storage.models import Member

if TYPE_CHECKING:
    from bot.app import App
from .feature import ROOM_CREATION_PARALLEL, log
from .runs import NewGroup


def _person_line(app: App, t: Translate, user_id: str, member: Member | None) -> str:
    dash = t("coffee_not_set")
    return t(
        "coffee_intro_person",
        user=pill(user_id, display_name(app, user_id)),
        organisation=esc(member.organisation) if member and member.organisation else dash,
        level=t(f"coffee_level_{member.level}") if member and member.level else dash,
    )


def _shared(group: Sequence[str], profiles: dict[str, Member]) -> list[str]:
    people = [
        CoffeeMember(u, topics=frozenset(profiles[u].topics or ()) if u in profiles else frozenset())
        for u in group
    ]
    # Shown as the first person of the pair typed it ("OZG", not the folded "ozg").
    found: dict[str, str] = {}
    for first, second in itertools.combinations(people, 2):
        spelled = {" ".join(topic.casefold().split()): topic for topic in first.topics}
        for topic in sorted(shared_topics(first, second)):
            found.setdefault(topic, spelled.get(topic, topic))
    return list(found.values())


def intro_markdown(app: App, t: Translate, group: Sequence[str], profiles: dict[str, Member]) -> str:
    people = "\n".join(_person_line(app, t, user_id, profiles.get(user_id)) for user_id in group)
    topics = _shared(group, profiles)
    shared = (
        t("coffee_intro_topics", topics=", ".join(esc(topic) for topic in topics))
        if topics
        else t("coffee_intro_no_topics")
    )
    key = "coffee_intro_trio" if len(group) == 3 else "coffee_intro"
    return t(key, people=people, shared=shared, starter=esc(pick_starter(starters(app), t.language)))


async def introduce(app: App, groups: Sequence[NewGroup]) -> None:
    """A chat per group (a few at a time) with its introduction; by direct message if the chat fails.

    Also at start for groups whose introduction a crash or shutdown prevented (``introduced_at`` unset)."""
    users = sorted({user for group in groups for user in group.members})
    async with app.db.session() as session:
        found = await session.scalars(select(Member).where(Member.user_id.in_(users)))
        profiles = {m.user_id: m for m in found}
    limit = asyncio.Semaphore(ROOM_CREATION_PARALLEL)

    async def one(group: NewGroup) -> None:
        t = app.catalog.translator(group.language)
        text = intro_markdown(app, t, group.members, profiles)
        room_id = group.room_id
        if room_id is None:
            try:
                async with limit:
                    room_id = await app.matrix.create_room(t("coffee_room_name"), list(group.members))
            except Exception:
                log.exception(
                    "could not create the NExT-Kaffee chat of group %s; introducing by DM", group.id
                )
                await queue_intro(app, group.id, text, room_id=None, people=group.members)
                return
            async with app.db.session() as session:
                await session.execute(
                    update(CoffeeGroup).where(CoffeeGroup.id == group.id).values(room_id=room_id)
                )
        # The outbox holds it until the invited people have joined (they get the room key then).
        await queue_intro(app, group.id, text, room_id=room_id, people=group.members)

    await asyncio.gather(*(one(group) for group in groups))


async def queue_intro(
    app: App, group_id: int, text: str, *, room_id: str | None, people: tuple[str, ...]
) -> None:
    """Queue the introduction exactly once: the outbox rows and ``introduced_at`` in one transaction."""
    async with app.db.session() as session:
        if not await claimed(
            session,
            update(CoffeeGroup)
            .where(CoffeeGroup.id == group_id, CoffeeGroup.introduced_at.is_(None))
            .values(introduced_at=datetime.now(UTC)),
        ):
            return
        if room_id is not None:
            session.add(app.sender.prepare(text, room_id=room_id, mentions=people))
        else:
            for user in people:
                session.add(app.sender.prepare(text, to_user=user, mentions=people))
    app.sender.wake()

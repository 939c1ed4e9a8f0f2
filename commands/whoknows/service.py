"""Who-knows' transactions: findability, synonyms, searches (rate-limited, the numbered list stored)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select

from bot.framework import CommandError
from bot.names import name_or_localpart
from storage.models import Member
from storage.whoknows import Findable, Search, Synonym
from timephrases.formatting import format_datetime

from .feature import shipped_synonyms, whoknows_settings
from .limits import retry_at
from .matching import Profile, Synonyms, joined, key, rank

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.app import App

MAX_SYNONYM_LENGTH = 100


def limit_error(key_: str, when: datetime, language: str, tz: ZoneInfo) -> CommandError:
    """A polite refusal that says when the member can try again (in their language and zone)."""
    return CommandError(key_, when=format_datetime(when, language, tz))


# --- findability -------------------------------------------------------------------------------------------


async def set_findable(app: App, user_id: str, findable: bool) -> None:
    async with app.db.session() as session:
        row = await session.get(Findable, user_id)
        if findable and row is None:
            session.add(Findable(user_id=user_id))
        elif not findable and row is not None:
            await session.delete(row)


async def is_findable(session: AsyncSession, user_id: str) -> bool:
    return await session.get(Findable, user_id) is not None


# --- synonyms ----------------------------------------------------------------------------------------------


async def load_synonyms(session: AsyncSession) -> Synonyms:
    rows = (await session.execute(select(Synonym.word, Synonym.other))).tuples().all()
    return Synonyms([*shipped_synonyms(), *rows])


async def add_synonym(app: App, word: str, other: str, *, by: str) -> None:
    """``!wer-kennt synonym OZG = Onlinezugangsgesetz`` (moderators)."""
    word, other = word.strip(), other.strip()
    if not key(word) or not key(other) or len(word) > MAX_SYNONYM_LENGTH or len(other) > MAX_SYNONYM_LENGTH:
        raise CommandError("whoknows_error_synonym", show_usage=True)
    if joined(key(word)) == joined(key(other)):
        raise CommandError("whoknows_error_synonym_same", word=word)
    async with app.db.session() as session:
        synonyms = await load_synonyms(session)
        if synonyms.same(key(word), key(other)):
            raise CommandError("whoknows_error_synonym_known", word=word, other=other)
        session.add(Synonym(word=word, other=other, added_by=by))


def parse_synonym(text: str) -> tuple[str, str]:
    """``OZG = Onlinezugangsgesetz`` (also ``↔``, ``<->``) → the two words; refused without a separator."""
    for separator in ("<->", "↔", "=", "⇔"):
        if separator in text:
            left, right = text.split(separator, 1)
            if left.strip() and right.strip():
                return left.strip(), right.strip()
    raise CommandError("whoknows_error_synonym", show_usage=True)


# --- searching ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Found:
    number: int
    user_id: str
    name: str
    organisation: str | None
    level: str | None
    topics: tuple[str, ...]


async def search(
    app: App, asker: str, topic: str, now: datetime, *, language: str, tz: ZoneInfo
) -> list[Found]:
    """Findable members who know about ``topic`` (best first), stored as the asker's numbered list.

    Refused over the hourly limit; members who are not findable are never read, the asker is never in it."""
    topic = topic.strip()
    if not key(topic):
        raise CommandError("whoknows_error_topic", show_usage=True)
    settings = whoknows_settings(app)
    window = timedelta(hours=1)
    async with app.db.session() as session:
        times = (
            await session.scalars(
                select(Search.created_at).where(Search.user_id == asker, Search.created_at > now - window)
            )
        ).all()
        again = retry_at(times, now, window=window, limit=settings.searches_per_hour)
        if again is not None:
            raise limit_error("whoknows_error_search_limit", again, language, tz)
        # Only findable members are read at all (a join, not a list of ids: a network has thousands).
        findable_members = (
            await session.scalars(
                select(Member)
                .join(Findable, Findable.user_id == Member.user_id)
                .where(Member.user_id != asker)
            )
        ).all()
        members = {member.user_id: member for member in findable_members}
        own = await session.get(Member, asker)
        synonyms = await load_synonyms(session)
        hits = rank(
            topic,
            own.organisation if own else None,
            (
                Profile(member.user_id, member.organisation, tuple(member.topics))
                for member in findable_members
            ),
            synonyms,
            limit=settings.max_results,
        )
        # Older lists are no longer needed once out of the rate-limit window and no longer valid.
        keep = max(window, timedelta(hours=settings.list_valid_hours))
        await session.execute(delete(Search).where(Search.user_id == asker, Search.created_at < now - keep))
        session.add(Search(user_id=asker, topic=topic, results=[hit.user_id for hit in hits], created_at=now))
    return [
        Found(
            number,
            hit.user_id,
            name_or_localpart(app, hit.user_id),
            members[hit.user_id].organisation,
            members[hit.user_id].level,
            hit.topics,
        )
        for number, hit in enumerate(hits, start=1)
    ]


@dataclass(frozen=True)
class Chosen:
    """The person behind a number of the asker's latest list, and that list's topic."""

    user_id: str
    topic: str


async def chosen_from_list(session: AsyncSession, asker: str, number: int, now: datetime, app: App) -> Chosen:
    """The number in the asker's latest result list; refused when there is none, it is too old, the number is
    not on it, or that person is no longer findable (all without saying more about them)."""
    latest = await session.scalar(
        select(Search).where(Search.user_id == asker).order_by(Search.created_at.desc(), Search.id.desc())
    )
    if latest is None:
        raise CommandError("whoknows_error_no_list")
    if now - latest.created_at > timedelta(hours=whoknows_settings(app).list_valid_hours):
        raise CommandError("whoknows_error_old_list", topic=latest.topic)
    if not 1 <= number <= len(latest.results) or not latest.results[number - 1]:
        raise CommandError(
            "whoknows_error_number", number=number, count=len(latest.results), topic=latest.topic
        )
    user_id = latest.results[number - 1]
    if user_id == asker:
        raise CommandError("whoknows_error_self")
    if not await is_findable(session, user_id):
        raise CommandError(
            "whoknows_error_number", number=number, count=len(latest.results), topic=latest.topic
        )
    return Chosen(user_id, latest.topic)

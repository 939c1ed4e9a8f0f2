"""``!vorstellen``: ask the found person first; only on their yes a chat for both, otherwise a neutral note.

The found person answers with a plain reply to the question ("ja", "lieber nicht"), a reaction (👍/✅ or
👎/❌) on it, a short "ja"/"nein" in the direct chat, or ``!vorstellen ja|nein``; no answer within
``answer_days`` counts like a no. The asker never learns which of the two it was.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import select, update

from bot.format import esc
from bot.framework import CommandError
from bot.i18n import Translate
from bot.names import name_or_localpart
from bot.sender import pill
from storage.db import claimed
from storage.models import Member
from storage.whoknows import IntroductionRequest

from .feature import REQUEST_KIND, log, request_job, whoknows_settings
from .limits import already_asked, retry_at
from .matching import joined, key
from .service import chosen_from_list, limit_error
from .status import FINISHED, RequestStatus

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.app import App


@dataclass(frozen=True)
class Asked:
    request_id: int
    name: str
    topic: str


def _language(member: Member | None, app: App) -> str:
    return (member.language if member and member.language else None) or app.settings.bot.language


def _profile_text(t: Translate, member: Member | None) -> str:
    dash = t("whoknows_not_set")
    organisation = esc(member.organisation) if member and member.organisation else dash
    level = t(f"profile_level_{member.level}") if member and member.level else dash
    return t("whoknows_profile", organisation=organisation, level=level)


async def request_introduction(
    app: App, asker: str, number: int, now: datetime, *, language: str, tz: ZoneInfo
) -> Asked:
    """Ask the person behind ``number`` of the asker's latest list by direct message (limits checked)."""
    settings = whoknows_settings(app)
    async with app.db.session() as session:
        chosen = await chosen_from_list(session, asker, number, now, app)
        period = timedelta(days=settings.ask_again_days)
        earlier = (
            (
                await session.execute(
                    select(
                        IntroductionRequest.target_id,
                        IntroductionRequest.topic_key,
                        IntroductionRequest.created_at,
                    ).where(
                        IntroductionRequest.asker_id == asker, IntroductionRequest.created_at > now - period
                    )
                )
            )
            .tuples()
            .all()
        )
        topic_key = joined(key(chosen.topic))[:200]
        name = name_or_localpart(app, chosen.user_id)
        day = timedelta(days=1)
        again = retry_at(
            [when for *_, when in earlier], now, window=day, limit=settings.introductions_per_day
        )
        if again is not None:
            raise limit_error("whoknows_error_intro_limit", again, language, tz)
        if already_asked(earlier, chosen.user_id, topic_key, now, period=period):
            raise CommandError("whoknows_error_asked_before", name=name, topic=chosen.topic)
        members = await _members(session, [asker, chosen.user_id])
        request = IntroductionRequest(
            asker_id=asker,
            target_id=chosen.user_id,
            topic=chosen.topic,
            topic_key=topic_key,
            status=RequestStatus.PENDING,
            asker_language=language,
            created_at=now,
            expires_at=now + timedelta(seconds=settings.answer_seconds_effective),
        )
        session.add(request)
        await session.flush()
        t = app.catalog.translator(_language(members.get(chosen.user_id), app))
        question = t(
            "whoknows_ask",
            name=esc(name_or_localpart(app, asker)),
            profile=_profile_text(t, members.get(asker)),
            topic=esc(chosen.topic),
            number=request.id,
            p=app.settings.bot.command_prefix,
        )
        session.add(app.sender.prepare(question, to_user=chosen.user_id, track=(REQUEST_KIND, request.id)))
        request_id, expires_at = request.id, request.expires_at
    app.sender.wake()
    from .jobs import request_expired

    app.jobs.at(request_job(request_id), request_expired, expires_at, request_id)
    return Asked(request_id, name, chosen.topic)


async def _members(session: AsyncSession, user_ids: list[str]) -> dict[str, Member]:
    rows = (await session.scalars(select(Member).where(Member.user_id.in_(user_ids)))).all()
    return {row.user_id: row for row in rows}


async def pending_for(session: AsyncSession, target: str, number: int | None) -> IntroductionRequest:
    """The request to ``target`` that an answer means: the given number, or the oldest open one."""
    query = select(IntroductionRequest).where(
        IntroductionRequest.target_id == target, IntroductionRequest.status == RequestStatus.PENDING
    )
    if number is not None:
        query = query.where(IntroductionRequest.id == number)
    found = await session.scalar(query.order_by(IntroductionRequest.created_at, IntroductionRequest.id))
    if found is None:
        raise CommandError("whoknows_error_no_request")
    return found


async def open_requests(app: App, target: str) -> list[int]:
    """The ids of the requests to ``target`` that wait for their answer."""
    async with app.db.session() as session:
        found = await session.scalars(
            select(IntroductionRequest.id).where(
                IntroductionRequest.target_id == target, IntroductionRequest.status == RequestStatus.PENDING
            )
        )
        return list(found.all())


async def answer(app: App, target: str, number: int | None, *, accept: bool) -> str:
    """The found person's yes or no; returns the asker's display name for the confirmation."""
    async with app.db.session() as session:
        request = await pending_for(session, target, number)
    if not await finish(app, request.id, RequestStatus.ACCEPTED if accept else RequestStatus.DECLINED):
        raise CommandError("whoknows_error_no_request")
    return name_or_localpart(app, request.asker_id)


async def answer_by_reaction(app: App, request_id: int, sender: str, *, accept: bool) -> None:
    """A reaction on the question: counts only when it is the asked person's own."""
    async with app.db.session() as session:
        target = await session.scalar(
            select(IntroductionRequest.target_id).where(IntroductionRequest.id == request_id)
        )
    if target != sender:
        return
    outcome = RequestStatus.ACCEPTED if accept else RequestStatus.DECLINED
    if await finish(app, request_id, outcome) and not accept:
        async with app.db.session() as session:
            members = await _members(session, [sender])
            request = await session.get(IntroductionRequest, request_id)
            if request is not None:
                t = app.catalog.translator(_language(members.get(sender), app))
                text = t("whoknows_decline_done", name=esc(name_or_localpart(app, request.asker_id)))
                session.add(app.sender.prepare(text, to_user=sender))
        app.sender.wake()


async def finish(app: App, request_id: int, outcome: RequestStatus) -> bool:
    """Close a pending request exactly once (answer, reaction or expiry); False when it was already closed."""
    now = datetime.now(UTC)
    async with app.db.session() as session:
        request = await session.get(IntroductionRequest, request_id)
        if request is None or request.status in FINISHED:
            return False
        if not await claimed(
            session,
            update(IntroductionRequest)
            .where(IntroductionRequest.id == request_id, IntroductionRequest.status == RequestStatus.PENDING)
            .values(status=outcome, answered_at=now),
        ):
            return False
        members = await _members(session, [request.asker_id, request.target_id])
        asker, target, topic = request.asker_id, request.target_id, request.topic
        asker_t = app.catalog.translator(request.asker_language)
        target_t = app.catalog.translator(_language(members.get(target), app))
        if outcome is not RequestStatus.ACCEPTED:
            note = asker_t(
                "whoknows_not_this_time",
                name=esc(name_or_localpart(app, target)),
                topic=esc(topic),
                p=app.settings.bot.command_prefix,
            )
            session.add(app.sender.prepare(note, to_user=asker))
    app.sender.wake()
    app.jobs.cancel(request_job(request_id))
    if outcome is RequestStatus.ACCEPTED:
        await _introduce(app, request_id, asker, target, topic, members, asker_t, target_t)
    return True


async def _introduce(
    app: App,
    request_id: int,
    asker: str,
    target: str,
    topic: str,
    members: dict[str, Member],
    asker_t: Translate,
    target_t: Translate,
) -> None:
    """A private chat for both, with a short intro; both are told by direct message."""
    names = {user: name_or_localpart(app, user) for user in (asker, target)}
    room_name = asker_t("whoknows_room_name", asker=names[asker], target=names[target], topic=topic)
    try:
        room_id: str | None = await app.matrix.create_room(room_name[:200], [asker, target])
    except Exception:
        log.exception("could not create the chat for introduction request %s", request_id)
        room_id = None
    async with app.db.session() as session:
        await session.execute(
            update(IntroductionRequest).where(IntroductionRequest.id == request_id).values(room_id=room_id)
        )
        key_ = "whoknows_accepted" if room_id else "whoknows_accepted_no_room"
        for user, other, t in ((asker, target, asker_t), (target, asker, target_t)):
            text = t(key_, name=esc(names[other]), user=pill(other, names[other]), topic=esc(topic))
            session.add(app.sender.prepare(text, to_user=user))
    app.sender.wake()
    if room_id is not None:
        intro = asker_t(
            "whoknows_intro",
            asker=pill(asker, names[asker]),
            target=pill(target, names[target]),
            asker_profile=_profile_text(asker_t, members.get(asker)),
            target_profile=_profile_text(asker_t, members.get(target)),
            topic=esc(topic),
        )
        # The outbox holds it until both have joined (they get the room key then).
        await app.sender.send(intro, room_id=room_id, mentions=(asker, target))

"""DSGVO for who-knows: findability, searches, introduction requests (both sides), synonyms added."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import String, cast, delete, or_, select, update

from storage.whoknows import Findable, IntroductionRequest, Search, Synonym

from .feature import feature, request_job

if TYPE_CHECKING:
    from bot.app import App


@feature.privacy_export
async def export_whoknows(app: App, user_id: str) -> dict[str, Any]:
    async with app.db.session() as session:
        findable = await session.get(Findable, user_id)
        searches = (await session.scalars(select(Search).where(Search.user_id == user_id))).all()
        requests = (
            await session.scalars(
                select(IntroductionRequest).where(
                    or_(IntroductionRequest.asker_id == user_id, IntroductionRequest.target_id == user_id)
                )
            )
        ).all()
        synonyms = (await session.scalars(select(Synonym).where(Synonym.added_by == user_id))).all()
    return {
        "findable": findable is not None,
        "findable_since": findable.since.isoformat() if findable else None,
        # The people found are others' data; the export says how many there were.
        "searches": [
            {"topic": s.topic, "at": s.created_at.isoformat(), "found": len(s.results)} for s in searches
        ],
        "introductions_asked": [_request(r, r.target_id) for r in requests if r.asker_id == user_id],
        "introductions_received": [_request(r, r.asker_id) for r in requests if r.target_id == user_id],
        "synonyms_added": [{"word": s.word, "other": s.other} for s in synonyms],
    }


def _request(request: IntroductionRequest, other: str) -> dict[str, Any]:
    return {
        "with": other,
        "topic": request.topic,
        "status": request.status,
        "asked_at": request.created_at.isoformat(),
        "answered_at": request.answered_at.isoformat() if request.answered_at else None,
    }


@feature.privacy_erase
async def erase_whoknows(app: App, user_id: str) -> int:
    """Findability, own searches, requests on both sides; the member disappears from others' result lists
    (their place stays empty, so the other numbers still mean the same people). Synonyms the member added
    stay (they are not personal) without the name of who added them."""
    async with app.db.session() as session:
        pending = (
            await session.scalars(
                select(IntroductionRequest.id).where(
                    or_(IntroductionRequest.asker_id == user_id, IntroductionRequest.target_id == user_id)
                )
            )
        ).all()
        listed = (
            await session.scalars(
                select(Search).where(
                    Search.user_id != user_id, cast(Search.results, String).contains(user_id, autoescape=True)
                )
            )
        ).all()
        for search in listed:
            search.results = ["" if found == user_id else found for found in search.results]
        count = len(listed)
        for statement in (
            delete(Findable).where(Findable.user_id == user_id),
            delete(Search).where(Search.user_id == user_id),
            delete(IntroductionRequest).where(
                or_(IntroductionRequest.asker_id == user_id, IntroductionRequest.target_id == user_id)
            ),
            update(Synonym).where(Synonym.added_by == user_id).values(added_by=None),
        ):
            result = await session.execute(statement)
            count += int(getattr(result, "rowcount", 0) or 0)
    for request_id in pending:
        app.jobs.cancel(request_job(request_id))
    return count

"""!wer-kennt and !vorstellen through the real router and handlers on a real SQLite database (no homeserver):
who is found, what goes by direct message, the introduction's yes/no/expiry, limits, bad input, privacy."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import select

from bot.app import App
from bot.framework import Command
from commands.privacy import collect_export, erase_everything
from commands.whoknows.feature import REQUEST_KIND, request_job, whoknows_settings
from commands.whoknows.introductions import answer_by_reaction
from commands.whoknows.jobs import request_expired, reschedule_missing
from storage.models import Member, OutboxMessage
from storage.whoknows import Findable, IntroductionRequest, Search, Synonym
from tests.catalog import says
from tests.fakes import FakeJobs
from tests.inprocess import all_commands, invoke, make_app, prepare, reply_to_tracked, say_plainly

ROOM = "!room:example.org"
ASKER, ANNA, BERND, CARLA = (f"@{name}:example.org" for name in ("asker", "anna", "bernd", "carla"))
NAMES = {ASKER: "Asker Person", ANNA: "Anna Amt", BERND: "Bernd Bund", CARLA: "Carla Kreis"}


class Room(SimpleNamespace):
    """A room as nio keeps it: its members with their display names."""


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[App]:
    app = make_app(tmp_path)
    await prepare(app)
    app.jobs = FakeJobs()  # type: ignore[assignment]
    everyone = {user: SimpleNamespace(display_name=name) for user, name in NAMES.items()}
    # The room that !vorstellen creates first (RecordingMatrix numbers them): both "joined" at once.
    app.matrix.client.rooms.update(
        {
            ROOM: Room(users=everyone, invited_users={}),
            "!created1:example.org": Room(users=everyone, invited_users={}),
        }
    )
    async with app.db.session() as session:
        session.add_all(
            [
                Member(user_id=ASKER, organisation="Stadt Köln", level="kommune", topics=["Haushalt"]),
                Member(user_id=ANNA, organisation="Land NRW", level="land", topics=["Onlinezugangsgesetz"]),
                Member(user_id=BERND, organisation="BMI", level="bund", topics=["OZG-Leistungen", "E-Akte"]),
                Member(user_id=CARLA, organisation="Kreis Lippe", level="kommune", topics=["OZG"]),
            ]
        )
    yield app
    await app.db.close()


def command(app: App, de: str) -> Command:
    return next(c for c in all_commands(app) if c.name_in("de") == de)


async def run(
    app: App, de: str, rest: str = "", *, sender: str = ASKER, **kwargs: Any
) -> list[dict[str, Any]]:
    return await invoke(app, command(app, de), rest, sender=sender, **kwargs)


def said(replies: list[dict[str, Any]], key: str, *args: str, **known: Any) -> bool:
    """Whether one of the messages a command queued is ``key``."""
    return any(says(str(reply.get("body", "")), key, *args, **known) for reply in replies)


async def direct_messages(app: App, user_id: str) -> list[str]:
    async with app.db.session() as session:
        rows = (
            await session.scalars(
                select(OutboxMessage).where(OutboxMessage.to_user == user_id).order_by(OutboxMessage.id)
            )
        ).all()
    return [str(row.content["content"]["body"]) for row in rows]


async def room_messages(app: App, room_id: str) -> list[str]:
    async with app.db.session() as session:
        rows = (await session.scalars(select(OutboxMessage).where(OutboxMessage.room_id == room_id))).all()
    return [str(row.content["content"]["body"]) for row in rows]


async def requests(app: App) -> list[IntroductionRequest]:
    async with app.db.session() as session:
        return list(
            (await session.scalars(select(IntroductionRequest).order_by(IntroductionRequest.id))).all()
        )


async def findable(app: App, *people: str) -> None:
    for person in people:
        await run(app, "profil auffindbar", "ja", sender=person)


async def test_only_findable_members_are_found_and_the_list_goes_by_direct_message(app: App) -> None:
    await findable(app, ANNA, CARLA)
    await run(app, "profil auffindbar", "nein", sender=CARLA)  # changed her mind
    replies = await run(app, "wer-kennt", "OZG-Leistungen")
    assert said(replies, "whoknows_sent_dm")  # the room only learns that the answer went by DM
    async with app.db.session() as session:
        in_room = (await session.scalars(select(OutboxMessage).where(OutboxMessage.room_id == ROOM))).all()
    assert says(in_room[-1].content["content"]["body"], "whoknows_sent_dm")
    assert not any("Anna Amt" in row.content["content"]["body"] for row in in_room)
    dms = await direct_messages(app, ASKER)
    assert len(dms) == 1
    assert says(dms[0], "whoknows_results", topic="OZG-Leistungen")
    assert "Anna Amt" in dms[0]
    assert "Land NRW" in dms[0]
    assert "Onlinezugangsgesetz" in dms[0]
    for hidden in (BERND, CARLA, "Bernd", "Carla"):  # not findable: neither name nor Matrix ID
        assert hidden not in dms[0]
    async with app.db.session() as session:
        assert (await session.scalar(select(Search.results))) == [ANNA]


async def test_ranking_puts_other_organisations_first(app: App) -> None:
    async with app.db.session() as session:
        session.add(Member(user_id="@dora:example.org", organisation="Stadt Koeln", topics=["OZG"]))
    await findable(app, CARLA, "@dora:example.org")
    await run(app, "wer-kennt", "OZG", room_id="!dm", language="de")
    async with app.db.session() as session:
        assert (await session.scalar(select(Search.results))) == [CARLA, "@dora:example.org"]


async def test_nobody_found_says_what_to_try(app: App) -> None:
    await findable(app, ANNA)
    await run(app, "wer-kennt", "Haushaltsrecht")
    assert says((await direct_messages(app, ASKER))[-1], "whoknows_none", topic="Haushaltsrecht")


async def test_introduction_on_yes_creates_a_chat_for_both(app: App) -> None:
    await findable(app, ANNA, BERND)
    await run(app, "wer-kennt", "OZG")
    async with app.db.session() as session:
        order = await session.scalar(select(Search.results))
    assert order is not None
    number = order.index(BERND) + 1
    await run(app, "vorstellen", str(number))
    (request,) = await requests(app)
    assert (request.target_id, request.status, request.topic) == (BERND, "pending", "OZG")
    assert request_job(request.id) in app.jobs.scheduled  # type: ignore[attr-defined]
    asks = await direct_messages(app, BERND)
    assert says(asks[-1], "whoknows_ask", name="Asker Person", topic="OZG", number=request.id)
    assert says((await direct_messages(app, ASKER))[-1], "whoknows_asked", name="Bernd Bund", topic="OZG")

    replies = await run(app, "vorstellen ja", "", sender=BERND)
    assert said(replies, "whoknows_accept_done", name="Asker Person")
    (request,) = await requests(app)
    assert (request.status, request.room_id) == ("accepted", "!created1:example.org")
    assert request_job(request.id) in app.jobs.cancelled  # type: ignore[attr-defined]
    assert says((await direct_messages(app, ASKER))[-1], "whoknows_accepted", name="Bernd Bund", topic="OZG")
    for _ in range(100):  # the intro waits (in the background) until both joined
        if await room_messages(app, "!created1:example.org"):
            break
        await asyncio.sleep(0.02)
    (intro,) = await room_messages(app, "!created1:example.org")
    assert "Asker Person" in intro
    assert "Bernd Bund" in intro
    assert "OZG" in intro
    again = await run(app, "vorstellen ja", "", sender=BERND)
    assert said(again, "whoknows_error_no_request")


async def test_no_and_no_answer_give_the_asker_the_same_neutral_note(app: App) -> None:
    await findable(app, ANNA, BERND, CARLA)
    await run(app, "wer-kennt", "Onlinezugangsgesetz")
    async with app.db.session() as session:
        order = await session.scalar(select(Search.results))
    assert order is not None
    assert set(order) == {ANNA, BERND, CARLA}
    await run(app, "vorstellen", str(order.index(ANNA) + 1))
    await run(app, "vorstellen", str(order.index(CARLA) + 1))
    first, second = await requests(app)
    # Anna says no by 👎; a reaction of somebody else counts for nothing.
    await answer_by_reaction(app, first.id, BERND, accept=True)
    assert (await requests(app))[0].status == "pending"
    await answer_by_reaction(app, first.id, ANNA, accept=False)
    declined_note = (await direct_messages(app, ASKER))[-1]
    assert says(declined_note, "whoknows_not_this_time", name="Anna Amt", topic="Onlinezugangsgesetz")
    assert says((await direct_messages(app, ANNA))[-1], "whoknows_decline_done", name="Asker Person")
    # Carla never answers.
    await request_expired(app, second.id, scheduled_for=datetime.now(UTC))
    expired_note = (await direct_messages(app, ASKER))[-1]
    assert says(expired_note, "whoknows_not_this_time", name="Carla Kreis", topic="Onlinezugangsgesetz")
    assert [r.status for r in await requests(app)] == ["declined", "expired"]
    assert [r.room_id for r in await requests(app)] == [None, None]
    # The job runs once: a second run (or a late yes) changes nothing.
    count = len(await direct_messages(app, ASKER))
    await request_expired(app, second.id, scheduled_for=datetime.now(UTC))
    refused = await run(app, "vorstellen ja", str(second.id), sender=CARLA)
    assert said(refused, "whoknows_error_no_request")
    assert len(await direct_messages(app, ASKER)) == count


async def test_a_person_is_asked_once_per_asker_and_topic(app: App) -> None:
    await findable(app, ANNA)
    await run(app, "wer-kennt", "OZG-Leistung")
    await run(app, "vorstellen", "1")
    await run(app, "wer-kennt", "OZG-Leistungen")  # the same topic, another spelling
    replies = await run(app, "vorstellen", "1")
    assert said(replies, "whoknows_error_asked_before", name="Anna Amt", topic="OZG-Leistungen")
    await run(app, "wer-kennt", "OZG")
    await run(app, "vorstellen", "1")  # another topic: allowed
    assert len(await requests(app)) == 2


async def test_bad_numbers_are_refused_with_what_to_type(app: App) -> None:
    await findable(app, ANNA)
    no_list = await run(app, "vorstellen", "1")
    assert said(no_list, "whoknows_error_no_list")
    await run(app, "wer-kennt", "OZG")
    unknown = await run(app, "vorstellen", "7")
    assert said(unknown, "whoknows_error_number", number=7, count=1, topic="OZG")
    async with app.db.session() as session:
        search = await session.scalar(select(Search))
        assert search is not None
        search.created_at = datetime.now(UTC) - timedelta(hours=25)
    old = await run(app, "vorstellen", "1")
    assert said(old, "whoknows_error_old_list", topic="OZG")
    async with app.db.session() as session:
        session.add(Search(user_id=ASKER, topic="OZG", results=[ASKER, ANNA], created_at=datetime.now(UTC)))
    itself = await run(app, "vorstellen", "1")
    assert said(itself, "whoknows_error_self")
    await run(app, "profil auffindbar", "nein", sender=ANNA)
    gone = await run(app, "vorstellen", "2")  # no longer findable: like a number that is not there
    assert said(gone, "whoknows_error_number", number=2, count=2, topic="OZG")
    empty = await run(app, "wer-kennt", " - ")
    assert said(empty, "whoknows_error_topic")
    assert await requests(app) == []


async def test_searches_and_introductions_are_rate_limited(app: App) -> None:
    settings = whoknows_settings(app)
    settings.searches_per_hour, settings.introductions_per_day = 2, 1
    await findable(app, ANNA, BERND)
    await run(app, "wer-kennt", "OZG")
    await run(app, "wer-kennt", "E-Akte")
    refused = await run(app, "wer-kennt", "OZG")
    assert said(refused, "whoknows_error_search_limit")
    await run(app, "vorstellen", "1")
    limited = await run(app, "vorstellen", "1", language="en")
    assert said(limited, "whoknows_error_intro_limit", "en")
    assert len(await requests(app)) == 1


async def test_synonyms_are_for_moderators_and_extend_the_search(app: App) -> None:
    async with app.db.session() as session:
        session.add(Member(user_id="@dora:example.org", organisation="Amt", topics=["Bauleitplanung"]))
    await findable(app, "@dora:example.org")
    refused = await run(app, "wer-kennt synonym", "B-Plan = Bauleitplanung")
    assert said(refused, "core_permission_moderator")
    added = await run(app, "wer-kennt synonym", "B-Plan = Bauleitplanung", moderator=True)
    assert said(added, "whoknows_synonym_added", word="B\\-Plan", other="Bauleitplanung")
    known = await run(app, "wer-kennt synonym", "B-Pläne = Bauleitplanung", moderator=True)
    assert said(known, "whoknows_error_synonym_known")
    malformed = await run(app, "wer-kennt synonym", "B-Plan Bauleitplanung", moderator=True)
    assert said(malformed, "whoknows_error_synonym")
    await run(app, "wer-kennt", "B-Pläne")
    async with app.db.session() as session:
        assert (await session.scalar(select(Search.results))) == ["@dora:example.org"]


async def test_export_and_erase_cover_findability_searches_requests_and_synonyms(app: App) -> None:
    await findable(app, ANNA, BERND)
    await run(app, "wer-kennt synonym", "B-Plan = Bauleitplanung", sender=ANNA, moderator=True)
    await run(app, "wer-kennt", "OZG")
    await run(app, "vorstellen", "1")
    target = (await requests(app))[0].target_id
    exported = (await collect_export(app, target))["whoknows"]
    assert exported["findable"] is True
    assert exported["introductions_received"][0]["with"] == ASKER
    anna = (await collect_export(app, ANNA))["whoknows"]
    assert anna["synonyms_added"] == [{"word": "B-Plan", "other": "Bauleitplanung"}]
    asker = (await collect_export(app, ASKER))["whoknows"]
    assert asker["searches"][0]["topic"] == "OZG"
    assert asker["introductions_asked"][0]["status"] == "pending"

    await erase_everything(app, target)
    await erase_everything(app, ANNA)
    async with app.db.session() as session:
        assert (await session.scalars(select(Findable.user_id))).all() == [
            user for user in (BERND, ANNA) if user not in (target, ANNA)
        ]
        assert (await session.scalars(select(IntroductionRequest))).all() == []
        assert (await session.scalar(select(Search.results))) is not None
        results = await session.scalar(select(Search.results))
        assert results is not None
        assert target not in results
        assert ANNA not in results
        synonym = await session.scalar(select(Synonym))
        assert synonym is not None
        assert synonym.added_by is None
    gone = await run(app, "vorstellen", "1")
    assert said(gone, "whoknows_error_number", number=1, count=2, topic="OZG")


async def test_open_requests_get_their_expiry_job_back_at_start(app: App) -> None:
    await findable(app, ANNA)
    await run(app, "wer-kennt", "OZG")
    await run(app, "vorstellen", "1")
    (request,) = await requests(app)
    jobs: FakeJobs = app.jobs  # type: ignore[assignment]
    jobs.scheduled.clear()  # a crash lost the timer
    await reschedule_missing(app)
    assert jobs.scheduled[request_job(request.id)][1] == request.expires_at
    await run(app, "vorstellen nein", "", sender=ANNA)
    jobs.scheduled.clear()
    await reschedule_missing(app)  # answered requests need none
    assert jobs.scheduled == {}


async def asked_request(app: App, person: str) -> IntroductionRequest:
    await findable(app, person)
    await run(app, "wer-kennt", "OZG")
    async with app.db.session() as session:
        order = await session.scalar(select(Search.results))
    assert order is not None
    await run(app, "vorstellen", str(order.index(person) + 1))
    return (await requests(app))[-1]


async def test_a_plain_reply_yes_to_the_question_introduces(app: App) -> None:
    request = await asked_request(app, BERND)
    unclear = await reply_to_tracked(app, REQUEST_KIND, request.id, "vielleicht", sender=BERND)
    assert said(unclear, "whoknows_reply_unclear", number=request.id)
    later = await reply_to_tracked(app, REQUEST_KIND, request.id, "später", sender=BERND)
    assert said(later, "whoknows_reply_unclear", number=request.id)
    assert (await requests(app))[0].status == "pending"
    # Someone else's reply (a forwarded question) finds no request to them and changes nothing.
    other = await reply_to_tracked(app, REQUEST_KIND, request.id, "ja", sender=ANNA)
    assert said(other, "whoknows_error_no_request")
    assert (await requests(app))[0].status == "pending"
    accepted = await reply_to_tracked(app, REQUEST_KIND, request.id, "Ja, gerne!", sender=BERND)
    assert said(accepted, "whoknows_accept_done", name="Asker Person")
    (done,) = await requests(app)
    assert (done.status, done.room_id) == ("accepted", "!created1:example.org")
    assert says((await direct_messages(app, ASKER))[-1], "whoknows_accepted", name="Bernd Bund", topic="OZG")
    again = await reply_to_tracked(app, REQUEST_KIND, request.id, "ja", sender=BERND)
    assert said(again, "whoknows_error_no_request")


@pytest.mark.parametrize("text", ["nein", "lieber nicht", "No thanks", "👎", "nö"])
async def test_a_plain_reply_no_gives_the_neutral_note(app: App, text: str) -> None:
    request = await asked_request(app, ANNA)
    declined = await reply_to_tracked(app, REQUEST_KIND, request.id, text, sender=ANNA)
    assert said(declined, "whoknows_decline_done", name="Asker Person")
    assert [r.status for r in await requests(app)] == ["declined"]
    note = (await direct_messages(app, ASKER))[-1]
    assert says(note, "whoknows_not_this_time", name="Anna Amt", topic="OZG")


async def test_profile_says_whether_the_member_is_findable(app: App) -> None:
    shown = await run(app, "profil", sender=ANNA)
    assert said(shown, "profile_show")
    assert said(shown, "whoknows_profile_not_findable")
    await findable(app, ANNA)
    shown = await run(app, "profil", sender=ANNA)
    assert said(shown, "whoknows_profile_findable")
    assert not said(shown, "whoknows_profile_not_findable")


async def test_a_plain_yes_in_the_direct_chat_answers_the_one_open_request(app: App) -> None:
    dm = "!dm-bernd:example.org"
    # Nothing asked: not an answer; in the direct chat the bot says once how to talk to it.
    assert said(await say_plainly(app, "ja", sender=BERND, room_id=dm), "core_direct_hint")
    request = await asked_request(app, BERND)
    assert await say_plainly(app, "Ja, ich wollte nach dem Barcamp fragen", sender=BERND, room_id=dm) == []
    assert await say_plainly(app, "ja", sender=BERND, room_id="!room:example.org", direct=False) == []
    assert [r.status for r in await requests(app)] == ["pending"]
    accepted = await say_plainly(app, "Ja gerne", sender=BERND, room_id=dm)
    assert said(accepted, "whoknows_accept_done", name="Asker Person")
    assert [(r.id, r.status) for r in await requests(app)] == [(request.id, "accepted")]


async def test_with_several_open_requests_a_plain_no_asks_which_one(app: App) -> None:
    await findable(app, ANNA)
    await run(app, "wer-kennt", "OZG")
    await run(app, "vorstellen", "1")
    await run(app, "wer-kennt", "Onlinezugangsgesetz", sender=BERND)
    await run(app, "vorstellen", "1", sender=BERND)
    dm = "!dm-anna:example.org"
    which = await say_plainly(app, "nein", sender=ANNA, room_id=dm)
    assert said(which, "whoknows_reply_which", count=2)
    assert [r.status for r in await requests(app)] == ["pending", "pending"]
    first, _ = await requests(app)
    declined = await reply_to_tracked(app, REQUEST_KIND, first.id, "nein", sender=ANNA, room_id=dm)
    assert said(declined, "whoknows_decline_done", name="Asker Person")
    accepted = await say_plainly(app, "ok", sender=ANNA, room_id=dm)  # now only one is open
    assert said(accepted, "whoknows_accept_done", name="Bernd Bund")
    assert [r.status for r in await requests(app)] == ["declined", "accepted"]

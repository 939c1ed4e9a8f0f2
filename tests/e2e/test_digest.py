"""The monthly digest end to end: member news, preview, posting now, and the scheduled post (exactly once)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import create_engine, update
from sqlalchemy.orm import Session

from bot.devserver import Synapse
from bot.sender import message_content
from commands.digest.feature import INSTALLED_KEY
from storage.bingo import BingoCard, BingoGame
from storage.db import upgrade_database
from storage.digest import DigestNews
from storage.models import BotState, RoomMembership, RoomSetting
from storage.networking import Meeting, NetworkingBlock, NetworkingRound
from storage.sessions import BarcampSession, SessionEvent, SessionSignup, SessionSlot
from tests.catalog import body, esc, markdown, number_in, says, stable
from tests.conftest import MemberFactory
from tests.e2e.harness import BotProcess, Member, Received, module_bot
from timephrases.formatting import format_datetime

BERLIN = ZoneInfo("Europe/Berlin")
SEEDED_MONTH = "2025-03"
EVIL = "<b>fett</b> @room [klick](https://evil.example)"


# --- helpers ------------------------------------------------------------------------------------------------


def database_url(bot: BotProcess) -> str:
    return f"sqlite+aiosqlite:///{bot.workdir / 'bot.db'}"


def seed(bot: BotProcess, rows: list[object]) -> None:
    """Write rows straight into the bot's SQLite database (it may be running: WAL plus a busy timeout)."""
    engine = create_engine(f"sqlite:///{bot.workdir / 'bot.db'}", connect_args={"timeout": 30})
    with Session(engine) as session, session.begin():
        for row in rows:
            session.add(row)
            session.flush()
    engine.dispose()


async def files_after(
    member: Member, room_id: str, sender: str, after: int, count: int = 2
) -> list[Received]:
    def found() -> list[Received]:
        return [
            r
            for r in member.received[after:]
            if r.room_id == room_id and r.sender == sender and r.msgtype == "m.file"
        ]

    await member.wait_until(lambda: len(found()) >= count)
    return found()


def digests_in(member: Member, room_id: str, sender: str) -> list[Received]:
    """The digests themselves (their title), not the replies that mention them."""
    return [
        r
        for r in member.messages_from(sender, room_id)
        if says(r.body, "digest_title") or says(r.body, "digest_title", "en")
    ]


def html(key: str, /, **args: Any) -> str:
    """The HTML the bot makes of a one-line message (or a line of the digest), without its paragraph tags."""
    rendered = str(message_content(markdown(key, **args))["formatted_body"])
    return rendered.removeprefix("<p>").removesuffix("</p>")


async def restart(process: BotProcess, member: Member) -> None:
    ready = process.ready_count()
    process.stop()
    process.start()
    await member.wait_until(lambda: process.ready_count() > ready, timeout=60)


def news_id(reply: Received, language: str = "de") -> int:
    return number_in(reply.body, "digest_news_submitted", "id", language)


def stable_zone(now: datetime) -> ZoneInfo:
    """A time zone in which ten minutes ago and one minute ahead are in the same month as now."""
    for name in ("Europe/Berlin", "Etc/GMT+12", "Etc/GMT-12"):
        zone = ZoneInfo(name)
        local = now.astimezone(zone)
        if (local - timedelta(minutes=10)).month == local.month == (local + timedelta(minutes=1)).month:
            return zone
    raise AssertionError("no suitable time zone")


def at_cron(moment: datetime) -> str:
    """A six-field schedule (seconds first) firing at ``moment`` (local) on that day of every month."""
    return f"{moment.second} {moment.minute} {moment.hour} {moment.day} * *"


# --- the bot for news, preview and posting (no schedule) ---------------------------------------------------


# The network-wide digest is previewed and posted by the bot's operators only ([bot] admins): one fixed
# member is that operator; room moderators are refused (test_room_moderators_may_not_preview_or_post_...).
DIGEST_ADMIN = "digestchef"
digest_bot = module_bot(
    "digestbot",
    f'\n[bot]\nmoderators = []\nadmins = ["@{DIGEST_ADMIN}:localhost"]\n\n[digest]\nscope = "network"\n',
)


@pytest.fixture(scope="module")
async def digest_admin(synapse: Synapse, workdir: Path) -> AsyncIterator[Member]:
    member = Member(synapse, DIGEST_ADMIN, workdir)
    await member.start()
    yield member
    await member.stop()


async def community(
    digest_bot: BotProcess, owner: Member, member_factory: MemberFactory, *others: Member
) -> tuple[str, Member]:
    """A community room that ``owner`` created (a moderator there) with the bot and ``others``."""
    if not others:
        # With only the bot and one person a room counts as a direct chat, where power levels grant nothing.
        others = (await member_factory("dguest"),)
    room_id = await owner.create_room(invite=[digest_bot.user_id, *(o.user_id for o in others)])
    for other in others:
        await other.join(room_id)
    await owner.wait_for_member(room_id, digest_bot.user_id)
    return room_id, owner


async def test_news_text_starting_with_a_subcommand_word_is_news(
    digest_bot: BotProcess, member_factory: MemberFactory
) -> None:
    nina = await member_factory("nina")
    room, owner = await community(digest_bot, await member_factory("dmod"), member_factory, nina)
    # "liste" takes no arguments: these words are news.
    by_member = await nina.command(room, "!neuigkeit Liste der Gewinner des Ideenwettbewerbs ist online")
    assert says(by_member.body, "digest_news_submitted")
    # "ok" wants a number: a moderator's sentence that starts with "Ok" is news as well.
    by_moderator = await owner.command(room, "!neuigkeit Ok das Protokoll vom Barcamp ist da")
    assert says(by_moderator.body, "digest_news_submitted")
    # The subcommand alone still gets its usage help, not a news item "ok".
    usage = await owner.command(room, "!neuigkeit ok")
    assert not says(usage.body, "digest_news_submitted")
    assert says(usage.body, "core_usage_line", usage=markdown("digest_news_approve_usage"))
    listed = await owner.command(room, "!neuigkeiten")
    assert "Liste der Gewinner des Ideenwettbewerbs" in listed.body
    assert "Ok das Protokoll vom Barcamp" in listed.body


async def test_news_submitted_approved_edited_rejected(
    digest_bot: BotProcess, member_factory: MemberFactory, digest_admin: Member
) -> None:
    nina = await member_factory("nina")
    # A room's moderator approves its news; the network's operator previews the digest.
    moderator = await member_factory("dmod")
    room, owner = await community(digest_bot, moderator, member_factory, nina, digest_admin)

    submitted = await nina.command(room, "!neuigkeit Die Ergebnisse der Session zu Open Source sind online")
    assert says(submitted.body, "digest_news_submitted")
    first = news_id(submitted)
    refused = await nina.command(room, f"!neuigkeit ok {first}")
    assert says(refused.body, "core_permission_moderator")

    listed = await owner.command(room, "!neuigkeiten")
    assert says(listed.body, "digest_news_list_item", id=first)
    assert says(listed.body, "digest_news_list_pending", count=1)
    assert "Open Source" in listed.body

    approved = await owner.command(room, f"!neuigkeit ok {first}")
    assert says(approved.body, "digest_news_approved", id=first)
    dm = await nina.next_message(
        sender=digest_bot.user_id, contains=stable("digest_news_approved_dm", id=first)
    )
    assert says(dm.body, "digest_news_approved_dm", id=first)
    assert dm.room_id != room

    edited = await owner.command(
        room, f"!neuigkeit bearbeiten {first} Ergebnisse der Open-Source-Session: {EVIL}"
    )
    assert says(edited.body, "digest_news_edited")
    assert edited.formatted_body is not None
    assert "<b>fett</b>" not in edited.formatted_body

    second = news_id(await nina.command(room, "!news Something that will not make it"), "en")
    before = len(nina.received)
    rejected = await owner.command(room, f"!news reject {second} Bitte mit Quelle einreichen")
    assert says(rejected.body, "digest_news_rejected", "en")
    told = await nina.next_message(
        sender=digest_bot.user_id, contains=stable("digest_news_rejected_dm_reason"), after=before
    )
    assert says(
        told.body,
        "digest_news_rejected_dm_reason",
        id=second,
        text="Something that will not make it",
        reason="Bitte mit Quelle einreichen",
    )

    english_list = await owner.command(room, "!news list")
    assert says(english_list.body, "digest_news_list_approved", "en", count=1)
    assert not says(english_list.body, "digest_news_list_item", "en", id=second)

    # The approved (edited) news is in this month's digest, escaped.
    month = datetime.now(BERLIN).strftime("%Y-%m")
    before = len(digest_admin.received)
    sent = await digest_admin.command(room, f"!digest vorschau {month}")
    assert says(sent.body, "digest_preview_sent")
    preview = await digest_admin.next_message(
        sender=digest_bot.user_id, contains=stable("digest_news_heading"), after=before
    )
    assert "Ergebnisse der Open-Source-Session" in preview.body
    assert "Something that will not make it" not in preview.body
    assert preview.formatted_body is not None
    assert "&lt;b&gt;fett&lt;/b&gt;" in preview.formatted_body
    assert "<a " not in preview.formatted_body
    assert preview.content["m.mentions"] == {"user_ids": []}


async def test_preview_only_for_moderators(
    digest_bot: BotProcess, member_factory: MemberFactory, digest_admin: Member
) -> None:
    otto = await member_factory("otto")
    room, _owner = await community(digest_bot, digest_admin, member_factory, otto)
    refused = await otto.command(room, "!digest vorschau")
    assert says(refused.body, "core_permission_moderator")
    refused_now = await otto.command(room, "!digest jetzt")
    assert says(refused_now.body, "core_permission_moderator")
    help_text = await otto.command(room, "!hilfe neuigkeiten")
    assert "!digest" not in help_text.body  # a command name (from its definition), not catalog prose
    assert says(
        help_text.body,
        "help_topic_line",
        example=markdown("digest_news_submit_example"),
        help=markdown("digest_news_submit_help"),
    )


async def test_room_moderators_may_not_preview_or_post_the_network_digest(  # type: ignore[no-untyped-def]
    digest_bot: BotProcess, member_factory, digest_admin: Member
) -> None:
    # Whoever invites the bot into a room of their own is its moderator there; the network-wide digest is
    # still the operators' ([bot] admins).
    moderator = await member_factory("dmod")
    room, _owner = await community(digest_bot, moderator, member_factory, digest_admin)
    refused = await moderator.command(room, "!digest vorschau")
    assert says(refused.body, "digest_error_network_admins")
    refused_now = await moderator.command(room, "!digest jetzt")
    assert says(refused_now.body, "digest_error_network_admins")
    assert digests_in(moderator, room, digest_bot.user_id) == []
    # The operator may, in the same room.
    allowed = await digest_admin.command(room, "!digest vorschau")
    assert says(allowed.body, "digest_preview_sent")


def seed_march(session: Session, room_a: str, room_b: str) -> int:
    """March 2025 in two rooms (network scope counts both) and an event in April 2025 for "coming up"; returns
    the number of the upcoming session."""

    def at(month: int, day: int, hour: int = 12) -> datetime:
        return datetime(2025, month, day, hour, tzinfo=BERLIN)

    def event(room: str, title: str, day: date, status: str) -> SessionEvent:
        return SessionEvent(
            room_id=room, title=title, day=day, timezone="Europe/Berlin", status=status,
            created_by="@mod:localhost",
        )  # fmt: skip

    held_a = event(room_a, "Barcamp A", date(2025, 3, 12), "over")
    held_b = event(room_b, "Barcamp B", date(2025, 3, 20), "over")
    upcoming = event(room_a, "NExTcamp <April>", date(2025, 4, 9), "published")
    session.add_all([held_a, held_b, upcoming])
    session.flush()
    slot_a = SessionSlot(event_id=held_a.id, number=1, name="Runde 1", start=time(10), end=time(11))
    slot_b = SessionSlot(event_id=held_b.id, number=1, name="Runde 1", start=time(10), end=time(11))
    slot_up = SessionSlot(event_id=upcoming.id, number=1, name="Runde 1", start=time(11, 15), end=time(12))
    session.add_all([slot_a, slot_b, slot_up])
    session.flush()

    def barcamp(ev: SessionEvent, slot: SessionSlot, title: str, capacity: int | None) -> BarcampSession:
        return BarcampSession(
            event_id=ev.id, slot_id=slot.id, title=title, capacity=capacity, status="scheduled"
        )

    s1 = barcamp(held_a, slot_a, "Open Source", 10)
    s2 = barcamp(held_a, slot_a, "KI im Amt", None)
    s3 = barcamp(held_b, slot_b, "E-Akte", 20)
    agile = barcamp(upcoming, slot_up, "Agiles <Arbeiten>", 20)
    session.add_all([s1, s2, s3, agile])
    session.flush()
    signups = [(s1, "confirmed")] * 3 + [(s1, "waitlisted")] + [(s2, "confirmed")] * 2
    signups += [(s3, "confirmed")] * 2 + [(agile, "confirmed")] * 5
    session.add_all(
        SessionSignup(session_id=row.id, user_id=f"@seat{i}:localhost", state=state)
        for i, (row, state) in enumerate(signups)
    )

    block = NetworkingBlock(room_id=room_a, duration_seconds=420, opened_by="@mod:localhost")
    session.add(block)
    session.flush()
    for number in (1, 2):
        started = at(3, 5, 14 + number)
        session.add(
            NetworkingRound(
                block_id=block.id, number=number, duration_seconds=420, started_at=started,
                warn_at=started, ends_at=started,
            )
        )  # fmt: skip
    pairs = [("@ma:localhost", "@mb:localhost"), ("@ma:localhost", "@mc:localhost")]
    pairs += [("@mb:localhost", "@mc:localhost")]
    session.add_all(Meeting(user_a=a, user_b=b, met_at=at(3, 5, 15), room_id=room_a) for a, b in pairs)

    game_a = BingoGame(room_id=room_a, size=3, started_by="@mod:localhost", started_at=at(3, 6), prompts=[])
    game_b = BingoGame(room_id=room_b, size=3, started_by="@mod:localhost", started_at=at(3, 21), prompts=[])
    session.add_all([game_a, game_b])
    session.flush()
    session.add_all(
        [
            BingoCard(game_id=game_a.id, player_id="@bingokoenigin:localhost", data={}, place=1),
            BingoCard(game_id=game_a.id, player_id="@zweite:localhost", data={}, place=2),
            BingoCard(game_id=game_b.id, player_id="@bingokoenig:localhost", data={}, place=1),
        ]
    )

    joins = [
        (room_a, "@new1:localhost", at(3, 3)),
        (room_a, "@new2:localhost", at(3, 4)),
        (room_b, "@new3:localhost", at(3, 5)),
        (room_b, "@new1:localhost", at(3, 6)),  # already counted
        (room_a, "@old:localhost", at(2, 1)),
        (room_b, "@old:localhost", at(3, 7)),  # first joined in February
    ]
    session.add_all(RoomMembership(room_id=r, user_id=u, joined_at=when) for r, u, when in joins)
    session.add_all(
        [
            DigestNews(
                author_id="@autorin:localhost", room_id=room_a, text=f"Neue Handreichung {EVIL}",
                status="approved", decided_at=at(3, 10),
            ),
            DigestNews(
                author_id="@autor:localhost", room_id=room_b, text="Podcast Folge 7 ist online",
                status="approved", decided_at=at(3, 15),
            ),
            DigestNews(author_id="@autor:localhost", room_id=room_b, text="Nicht freigegeben"),
        ]
    )  # fmt: skip
    return agile.id


def month_label(month: int, year: int = 2025) -> str:
    return body("digest_month_label", month_name=body(f"digest_month_{month}"), year=year)


async def test_digest_of_seeded_month(digest_bot: BotProcess, member_factory, digest_admin: Member) -> None:  # type: ignore[no-untyped-def]
    room, owner = await community(digest_bot, digest_admin, member_factory)
    engine = create_engine(f"sqlite:///{digest_bot.workdir / 'bot.db'}", connect_args={"timeout": 30})
    with Session(engine) as session, session.begin():
        agile = seed_march(session, room, "!otherroom:localhost")
    engine.dispose()

    before = len(owner.received)
    sent = await owner.command(room, f"!digest vorschau {SEEDED_MONTH}")
    march, april = month_label(3), month_label(4)
    assert says(sent.body, "digest_preview_sent", month=march)
    digest = await owner.next_message(
        sender=digest_bot.user_id, contains=stable("digest_title", month=march), after=before
    )
    dm = digest.room_id
    assert dm != room
    page_html = digest.formatted_body
    assert page_html is not None
    network = esc(body("digest_scope_network"))
    assert f"<h1>{html('digest_title', month=march, scope=network)}</h1>" in page_html
    # Coming up in April: the event and its session with free seats and how to sign up.
    assert html("digest_upcoming_heading", next_month=april) in page_html
    start = format_datetime(datetime(2025, 4, 9, 11, 15, tzinfo=BERLIN), "de")
    assert html("digest_upcoming_event", title=esc("NExTcamp <April>"), start=start) in page_html
    signup = markdown("digest_signup", command=markdown("digest_command_signup"), session_id=agile)
    seats = markdown("digest_seats_free", free=15, capacity=20)
    session_line = html(
        "digest_upcoming_session", title=esc("Agiles <Arbeiten>"), start=start, seats=seats, signup=signup
    )
    assert session_line in page_html
    # March in numbers.
    events = markdown("digest_count_events_other", count=2)
    sessions = markdown("digest_count_sessions_other", count=3)
    attendance = markdown("digest_count_attendance_other", count=7)
    assert html("digest_numbers_events", events=events, sessions=sessions, attendance=attendance) in page_html
    rounds = markdown("digest_count_rounds_other", count=2)
    contacts = markdown("digest_count_contacts_other", count=3)
    assert html("digest_numbers_networking", rounds=rounds, contacts=contacts) in page_html
    games = markdown("digest_count_bingo_games_other", count=2)
    winners = f"bingokoenigin {markdown('digest_list_and')} bingokoenig"
    assert html("digest_numbers_bingo_winners", games=games, winners=winners) in page_html
    members = markdown("digest_count_members_other", count=3)
    assert html("digest_numbers_members", members=members) in page_html
    # News: approved items of March, escaped.
    assert html("digest_news_item", text="Podcast Folge 7 ist online", author="autor") in page_html
    assert "Neue Handreichung &lt;b&gt;fett&lt;/b&gt;" in page_html
    assert "Nicht freigegeben" not in page_html
    assert "<b>fett</b>" not in page_html
    assert "<a " not in page_html
    assert digest.content["m.mentions"] == {"user_ids": []}
    assert "@room" not in digest.body

    files = await files_after(owner, dm, digest_bot.user_id, before)
    by_name = {f.content["filename"]: f for f in files}
    assert set(by_name) == {"next-digest-2025-03.md", "next-digest-2025-03.html"}
    markdown_file = (await owner.download(by_name["next-digest-2025-03.md"].content)).decode()
    # The scope is escaped in the Markdown file as well.
    assert markdown_file.startswith("# " + markdown("digest_title", month=march, scope=network))
    assert markdown("digest_numbers_networking", rounds=rounds, contacts=contacts) in markdown_file
    assert "\\<b\\>fett\\</b\\>" in markdown_file
    page = (await owner.download(by_name["next-digest-2025-03.html"].content)).decode()
    assert page.startswith("<!DOCTYPE html>")
    assert '<html lang="de">' in page
    assert html("digest_numbers_members", members=members) in page
    assert "&lt;b&gt;fett&lt;/b&gt;" in page
    assert "<b>fett</b>" not in page

    unknown = await owner.command(room, "!digest vorschau Brumaire")
    assert says(unknown.body, "digest_error_month")


async def test_post_now_asks_before_posting_twice(
    digest_bot: BotProcess, member_factory: MemberFactory, digest_admin: Member
) -> None:
    room, owner = await community(digest_bot, digest_admin, member_factory)
    before = len(owner.received)
    posted = await owner.command(room, "!digest jetzt")
    assert says(posted.body, "digest_now_posted")
    digest = await owner.next_message(
        room_id=room, sender=digest_bot.user_id, contains=stable("digest_title"), after=before
    )
    assert says(digest.body, "digest_numbers_heading")
    files = await files_after(owner, room, digest_bot.user_id, before)
    assert sorted(f.content["filename"].rsplit(".", 1)[1] for f in files) == ["html", "md"]
    page = await owner.download(next(f for f in files if f.content["filename"].endswith(".html")).content)
    assert b"<!DOCTYPE html>" in page

    again = await owner.command(room, "!digest jetzt")
    assert says(again.body, "digest_now_confirm")
    assert says(again.body, "digest_now_confirm", again="!digest jetzt bestätigen")
    assert len(digests_in(owner, room, digest_bot.user_id)) == 1

    confirmed = await owner.command(room, "!digest jetzt bestätigen")
    assert says(confirmed.body, "digest_now_posted")
    await owner.wait_until(lambda: len(digests_in(owner, room, digest_bot.user_id)) == 2)


# --- the schedule -----------------------------------------------------------------------------------------


def installed_before(process: BotProcess, moment: datetime) -> None:
    """Make the bot's database look as if it had been installed at ``moment``."""
    upgrade_database(database_url(process))
    engine = create_engine(f"sqlite:///{process.workdir / 'bot.db'}")
    with engine.begin() as connection:
        connection.execute(
            update(BotState)
            .where(BotState.key == INSTALLED_KEY)
            .values(value=moment.astimezone(UTC).isoformat())
        )
    engine.dispose()


async def scheduled_bot(
    synapse: Synapse,
    workdir: Path,
    member_factory,
    name: str,
    digest_config: str,
    *,
    english: bool = False,  # type: ignore[no-untyped-def]
) -> tuple[BotProcess, str, Member]:
    """A bot whose configured digest room exists before it starts (its database too, when seeding)."""
    process = BotProcess(synapse, workdir / name, allowed_inviters=["localhost"], localpart=name)
    owner = await member_factory("sched")
    room = await owner.create_room(invite=[process.user_id])
    # "OWNER" in the configuration: the member who made the room (e.g. as one of the bot's admins).
    extra = digest_config.replace("ROOM", room).replace("OWNER", owner.user_id)
    process.config_path.write_text(process.config_path.read_text() + extra)
    if english:
        upgrade_database(database_url(process))
        seed(process, [RoomSetting(room_id=room, language="en")])
    return process, room, owner


async def test_scheduled_digest_posts_once_even_after_restart(
    synapse: Synapse, workdir: Path, member_factory
) -> None:  # type: ignore[no-untyped-def]
    zone = stable_zone(datetime.now(UTC))
    due = datetime.now(zone).replace(microsecond=0) + timedelta(seconds=20)
    config = f'\n[bot]\ntimezone = "{zone.key}"\n\n[digest]\nschedule = "{at_cron(due)}"\nrooms = ["ROOM"]\n'
    process, room, owner = await scheduled_bot(synapse, workdir, member_factory, "digestsched", config)
    process.start()
    try:
        await owner.wait_for_member(room, process.user_id)
        assert digests_in(owner, room, process.user_id) == []
        digest = await owner.next_message(
            room_id=room, sender=process.user_id, contains=stable("digest_title"), timeout=60
        )
        assert not says(digest.body, "digest_late_note")
        await files_after(owner, room, process.user_id, 0)
        await restart(process, owner)
        # The start hook finds this month's digest due: it must see that it was posted already.
        marker = await owner.command(room, "!hilfe")
        assert marker.sender == process.user_id
        assert len(digests_in(owner, room, process.user_id)) == 1
        assert len([r for r in owner.messages_from(process.user_id, room) if r.msgtype == "m.file"]) == 2
    finally:
        process.stop()


async def test_missed_digest_is_posted_late_at_start_in_the_rooms_language(
    synapse: Synapse, workdir: Path, member_factory
) -> None:  # type: ignore[no-untyped-def]
    zone = stable_zone(datetime.now(UTC))
    missed = datetime.now(zone).replace(microsecond=0) - timedelta(minutes=10)
    config = (
        f'\n[bot]\ntimezone = "{zone.key}"\n\n[scheduler]\nmisfire_grace_minutes = 1\n\n'
        f'[digest]\nschedule = "{at_cron(missed)}"\nrooms = ["ROOM"]\nscope = "room"\n'
    )
    process, room, owner = await scheduled_bot(
        synapse, workdir, member_factory, "digestlate", config, english=True
    )
    installed_before(process, missed - timedelta(hours=1))
    process.start()
    try:
        digest = await owner.next_message(
            room_id=room, sender=process.user_id, contains=stable("digest_title", "en")
        )
        assert says(digest.body, "digest_late_note", "en")
        assert says(digest.body, "digest_numbers_heading", "en")
        await files_after(owner, room, process.user_id, 0)
        await restart(process, owner)
        marker = await owner.command(room, "!help")
        assert marker.sender == process.user_id
        assert len(digests_in(owner, room, process.user_id)) == 1
    finally:
        process.stop()


async def test_a_fresh_installation_posts_no_late_digest_and_says_which_month_it_posts(
    synapse: Synapse, workdir: Path, member_factory
) -> None:  # type: ignore[no-untyped-def]
    """Installed after this month's scheduled time: nothing is posted at start (the digest was due before the
    bot existed); `!digest jetzt` then names the month it posts, and `!digest jetzt <Monat>` another one."""
    zone = stable_zone(datetime.now(UTC))
    missed = datetime.now(zone).replace(microsecond=0) - timedelta(minutes=10)
    config = (
        # The owner posts by hand: the network-wide digest is for the bot's admins.
        f'\n[bot]\ntimezone = "{zone.key}"\nadmins = ["OWNER"]\n\n[scheduler]\nmisfire_grace_minutes = 1\n\n'
        f'[digest]\nschedule = "{at_cron(missed)}"\nrooms = ["ROOM"]\n'
    )
    process, room, owner = await scheduled_bot(synapse, workdir, member_factory, "digestfresh", config)
    process.start()
    try:
        await owner.wait_for_member(room, process.user_id)
        marker = await owner.command(room, "!hilfe")
        assert marker.sender == process.user_id
        assert digests_in(owner, room, process.user_id) == []
        today = datetime.now(zone).date()
        last = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
        label = body("digest_month_label", month_name=body(f"digest_month_{last.month}"), year=last.year)
        posted = await owner.command(room, "!digest jetzt")
        assert says(posted.body, "digest_now_posted", month=label), posted.body
        chosen = await owner.command(room, f"!digest jetzt 11/{today.year - 1}")
        november = body("digest_month_label", month_name=body("digest_month_11"), year=today.year - 1)
        assert says(chosen.body, "digest_now_posted", month=november), chosen.body
        again = await owner.command(room, f"!digest jetzt 11/{today.year - 1}")
        assert says(again.body, "digest_now_confirm", month=november), again.body
        assert says(again.body, "digest_now_confirm", again=f"!digest jetzt 11/{today.year - 1} bestätigen")
        await owner.wait_until(lambda: len(digests_in(owner, room, process.user_id)) == 2)
    finally:
        process.stop()

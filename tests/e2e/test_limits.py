"""No member can flood: caps per member, and the bot leaves the rooms it made once they served their purpose;
old records are pruned without ever running a command twice."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta
from typing import Any

from nio import UploadResponse

from tests.catalog import number_in, says
from tests.conftest import MemberFactory
from tests.e2e.harness import BotProcess, Member, Received, module_bot

# Small caps, intro rooms left ~15 s after they were made, housekeeping every 3 s; files up to 6 MB (so that
# parsing one takes seconds, test_a_member_is_answered_while_a_large_upload_is_parsed).
limitbot = module_bot(
    "limitbot",
    "\n[bot]\nmoderators = []\nleave_created_rooms_after_hours = 0.004\nhousekeeping_minutes = 0.05\n"
    "max_file_kb = 6144\n"
    "\n[reminders]\nmax_open_per_member = 2\n"
    "\n[digest]\nmax_pending_news_per_member = 2\n"
    "\n[networking]\nwait_seconds = 4\nprivate_rooms = true\n",
)


async def community(owner: Member, others: list[Member], bot: BotProcess) -> str:
    room = await owner.create_room(invite=[bot.user_id, *(m.user_id for m in others)])
    await asyncio.gather(*(member.join(room) for member in others))
    await owner.wait_for_member(room, bot.user_id)
    return room


async def test_open_reminders_per_member_are_capped(
    limitbot: BotProcess, member_factory: MemberFactory
) -> None:
    owner, other = await member_factory("capowner"), await member_factory("capother")
    room = await community(owner, [other], limitbot)
    first = await owner.command(room, "!erinnere mich in 2 Stunden an eins")
    await owner.command(room, "!erinnere mich in 3 Stunden an zwei")
    refused = await owner.command(room, "!erinnere mich in 4 Stunden an drei")
    assert says(refused.body, "reminders_error_cap", max=2)
    # The cap is per member: someone else in the same room is not affected.
    assert says((await other.command(room, "!erinnere mich in 2 Stunden an meins")).body, "reminders_created")
    # Freeing a slot as the refusal says makes room again.
    reminder = number_in(first.body, "reminders_created", "id")
    await owner.command(room, f"!erinnerung löschen {reminder}")
    assert says((await owner.command(room, "!erinnere mich in 4 Stunden an drei")).body, "reminders_created")


async def test_pending_news_per_member_are_capped(
    limitbot: BotProcess, member_factory: MemberFactory
) -> None:
    moderator, author = await member_factory("newsmod"), await member_factory("newsauthor")
    room = await community(moderator, [author], limitbot)
    first = await author.command(room, "!neuigkeit Erste Neuigkeit")
    await author.command(room, "!neuigkeit Zweite Neuigkeit")
    refused = await author.command(room, "!neuigkeit Dritte Neuigkeit")
    assert says(refused.body, "digest_error_news_cap", max=2)
    news = number_in(first.body, "digest_news_submitted", "id")
    await moderator.command(room, f"!neuigkeit ok {news}")
    assert says((await author.command(room, "!neuigkeit Dritte Neuigkeit")).body, "digest_news_submitted")


async def test_the_bot_leaves_an_intro_room_once_its_purpose_is_over(
    limitbot: BotProcess, member_factory: MemberFactory
) -> None:
    first, second = await member_factory("leavea"), await member_factory("leaveb")
    room = await community(first, [second], limitbot)
    mark = len(first.received)
    await first.command(room, "!partner")
    await second.command(room, "!partner")

    def intro() -> Received | None:
        return next(
            (r for r in first.received[mark:] if r.room_id != room and says(r.body, "networking_intro")), None
        )

    await first.wait_until(lambda: intro() is not None, timeout=45)
    found = intro()
    assert found is not None
    intro_room = found.room_id
    # Made for the two of them: the bot leaves after [bot] leave_created_rooms_after_hours (here ~15 s).
    await first.wait_until(lambda: limitbot.user_id not in first.client.rooms[intro_room].users, timeout=60)
    assert "has served its purpose" in limitbot.log()
    # The community room is not one the bot made: it stays.
    assert limitbot.user_id in first.client.rooms[room].users


def bot_db(bot: BotProcess) -> sqlite3.Connection:
    return sqlite3.connect(bot.workdir / "bot.db", timeout=30)


async def test_pruning_keeps_what_exactly_once_needs_and_a_restart_runs_nothing_again(
    limitbot: BotProcess, member_factory: MemberFactory
) -> None:
    member = await member_factory("pruner")
    room = await member.room_with(limitbot.user_id)
    await member.command(room, "!hilfe")  # the sync position is stored after this
    await asyncio.sleep(6)  # SYNC_TOKEN_SAVE_INTERVAL: the stored position is from before the next command
    with bot_db(limitbot) as db:
        (token_before,) = db.execute("SELECT value FROM bot_state WHERE key = 'sync_token'").fetchone()
    command = await member.say(room, "!erinnerungen")
    answer = await member.next_message(room_id=room, reply_to=command)
    long_ago = (datetime.now(UTC) - timedelta(days=400)).strftime("%Y-%m-%d %H:%M:%S.000000")
    with bot_db(limitbot) as db:
        db.execute(
            "INSERT INTO processed_events (event_id, room_id, processed_at, failed) VALUES (?, ?, ?, 0)",
            ("$ancient", room, long_ago),
        )
        db.execute(
            "INSERT INTO outbox (room_id, content, attempts, sent_event_id, sent_at, created_at, txn_id) "
            'VALUES (?, \'{"type": "m.room.message", "content": {"msgtype": "m.notice"}}\', 1, '
            "'$x', ?, ?, 'ancient-sent')",
            (room, long_ago, long_ago),
        )
    await member.wait_until(lambda: "pruned old records" in limitbot.log(), timeout=30)
    with bot_db(limitbot) as db:
        processed = {row[0] for row in db.execute("SELECT event_id FROM processed_events")}
        sent = {row[0] for row in db.execute("SELECT txn_id FROM outbox")}
    assert "$ancient" not in processed
    assert "ancient-sent" not in sent
    assert command in processed, "a recent command stays recorded"

    # Restart from a sync position before the command: it comes again and is not answered twice.
    ready = limitbot.ready_count()
    limitbot.stop()
    with bot_db(limitbot) as db:
        db.execute("UPDATE bot_state SET value = ? WHERE key = 'sync_token'", (token_before,))
    limitbot.start()
    await member.wait_until(lambda: limitbot.ready_count() > ready, timeout=60)
    marker = await member.command(room, "!hilfe")
    assert marker.msgtype == "m.notice"
    answers = [r for r in member.received if r.in_reply_to == command]
    assert answers == [answer]


async def upload_csv(member: Member, room_id: str, data: bytes) -> str:
    response, _ = await member.client.upload(
        lambda *_: data, content_type="text/csv", filename="programm.csv", filesize=len(data)
    )
    assert isinstance(response, UploadResponse), response
    content: dict[str, Any] = {
        "msgtype": "m.file",
        "body": "programm.csv",
        "filename": "programm.csv",
        "url": response.content_uri,
        "info": {"size": len(data), "mimetype": "text/csv"},
    }
    return await member.say(room_id, "programm.csv", extra=content)


async def test_a_member_is_answered_while_a_large_upload_is_parsed(
    limitbot: BotProcess, member_factory: MemberFactory
) -> None:
    moderator, other = await member_factory("bigimport"), await member_factory("meanwhile")
    room = await moderator.room_with(limitbot.user_id, name="Import-Raum")
    elsewhere = await other.room_with(limitbot.user_id, name="Anderer Raum")
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).strftime("%d.%m.%Y")
    created = await moderator.command(room, f'!veranstaltung neu "Großimport" {tomorrow}')
    event = number_in(created.body, "sessions_event_created", "event_id", title="Großimport")
    rows = [
        f"{(i // 60) % 24:02d}:{i % 60:02d},Programmpunkt {i} mit etwas Text dazu" for i in range(120_000)
    ]
    data = ("zeit,punkt\n" + "\n".join(rows)).encode()
    assert 4_000_000 < len(data) < 6144 * 1024, "large, but within the configured limit"
    file_event = await upload_csv(moderator, room, data)
    started = asyncio.get_running_loop().time()
    imported = await moderator.say(
        room,
        f"!veranstaltung import {event}",
        extra={"m.relates_to": {"m.in_reply_to": {"event_id": file_event}}},
    )
    # While the bot parses the file (seconds for this size), another member's commands are answered at once.
    delays = []
    for offset in (0.8, 1.4, 2.0):
        await asyncio.sleep(max(0.0, started + offset - asyncio.get_running_loop().time()))
        sent_at = asyncio.get_running_loop().time()
        ping = await other.say(elsewhere, "!hilfe")
        await other.next_message(room_id=elsewhere, reply_to=ping, timeout=60)
        delays.append(asyncio.get_running_loop().time() - sent_at)
    result = await moderator.next_message(room_id=room, reply_to=imported, timeout=120)
    parse_seconds = asyncio.get_running_loop().time() - started
    assert parse_seconds > max(delays), "the import took longer than the answers meanwhile"
    assert max(delays) < 1.5, delays
    assert result.msgtype == "m.notice"


# A room queue of one waiting command: a burst overflows it.
queuebot = module_bot("queuebot", "\n[bot]\nmax_queued_commands_per_room = 1\n")


async def test_a_full_room_queue_refuses_with_a_notice_and_loses_nothing_it_accepted(
    queuebot: BotProcess, member_factory: MemberFactory
) -> None:
    member = await member_factory("flooder")
    room = await member.room_with(queuebot.user_id)
    # In a thread: the notices belong to the commands and go into the thread as the answers do.
    root = await member.say(room, "Viele Fragen")
    thread = {"m.relates_to": {"rel_type": "m.thread", "event_id": root, "m.in_reply_to": {"event_id": root}}}
    sent = await asyncio.gather(*(member.say(room, "!hilfe", extra=thread) for _ in range(30)))

    def replies_to(event_id: str) -> list[Received]:
        return [r for r in member.received if r.room_id == room and r.in_reply_to == event_id]

    # Every command gets exactly one message: its answer, or the notice to send it again.
    await member.wait_until(lambda: all(replies_to(e) for e in sent), timeout=90)
    await asyncio.sleep(2)
    answers = [replies_to(e) for e in sent]
    assert all(len(found) == 1 for found in answers), [len(found) for found in answers]
    busy = [found[0] for found in answers if says(found[0].body, "core_room_busy")]
    assert busy, "the burst overflowed the queue of one"
    assert len(busy) < len(sent)
    assert all(found[0].content["m.relates_to"].get("event_id") == root for found in answers)
    assert "command queue of" in queuebot.log()

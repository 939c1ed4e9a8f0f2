"""NExT-Kaffee end to end: opt-in across two rooms, runs with intro chats, follow-up answers, a second run
that pairs differently and respects a pause, and a scheduled run missed across a restart that happens once."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.devserver import Synapse
from tests.catalog import markdown, says, stable
from tests.e2e.harness import BotProcess, Member, Received
from timephrases import format_date


def coffee_bot(synapse: Synapse, workdir: Path, name: str, admin: Member, config: str) -> BotProcess:
    return BotProcess(
        synapse,
        workdir / name,
        allowed_inviters=["localhost"],
        localpart=name,
        extra_config=f'\n[bot]\nadmins = ["{admin.user_id}"]\n' + config,
    )


async def community(owner: Member, others: list[Member], bot: BotProcess) -> str:
    room = await owner.create_room(invite=[bot.user_id, *(m.user_id for m in others)])
    await asyncio.gather(*(member.join(room) for member in others))
    await owner.wait_for_member(room, bot.user_id)
    for member in others:
        await member.wait_for_member(room, bot.user_id)
    return room


def intros(member: Member, bot: BotProcess, after: int = 0) -> list[Received]:
    return [
        r
        for r in member.received[after:]
        if r.sender == bot.user_id and (says(r.body, "coffee_intro") or says(r.body, "coffee_intro_trio"))
    ]


async def intro_of(member: Member, bot: BotProcess, after: int) -> Received:
    await member.wait_until(lambda: len(intros(member, bot, after)) >= 1, timeout=60)
    return intros(member, bot, after)[0]


async def group_of(
    member: Member, bot: BotProcess, intro: Received, everyone: dict[str, Member]
) -> frozenset[str]:
    """The people in the intro chat (as this member sees it, once everyone invited has joined)."""
    room = member.client.rooms[intro.room_id]
    await member.wait_until(lambda: not (set(room.invited_users) - {bot.user_id}))
    return frozenset(user for user in room.users if user in everyone)


async def test_coffee_runs_pair_across_rooms_follow_up_and_respect_blocks_and_pauses(
    synapse: Synapse, workdir: Path, member_factory
) -> None:  # type: ignore[no-untyped-def]
    admin = await member_factory("cadmin")
    anna, ben, cem, dana = [await member_factory(f"c{name}") for name in ("anna", "ben", "cem", "dana")]
    bot = coffee_bot(
        synapse,
        workdir,
        "coffeebot",
        admin,
        "\n[coffee]\nfollow_up_seconds = 6\nclose_seconds = 600\nask_again_seconds = 4\n",
    )
    bot.start()
    try:
        first = await community(admin, [anna, ben], bot)
        second = await community(admin, [cem, dana], bot)
        for member, room, organisation, level, topics in (
            (anna, first, "Stadt Köln", "kommune", "OZG, Open Data"),
            (ben, first, "BMI", "bund", "OZG"),
            (cem, second, "Land Hessen", "land", "Open Data"),
            (dana, second, "Stadt Köln", "kommune", "Personal"),
        ):
            await member.command(room, f"!profil organisation {organisation}")
            await member.command(room, f"!profil ebene {level}")
            await member.command(room, f"!profil themen {topics}")

        status = await anna.command(first, "!kaffee")
        assert says(status.body, "coffee_status_not_joined")
        for member, room, command in (
            (anna, first, "!kaffee mitmachen"),
            (ben, first, "!kaffee mitmachen alle 2 Wochen"),
            (dana, second, "!kaffee mitmachen"),
        ):
            assert says((await member.command(room, command)).body, "coffee_joined", weeks=2)
        joined = await cem.command(second, "!coffee join every 4 weeks")
        assert says(joined.body, "coffee_joined", "en", weeks=4), joined.body
        wrong = await cem.command(second, "!kaffee mitmachen alle 3 Wochen")
        assert says(wrong.body, "coffee_error_rhythm", value="alle 3 Wochen"), wrong.body

        # Ben never wants to meet Cem: the answer comes by direct message only.
        ben_mark = len(ben.received)
        blocked = await ben.command(first, f"!kaffee nicht-mit {cem.user_id}")
        assert says(blocked.body, "coffee_answered_directly")
        assert cem.user_id not in blocked.body
        private = await ben.next_message(
            sender=bot.user_id, contains=stable("coffee_blocked"), after=ben_mark
        )
        assert private.room_id not in (first, second)

        refused = await anna.command(first, "!kaffee jetzt")
        assert says(refused.body, "core_permission_admin")

        people = {m.user_id: m for m in (anna, ben, cem, dana)}
        marks = {user: len(m.received) for user, m in people.items()}
        ran = await admin.command(first, "!kaffee jetzt", timeout=60)
        assert says(ran.body, "coffee_ran", groups=2, unpaired=0), ran.body
        first_intros = {user: await intro_of(m, bot, marks[user]) for user, m in people.items()}
        groups = {await group_of(m, bot, first_intros[user], people) for user, m in people.items()}
        assert sorted(len(group) for group in groups) == [2, 2]
        assert set().union(*groups) == set(people)
        assert frozenset((ben.user_id, cem.user_id)) not in groups  # blocked
        assert frozenset((anna.user_id, dana.user_id)) not in groups  # same organisation
        anna_intro = first_intros[anna.user_id]
        assert says(anna_intro.body, "coffee_intro"), anna_intro.body
        assert admin.user_id not in anna_intro.body  # only the paired, opted-in people are named

        # The follow-up: one reacts 👍, the other answers by command; then the bot leaves the chat.
        pair_of_anna = next(group for group in groups if anna.user_id in group)
        partner = people[next(user for user in pair_of_anna if user != anna.user_id)]
        chat = anna_intro.room_id
        asked = await anna.next_message(
            room_id=chat, sender=bot.user_id, contains=stable("coffee_follow_up"), timeout=60
        )
        await anna.react(chat, asked.event_id, "👍")
        answer = await partner.command(chat, "!kaffee getroffen ja")
        assert says(answer.body, "coffee_answer_saved_closed"), answer.body
        await anna.next_message(room_id=chat, sender=bot.user_id, contains=stable("coffee_closed"))
        await anna.wait_until(lambda: bot.user_id not in anna.client.rooms[chat].users, timeout=60)

        other_pair = next(group for group in groups if anna.user_id not in group)
        someone = people[sorted(other_pair)[0]]
        other_chat = first_intros[someone.user_id].room_id
        question = await someone.next_message(
            room_id=other_chat, contains=stable("coffee_follow_up"), timeout=60
        )
        # Plain replies to the question are answers: "noch nicht" brings the question once more, then "ja".
        unclear = await someone.answer(question, "Mittwoch?")
        assert says(unclear.body, "coffee_reply_unclear"), unclear.body
        later = await someone.answer(question, "noch nicht")
        assert says(later.body, "coffee_answer_saved"), later.body
        again = await someone.next_message(
            room_id=other_chat, sender=bot.user_id, contains=stable("coffee_ask_again"), timeout=60
        )
        met = await someone.answer(again, "Ja, haben wir!")
        assert says(met.body, "coffee_answer_saved"), met.body
        with sqlite3.connect(bot.workdir / "bot.db") as connection:
            answers = dict(connection.execute("SELECT user_id, answer FROM coffee_answers"))
            reasked = [row[0] for row in connection.execute("SELECT status FROM coffee_groups")]
        assert answers[someone.user_id] == "yes"
        assert reasked.count("reasked") == 1
        await asyncio.sleep(5)  # asked once more, and only once
        assert len([r for r in someone.received if says(r.body, "coffee_ask_again")]) == 1

        # Dana pauses; the second run pairs nobody who met before, no blocked pair, and not Dana.
        until = datetime.now(UTC).date() + timedelta(days=30)
        paused = await dana.command(second, f"!kaffee pause bis {until:%d.%m.%Y}")
        assert says(paused.body, "coffee_paused_until", date=format_date(until, "de")), paused.body
        shown = await dana.command(second, "!kaffee")
        pause = markdown("coffee_status_paused_until", date=format_date(until, "de"))
        assert says(shown.body, "coffee_status_joined", weeks=2, pause=pause), shown.body
        marks = {user: len(m.received) for user, m in people.items()}
        again = await admin.command(first, "!kaffee jetzt", timeout=60)
        assert says(again.body, "coffee_ran", groups=1, unpaired=1), again.body

        def newly_paired() -> list[str]:
            return [user for user, m in people.items() if intros(m, bot, marks[user])]

        await admin.wait_until(lambda: len(newly_paired()) >= 2, timeout=60)
        await asyncio.sleep(2)  # nobody else is introduced
        paired = newly_paired()
        new_pair = frozenset(paired)
        assert len(new_pair) == 2, paired
        assert dana.user_id not in new_pair
        assert new_pair not in groups
        assert new_pair != frozenset((ben.user_id, cem.user_id))
    finally:
        bot.stop()


def bot_log_lines(bot: BotProcess, text: str) -> list[str]:
    return [line for line in bot.log().splitlines() if text in line]


async def test_scheduled_run_missed_while_down_happens_once_at_start_marked_late(
    synapse: Synapse, workdir: Path, member_factory
) -> None:  # type: ignore[no-untyped-def]
    admin = await member_factory("cadmin")
    xena, yuri = await member_factory("cxena"), await member_factory("cyuri")
    bot = coffee_bot(synapse, workdir, "coffeesched", admin, "\n[scheduler]\nmisfire_grace_minutes = 0\n")
    base_config = bot.config_path.read_text()
    bot.start()
    try:
        room = await community(admin, [xena, yuri], bot)
        for member in (xena, yuri):
            assert says((await member.command(room, "!kaffee mitmachen")).body, "coffee_joined", weeks=2)
        bot.stop()
        # While the bot is down its (new) schedule comes due: a run in a few seconds, every week.
        due = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=4)
        bot.config_path.write_text(
            base_config
            + "\n[coffee]\nevery_weeks = 1\n"
            + f'schedule = "{due.second} {due.minute} {due.hour} {due.day} * *"\n'
        )
        bot.config_path.write_text(
            bot.config_path.read_text().replace("[bot]\n", '[bot]\ntimezone = "UTC"\n', 1)
        )
        await asyncio.sleep(max(0.0, (due - datetime.now(UTC)).total_seconds()) + 2)
        marks = (len(admin.received), len(xena.received), len(yuri.received))
        bot.start()
        report = await admin.next_message(
            sender=bot.user_id, contains=stable("coffee_report_late"), after=marks[0], timeout=60
        )
        assert says(report.body, "coffee_report_late", groups=1, unpaired=0), report.body
        await intro_of(xena, bot, marks[1])
        await intro_of(yuri, bot, marks[2])
        assert len(bot_log_lines(bot, "NExT-Kaffee run 1 ")) == 1
        assert "late" in bot_log_lines(bot, "NExT-Kaffee run 1 ")[0]

        # Restarted again: the run of that time exists, nothing runs a second time.
        ready = bot.ready_count()
        bot.stop()
        bot.start()
        await admin.wait_until(lambda: bot.ready_count() > ready, timeout=60)
        marker = await xena.command(room, "!kaffee")
        assert says(marker.body, "coffee_status_joined", weeks=2, pause=stable("coffee_status_active"))
        await asyncio.sleep(2)
        reports = [
            r
            for r in admin.received[marks[0] :]
            if r.sender == bot.user_id and says(r.body, "coffee_report_late")
        ]
        assert len(reports) == 1
        assert len(intros(xena, bot, marks[1])) == 1
        assert len(intros(yuri, bot, marks[2])) == 1
        assert len(bot_log_lines(bot, "NExT-Kaffee run 2 ")) == 0
    finally:
        bot.stop()

"""Soak: many rooms and members, mixed traffic for a long time, with the faults of real rooms (issue 14).

16 rooms × 300 members by default on a local Synapse; every room has a pending invite that is never accepted.
Active members send commands (and react to the bot's answers) at a steady rate, others join and leave; one
member is kicked, one room is upgraded (traffic moves to the successor), the bot is restarted once with
SIGTERM and once with SIGKILL. At the end it prints commands sent / answered / lost, duplicate answers, the
longest reply delay (overall and outside the restarts), reminders (one in ten commands, due a minute later)
not posted or posted twice, and the bot's memory from after the restarts to the end.

Not part of ``make test``: the full run takes ``--minutes`` (30) plus set-up. For a quick check on a small
machine: ``python -m benchmarks.soak --minutes 2 --rooms 3 --members 20``.
Goal of the full run: 0 lost, 0 duplicates, every reminder posted once, longest delay ≤ 10 s outside the
restarts, RSS growth ≤ 10 %.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.common import Http, Token, _q, banner, homeserver, our_bot, rss_mib, table, verdict
from tests.e2e.harness import BotProcess

COMMANDS = ("!hilfe", "!erinnerungen", "!profil", "!help", "!reminders", "!profil themen Soak, Matrix")
REMINDER_SHARE = 0.1  # of the commands: "!erinnere mich in 1 Minute an soak-<n>", due during the run
ACTIVE_PER_ROOM = 6
REMINDER_TEXT = re.compile(r"soak-\d+")
RESTART_GRACE = 5.0  # seconds after a restart's ready line that still count as "during the restart"


@dataclass
class Run:
    sent: dict[str, float] = field(default_factory=dict)  # command event id → monotonic send time
    answers: Counter[str] = field(default_factory=Counter)  # command event id → answers seen
    answered_at: dict[str, float] = field(default_factory=dict)
    replies: list[tuple[str, str]] = field(default_factory=list)  # (room, reply event id) to react to
    restarts: list[tuple[float, float]] = field(default_factory=list)  # (from, until) monotonic
    errors: list[str] = field(default_factory=list)
    reminders: dict[str, float] = field(default_factory=dict)  # reminder text → monotonic due time
    fired: Counter[str] = field(default_factory=Counter)  # reminder text → times it was posted
    rss: list[tuple[float, float]] = field(default_factory=list)  # (monotonic, MiB) of the running bot
    churn_in: dict[str, set[str]] = field(default_factory=dict)  # spare member → rooms they joined


async def observe(http: Http, watcher: Token, bot_id: str, run: Run, stop: asyncio.Event) -> None:
    """A bare sync loop of a member who is in every room: the bot's answers and what they reply to."""
    sync_filter = json.dumps(
        {
            "presence": {"not_types": ["*"]},
            "account_data": {"not_types": ["*"]},
            "room": {
                "timeline": {"limit": 500, "senders": [bot_id], "types": ["m.room.message"]},
                "state": {"lazy_load_members": True, "types": []},
                "ephemeral": {"not_types": ["*"]},
            },
        }
    )
    since: str | None = None
    while not stop.is_set():
        path = f"/_matrix/client/v3/sync?timeout=5000&filter={_q(sync_filter)}"
        if since:
            path += f"&since={_q(since)}"
        try:
            data = await http.request("GET", path, watcher.access_token)
        except Exception as exc:  # the homeserver is busy: try again
            run.errors.append(f"watcher sync {type(exc).__name__}")
            await asyncio.sleep(1)
            continue
        now = time.monotonic()
        since = data.get("next_batch", since)
        for room_id, info in (data.get("rooms", {}).get("join") or {}).items():
            for event in info.get("timeline", {}).get("events", []):
                relates = event.get("content", {}).get("m.relates_to") or {}
                target = (relates.get("m.in_reply_to") or {}).get("event_id")
                body = str(event.get("content", {}).get("body", ""))
                if target is None:  # not an answer: a reminder being posted (on time or late)
                    for text in REMINDER_TEXT.findall(body):
                        run.fired[text] += 1
                if target in run.sent:
                    run.answers[target] += 1
                    run.answered_at.setdefault(target, now)
                    run.replies.append((room_id, event["event_id"]))


@dataclass
class Room:
    room_id: str
    active: list[Token]


async def set_up(
    http: Http, admin: Token, bot: BotProcess, rooms: int, members: int
) -> tuple[list[Room], list[Token]]:
    """Rooms with ``members`` members each (six of them active, with tokens), the bot, a pending invite."""
    result = []
    spare = await http.register_many([f"churn{i}" for i in range(rooms * 2)])
    for index in range(rooms):
        room_id = await http.create_room(admin, f"Soak {index}")
        await http.request(
            "POST",
            f"/_matrix/client/v3/rooms/{_q(room_id)}/invite",
            admin.access_token,
            {"user_id": bot.user_id},
        )
        active = await http.register_many([f"r{index}a{i}" for i in range(ACTIVE_PER_ROOM)])
        for token in active:
            await http.join(token, room_id)
        for number in range(members - ACTIVE_PER_ROOM):
            user_id = await http.create_user(admin, f"r{index}m{number}")
            await http.force_join(admin, room_id, user_id)
        ghost = await http.create_user(admin, f"r{index}ghost")
        await http.request(
            "POST", f"/_matrix/client/v3/rooms/{_q(room_id)}/invite", admin.access_token, {"user_id": ghost}
        )
        result.append(Room(room_id, active))
    for room in result:  # the bot has joined every room
        for _ in range(120):
            joined = await http.request(
                "GET", f"/_matrix/client/v3/rooms/{_q(room.room_id)}/joined_members", admin.access_token
            )
            if bot.user_id in joined.get("joined", {}):
                break
            await asyncio.sleep(0.5)
    return result, spare


async def traffic(
    http: Http, rooms: list[Room], spare: list[Token], run: Run, rate: float, until: float
) -> None:
    """Commands at ``rate`` per second, with reactions and joins/leaves in between."""
    rng = random.Random(14)
    while time.monotonic() < until:
        await asyncio.sleep(rng.expovariate(rate))
        room = rng.choice(rooms)
        roll = rng.random()
        action = "command"
        try:
            if roll < 0.8 and room.active:
                member = rng.choice(room.active)
                if rng.random() < REMINDER_SHARE:
                    text = f"soak-{len(run.reminders)}"
                    command = f"!erinnere mich in 1 Minute an {text}"
                else:
                    text, command = "", rng.choice(COMMANDS)
                event_id = await http.send_text(member, room.room_id, command)
                run.sent[event_id] = time.monotonic()
                if text:
                    run.reminders[text] = run.sent[event_id] + 60
            elif roll < 0.9 and room.active:
                action = "reaction"
                here = [event_id for room_id, event_id in run.replies[-200:] if room_id == room.room_id]
                if here:  # a member of the room reacts to one of the bot's recent answers there
                    content = {
                        "m.relates_to": {"rel_type": "m.annotation", "event_id": here[-1], "key": "👍"}
                    }
                    path = (
                        f"/_matrix/client/v3/rooms/{_q(room.room_id)}/send/m.reaction/{rng.getrandbits(64):x}"
                    )
                    await http.request("PUT", path, rng.choice(room.active).access_token, content)
            elif spare:
                churn = rng.choice(spare)
                inside = run.churn_in.setdefault(churn.user_id, set())
                if room.room_id not in inside:
                    action = "join"
                    await http.join(churn, room.room_id)
                    inside.add(room.room_id)
                else:
                    action = "leave"
                    path = f"/_matrix/client/v3/rooms/{_q(room.room_id)}/leave"
                    await http.request("POST", path, churn.access_token, {})
                    inside.discard(room.room_id)
        except Exception as exc:  # a busy homeserver; counted by kind in the report
            status, errcode = re.search(r": (\d{3}) ", str(exc)), re.search(r"M_[A-Z_]+", str(exc))
            kind = " ".join(
                [status.group(1) if status else type(exc).__name__, errcode.group(0) if errcode else ""]
            ).strip()
            run.errors.append(f"{action} {kind}")


async def faults(
    http: Http, admin: Token, bot: BotProcess, rooms: list[Room], run: Run, start: float, seconds: float
) -> None:
    """One kick, one room upgrade, a SIGTERM restart and a SIGKILL restart, spread over the run."""

    async def at(fraction: float) -> None:
        await asyncio.sleep(max(0.0, start + fraction * seconds - time.monotonic()))

    # The restarts come first, so that the process after them runs for most of the soak and its memory
    # growth is measured over a long stretch (a restart resets RSS).
    for fraction, how in ((0.1, "SIGTERM"), (0.2, "SIGKILL")):
        await at(fraction)
        began = time.monotonic()
        await asyncio.to_thread(bot.stop if how == "SIGTERM" else bot.kill)
        await asyncio.to_thread(bot.start, 120.0)
        run.restarts.append((began, time.monotonic() + RESTART_GRACE))
    await at(0.3)
    kicked = rooms[-1].active.pop()
    await http.request(
        "POST",
        f"/_matrix/client/v3/rooms/{_q(rooms[-1].room_id)}/kick",
        admin.access_token,
        {"user_id": kicked.user_id, "reason": "soak"},
    )
    await at(0.4)
    upgraded = await http.request(
        "POST",
        f"/_matrix/client/v3/rooms/{_q(rooms[0].room_id)}/upgrade",
        admin.access_token,
        {"new_version": "10"},
    )
    successor = str(upgraded["replacement_room"])
    for member in rooms[0].active:
        await http.join(member, successor)
    for _ in range(120):  # the bot follows the upgrade
        joined = await http.request(
            "GET", f"/_matrix/client/v3/rooms/{_q(successor)}/joined_members", admin.access_token
        )
        if bot.user_id in joined.get("joined", {}):
            break
        await asyncio.sleep(0.5)
    rooms[0].room_id = successor


async def sample_rss(bot: BotProcess, run: Run, until: float) -> None:
    """The running bot's RSS every 15 s (the process changes at the restarts)."""
    while time.monotonic() < until:
        if bot.process is not None:
            run.rss.append((time.monotonic(), rss_mib(bot.process.pid)[0]))
        await asyncio.sleep(15)


def report(run: Run, end: float, minutes: float, rooms: int, members: int) -> bool:
    sent = len(run.sent)
    answered = sum(1 for event_id in run.sent if run.answers[event_id] > 0)
    duplicates = sum(count - 1 for count in run.answers.values() if count > 1)
    delays = {e: run.answered_at[e] - t for e, t in run.sent.items() if e in run.answered_at}

    def during_restart(sent_at: float) -> bool:
        return any(began - 30 <= sent_at <= until for began, until in run.restarts)

    outside = [d for e, d in delays.items() if not during_restart(run.sent[e])]
    longest = max(delays.values(), default=0.0)
    longest_outside = max(outside, default=0.0)
    due = [text for text, at in run.reminders.items() if at <= end]
    not_fired = sum(1 for text in due if run.fired[text] == 0)
    fired_twice = sum(1 for text in due if run.fired[text] > 1)
    # Memory of the process that ran longest: two minutes after the last restart (caches warm) to the end.
    last_start = max((until for _, until in run.restarts), default=0.0)
    samples = [mib for at, mib in run.rss if at >= last_start + 120]
    rss_from, rss_to = (samples[0], samples[-1]) if samples else (float("nan"), float("nan"))
    growth = (rss_to - rss_from) / rss_from * 100 if samples else float("nan")
    span = (run.rss[-1][0] - last_start - 120) / 60 if samples else 0.0
    banner(f"Soak: {rooms} rooms × {members} members, {minutes:g} minutes")
    print(
        table(
            ["measure", "value", "goal"],
            [
                ["commands sent", sent, ""],
                ["answered", answered, sent],
                ["lost", sent - answered, 0],
                ["duplicate answers", duplicates, 0],
                ["reminders due in the run", len(due), ""],
                ["reminders not posted / posted twice", f"{not_fired} / {fired_twice}", "0 / 0"],
                ["longest delay (s)", f"{longest:.1f}", ""],
                ["longest delay outside restarts (s)", f"{longest_outside:.1f}", "≤ 10"],
                [
                    f"RSS after the restarts, over {span:.0f} min (MiB)",
                    f"{rss_from:.0f} → {rss_to:.0f} ({growth:+.1f} %), peak {max(samples, default=0):.0f}",
                    "≤ +10 %",
                ],
                ["RSS before the first restart (MiB)", f"{run.rss[0][1]:.0f}" if run.rss else "–", ""],
                ["restarts (SIGTERM, SIGKILL)", len(run.restarts), 2],
                ["client errors", _errors(run.errors), ""],
            ],
        )
    )
    ok = (
        sent - answered == 0
        and duplicates == 0
        and not_fired == 0
        and fired_twice == 0
        and longest_outside <= 10
        and growth <= 10
    )
    print(verdict(ok))
    return ok


def _errors(errors: list[str]) -> str:
    if not errors:
        return "0"
    kinds = ", ".join(f"{kind}: {count}" for kind, count in Counter(errors).most_common(4))
    return f"{len(errors)} ({kinds})"


async def soak(minutes: float, rooms: int, members: int, rate: float, workdir: Path) -> bool:
    with homeserver(workdir) as synapse:
        http = Http(synapse)
        try:
            admin = await http.register("soakadmin", admin=True)
            bot = our_bot(synapse, workdir, encryption=False)
            bot.start()
            try:
                room_list, spare = await set_up(http, admin, bot, rooms, members)
                run, stop = Run(), asyncio.Event()
                watcher = asyncio.create_task(observe(http, admin, bot.user_id, run, stop))
                start = time.monotonic()
                seconds = minutes * 60
                await asyncio.gather(
                    traffic(http, room_list, spare, run, rate, start + seconds),
                    faults(http, admin, bot, room_list, run, start, seconds),
                    sample_rss(bot, run, start + seconds),
                )
                end = time.monotonic()
                for _ in range(90):  # stragglers; reminders due until the end are posted
                    answered = all(run.answers[e] for e in run.sent)
                    if answered and all(run.fired[t] for t, at in run.reminders.items() if at <= end):
                        break
                    await asyncio.sleep(1)
                await asyncio.sleep(3)  # a late duplicate would show up now
                assert bot.process is not None
                run.rss.append((time.monotonic(), rss_mib(bot.process.pid)[0]))
                stop.set()
                await watcher
                return report(run, end, minutes, rooms, members)
            finally:
                bot.stop()
        finally:
            await http.close()


def main(argv: list[str] | None = None) -> bool:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--rooms", type=int, default=16)
    parser.add_argument("--members", type=int, default=300)
    parser.add_argument("--rate", type=float, default=2.0, help="commands and other actions per second")
    args = parser.parse_args(argv)
    if args.members <= ACTIVE_PER_ROOM:
        parser.error(f"--members must be more than {ACTIVE_PER_ROOM}")
    with tempfile.TemporaryDirectory(prefix="soak-") as directory:
        return asyncio.run(soak(args.minutes, args.rooms, args.members, args.rate, Path(directory)))


if __name__ == "__main__":
    raise SystemExit(0 if main() else 1)

"""Burst: 200 members send ``!anmelden <id>`` within one second to a 20-seat session.

The same 200 members (registered with the shared-secret admin registration; they send through the plain
client-server API without syncing) first send 200 messages to the bare echo bot's room, then sign up in our
bot's room, both spread evenly over one second. An observer (a real matrix-nio client, the moderator who set
the session up) records when each reply arrives and the order in which the homeserver put the commands into
the timeline. Checks: exactly 20 confirmed (the first 20 in timeline order), 180 wait-listed in timeline order
(positions 1..180), 0 errors, every member answered; goal: total time ≤ 1.5× the echo bot's.

    python -m benchmarks.burst [--members 200] [--seats 20] [--window 1.0]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import re
import sqlite3
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from nio import MatrixRoom, RoomCreateResponse, RoomMessage, RoomPreset

from benchmarks.common import (
    EchoProcess,
    Http,
    Token,
    banner,
    error_lines,
    homeserver,
    load_average,
    our_bot,
    percentile,
    table,
    verdict,
)
from tests.e2e.harness import Member

GOAL_RATIO = 1.5
SYNC_FILTER = {"room": {"timeline": {"limit": 1000}}}
HAS_SESSIONS = importlib.util.find_spec("commands.sessions") is not None


@dataclass
class Observer:
    """Arrival times of replies and the timeline order of commands, as the moderator's client sees them."""

    member: Member
    # in_reply_to → (arrival, sender, body)
    replies: dict[str, tuple[float, str, str]] = field(default_factory=dict)
    # room → command event ids in timeline order
    timeline: dict[str, list[str]] = field(default_factory=dict)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    async def attach(self) -> None:
        # The harness member syncs with Synapse's default filter (10 timeline events per room and sync): in a
        # burst the observer would miss events. Restart its sync loop with a large limit.
        member = self.member
        if member._task is not None:
            member._task.cancel()
            await asyncio.gather(member._task, return_exceptions=True)
        member._task = asyncio.create_task(member.client.sync_forever(timeout=1000, sync_filter=SYNC_FILTER))
        member.client.add_event_callback(self._on_message, RoomMessage)  # type: ignore[arg-type]

    async def _on_message(self, room: MatrixRoom, event: RoomMessage) -> None:
        now = time.perf_counter()
        content = event.source.get("content", {})
        body = str(content.get("body", ""))
        target = (content.get("m.relates_to", {}).get("m.in_reply_to") or {}).get("event_id")
        if target:
            self.replies[target] = (now, event.sender, body)
            self.changed.set()
        elif body.startswith("!"):
            self.timeline.setdefault(room.room_id, []).append(event.event_id)


@dataclass
class Burst:
    start: float = 0.0
    sent: dict[str, str] = field(default_factory=dict)  # user → event id
    sent_at: dict[str, float] = field(default_factory=dict)
    send_errors: list[str] = field(default_factory=list)
    last_send: float = 0.0
    unanswered: list[str] = field(default_factory=list)
    total: float = 0.0
    latencies: list[float] = field(default_factory=list)


async def burst(
    http: Http, observer: Observer, room_id: str, users: list[Token], text: str, window: float
) -> Burst:
    result = Burst()
    step = window / len(users)

    async def one(index: int, user: Token) -> None:
        await asyncio.sleep(result.start + index * step - time.perf_counter())
        sent_at = time.perf_counter()
        try:
            event_id = await http.send_text(user, room_id, text)
        except Exception as exc:
            result.send_errors.append(f"{user.user_id}: {exc}")
            return
        result.sent[user.user_id] = event_id
        result.sent_at[event_id] = sent_at
        result.last_send = max(result.last_send, time.perf_counter())

    result.start = time.perf_counter() + 0.05
    await asyncio.gather(*(one(i, u) for i, u in enumerate(users)))
    deadline = time.perf_counter() + 120
    while not all(e in observer.replies for e in result.sent.values()):
        observer.changed.clear()
        try:
            await asyncio.wait_for(observer.changed.wait(), deadline - time.perf_counter())
        except TimeoutError:
            break
    answered = [e for e in result.sent.values() if e in observer.replies]
    result.unanswered = [u for u, e in result.sent.items() if e not in observer.replies]
    if answered:
        result.total = max(observer.replies[e][0] for e in answered) - result.start
        result.latencies = [observer.replies[e][0] - result.sent_at[e] for e in answered]
    return result


async def public_room(member: Member, name: str, invite: list[str]) -> str:
    response = await member.client.room_create(name=name, invite=invite, preset=RoomPreset.public_chat)
    assert isinstance(response, RoomCreateResponse), response
    await member.wait_until(lambda: response.room_id in member.client.rooms, 60)
    return str(response.room_id)


def full(room: MatrixRoom, bot_user: str, size: int) -> Callable[[], bool]:
    return lambda: len(room.users) >= size and bot_user not in room.invited_users


async def join_all(http: Http, users: list[Token], room_id: str, concurrency: int = 10) -> None:
    gate = asyncio.Semaphore(concurrency)

    async def one(user: Token) -> None:
        async with gate:
            await http.join(user, room_id)

    await asyncio.gather(*(one(u) for u in users))


async def plan_session(member: Member, room_id: str, seats: int) -> int:
    async def ask(text: str) -> str:
        return (await member.command(room_id, text, timeout=60)).body

    day = (date.today() + timedelta(days=1)).strftime("%d.%m.%Y")
    event = _number(r"Veranstaltung Nr\. (\d+)", await ask(f'!veranstaltung neu "Burst-Camp" {day}'))
    await ask(f'!veranstaltung runde {event} "Runde 1" 10:00-10:45')
    session = _number(
        r"Session Nr\. (\d+)",
        await ask(f'!session vorschlagen "Beliebt" Alle wollen hin --kapazität {seats}'),
    )
    assert "eingeplant" in await ask(f"!session einplanen {session} 1 Saal")
    assert "veröffentlicht" in await ask(f"!veranstaltung veröffentlichen {event}")
    return session


def _number(pattern: str, text: str) -> int:
    found = re.search(pattern, text)
    if not found:
        raise AssertionError(f"{pattern!r} not in {text!r}")
    return int(found.group(1))


def check_signups(
    result: Burst, observer: Observer, room_id: str, seats: int, database: Path, session_id: int
) -> dict[str, Any]:
    """Among the answered commands in timeline order: the first ``seats`` are confirmed, the rest wait in that
    order (positions 1, 2, …). Unanswered commands are counted separately."""
    order = [e for e in observer.timeline.get(room_id, []) if e in result.sent_at]
    answered = [e for e in order if e in observer.replies]
    confirmed, waitlisted, wrong = 0, 0, []
    for rank, event_id in enumerate(answered):
        body = observer.replies[event_id][2]
        place = re.search(r"Platz (\d+)", body)
        if rank < seats and "angemeldet" in body and "Warteliste" not in body:
            confirmed += 1
        elif rank >= seats and place and int(place.group(1)) == rank - seats + 1:
            waitlisted += 1
        else:
            wrong.append(f"#{rank + 1}: {body[:120]!r}")
    lost = [order.index(e) + 1 for e in order if e not in observer.replies]
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
        rows = db.execute(
            "SELECT state, position FROM session_signups WHERE session_id = ? ORDER BY position",
            (session_id,),
        ).fetchall()
    positions = [p for state, p in rows if p is not None]
    return {
        "confirmed": confirmed,
        "waitlisted": waitlisted,
        "wrong": wrong,
        "lost_ranks": lost,
        "db_rows": len(rows),
        "db_positions_ok": positions == list(range(1, len(positions) + 1)),
        "timeline_seen": len(order),
    }


async def measure(members: int, seats: int, window: float, workdir: Path) -> dict[str, Any]:
    with homeserver(workdir) as synapse:
        bot = our_bot(synapse, workdir)
        echo = EchoProcess(synapse, workdir / "echo")
        bot.start()
        echo.start()
        moderator = Member(synapse, "orga", workdir)
        http = Http(synapse, limit=members + 10)
        try:
            await moderator.start()
            observer = Observer(moderator)
            await observer.attach()
            started = time.perf_counter()
            users = await http.register_many([f"p{i:03d}" for i in range(members)])
            echo_room = await public_room(moderator, "Echo-Burst", [echo.user_id])
            bot_room = await public_room(moderator, "Burst", [bot.user_id])
            await join_all(http, users, echo_room)
            await join_all(http, users, bot_room)
            for room_id, bot_user in ((echo_room, echo.user_id), (bot_room, bot.user_id)):
                await moderator.wait_until(full(moderator.client.rooms[room_id], bot_user, members + 2), 120)
            print(f"  {members} members registered and joined in {time.perf_counter() - started:.1f} s")
            session_id = await plan_session(moderator, bot_room, seats) if HAS_SESSIONS else 0
            await asyncio.sleep(2)  # let the set-up traffic settle
            load = load_average()
            floor = await burst(http, observer, echo_room, users, "!anmelden 1", window)
            await asyncio.sleep(2)
            command = f"!anmelden {session_id}" if HAS_SESSIONS else "!hilfe"
            ours = await burst(http, observer, bot_room, users, command, window)
            await asyncio.sleep(1)
            checks = (
                check_signups(ours, observer, bot_room, seats, bot.workdir / "bot.db", session_id)
                if HAS_SESSIONS
                else {}
            )
            return {
                "ours": ours,
                "floor": floor,
                "checks": checks,
                "load": load,
                "bot_log_errors": error_lines(bot.log()),
            }
        finally:
            await moderator.stop()
            await http.close()
            bot.stop()
            echo.stop()


def report(results: dict[str, Any], members: int, seats: int, window: float) -> bool:
    ours: Burst = results["ours"]
    floor: Burst = results["floor"]
    ratio = ours.total / floor.total if floor.total else float("inf")
    print(
        f"{members} members, each sends one command; sends spread over {window:.1f} s; "
        f"load before the burst {results['load']}"
    )
    rows = []
    for name, item in (("our bot (!anmelden)", ours), ("echo bot", floor)):
        rows.append(
            (
                name,
                len(item.sent),
                len(item.send_errors),
                len(item.sent) - len(item.unanswered),
                item.last_send - item.start,
                item.total,
                percentile(item.latencies, 50),
                percentile(item.latencies, 95),
                max(item.latencies, default=float("nan")),
            )
        )
    headers = (
        "bot", "sent", "send errors", "answered", "sending took [s]", "total [s]",
        "reply p50 [s]", "reply p95 [s]", "reply max [s]",
    )  # fmt: skip
    print(table(headers, rows))
    ok = ratio <= GOAL_RATIO and not ours.unanswered
    lost = len(ours.unanswered)
    note = f" — not comparable: our bot left {lost} commands unanswered" if lost else ""
    print(f"\ntotal time ratio ours/echo: {ratio:.2f}× (goal ≤ {GOAL_RATIO}×: {verdict(ok)}){note}")
    checks = results["checks"]
    errors = ours.send_errors + floor.send_errors + results["bot_log_errors"]
    if checks:
        correct = (
            checks["confirmed"] == seats
            and checks["waitlisted"] == members - seats
            and checks["db_rows"] == members
            and checks["db_positions_ok"]
            and not checks["wrong"]
        )
        print(
            f"confirmed {checks['confirmed']} (expected {seats}), wait-listed in timeline order "
            f"{checks['waitlisted']} (expected {members - seats}), sign-up rows {checks['db_rows']}, "
            f"wait-list positions 1..n without gaps: {checks['db_positions_ok']}, "
            f"unanswered {len(ours.unanswered)}, errors {len(errors)}: {verdict(correct)}"
        )
        if checks["lost_ranks"]:
            print(f"   never answered (places in the timeline): {checks['lost_ranks'][:30]}")
        for line in checks["wrong"][:5]:
            print("   wrong:", line)
        ok = ok and correct
    else:
        print("the sessions feature is missing: our bot answered !hilfe instead of !anmelden")
    for line in errors[:5]:
        print("   error:", line)
    return ok and not errors and not ours.unanswered and not floor.unanswered


def main(argv: list[str] | None = None) -> bool:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--members", type=int, default=200)
    parser.add_argument("--seats", type=int, default=20)
    parser.add_argument("--window", type=float, default=1.0, help="seconds over which the sends are spread")
    args = parser.parse_args(argv)
    banner("Burst: sign-ups within one second")
    with tempfile.TemporaryDirectory(prefix="bench-burst-") as tmp:
        results = asyncio.run(measure(args.members, args.seats, args.window, Path(tmp)))
    return report(results, args.members, args.seats, args.window)


if __name__ == "__main__":
    main()

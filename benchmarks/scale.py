"""Scale: memory and start-up of our bot in 16 rooms × 300 members, next to the bare echo bot.

The homeserver's admin API builds the rooms: an admin registered with ``/_synapse/admin/v1/register`` creates
the rooms, creates 4,800 distinct users (``PUT /_synapse/admin/v2/users``, no password) and force-joins them,
the bots and one probe member with ``/_synapse/admin/v1/join/<room>``. Then each bot is started and measured:
time to ready (process start → "ready" in its log → a command answered) and RSS (/proc: current and peak).
Our bot is measured twice: the first start (new login, empty database, migrations) and a restart (saved
login, sync token and database).

    python -m benchmarks.scale [--rooms 16] [--members 300]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from benchmarks.common import (
    EchoProcess,
    Http,
    Token,
    banner,
    error_lines,
    homeserver,
    load_average,
    our_bot,
    rss_mib,
    table,
    verdict,
)
from tests.e2e.harness import Member

GOAL_RSS_MIB = 150
GOAL_READY_S = 3.0


async def populate(http: Http, admin: Token, rooms: int, members: int, extra: list[str]) -> list[str]:
    """``rooms`` public rooms, each with ``members`` own users plus ``extra`` (bots, probe)."""
    room_ids = [await http.create_room(admin, f"Raum {r + 1}") for r in range(rooms)]
    gate = asyncio.Semaphore(16)

    async def fill(index: int, room_id: str) -> None:
        for user_id in extra:
            await http.force_join(admin, room_id, user_id)
        for m in range(members):
            async with gate:
                user_id = await http.create_user(admin, f"r{index:02d}m{m:03d}")
                await http.force_join(admin, room_id, user_id)

    await asyncio.gather(*(fill(i, room_id) for i, room_id in enumerate(room_ids)))
    return room_ids


PHASES = (("logged in", "login"), ("restored login", "login"), ("first sync done", "first sync"),
          ("is ready", "ready"))  # fmt: skip


def phases(log: str, since: float) -> str:
    """Seconds from the process start to the milestones in our bot's log (lines written after ``since``)."""
    found: dict[str, float] = {}
    for line in log.splitlines():
        try:
            stamp = datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f").timestamp()
        except ValueError:
            continue
        if stamp < since - 0.01:
            continue
        for marker, name in PHASES:
            if marker in line and name not in found:
                found[name] = stamp - since
    return ", ".join(f"{name} {value:.2f} s" for name, value in found.items())


async def start_and_probe(process: Any, probe: Member, room_id: str, label: str) -> dict[str, Any]:
    wall = time.time()
    started = time.perf_counter()
    await asyncio.to_thread(process.start, 180)
    ready = time.perf_counter() - started
    reply = await probe.command(room_id, "!hilfe", timeout=120)
    answered = time.perf_counter() - started
    assert reply.sender == process.user_id, reply
    assert process.process is not None
    rss, peak = rss_mib(process.process.pid)
    await asyncio.sleep(5)  # settle: what stays resident
    rss_later, peak_later = rss_mib(process.process.pid)
    return {
        "label": label,
        "ready": ready,
        "answered": answered,
        "rss": rss,
        "rss_later": rss_later,
        "peak": max(peak, peak_later),
        "phases": phases(process.log(), wall) if label.startswith("our") else "",
    }


async def measure(rooms: int, members: int, workdir: Path, echo_first: bool = False) -> dict[str, Any]:
    with homeserver(workdir) as synapse:
        http = Http(synapse, limit=40)
        bot = our_bot(synapse, workdir)
        echo = EchoProcess(synapse, workdir / "echo")
        probe = Member(synapse, "probe", workdir)
        try:
            admin = await http.register("admin", admin=True)
            synapse.register(probe.localpart, probe.password)
            started = time.perf_counter()
            room_ids = await populate(http, admin, rooms, members, [bot.user_id, echo.user_id, probe.user_id])
            setup = time.perf_counter() - started
            print(f"  {rooms} rooms × {members} members created and joined in {setup:.0f} s", flush=True)
            await probe.start()
            await probe.wait_until(lambda: room_ids[0] in probe.client.rooms, 60)
            load = load_average()
            results = []
            if echo_first:
                # The first process to sync after the rooms were filled pays for the homeserver's cold caches.
                results.append(await start_and_probe(echo, probe, room_ids[0], "echo bot (first)"))
                echo.stop()
            results.append(await start_and_probe(bot, probe, room_ids[0], "our bot, first start"))
            bot.stop()
            results.append(await start_and_probe(bot, probe, room_ids[0], "our bot, restart"))
            bot.stop()
            if not echo_first:
                results.append(await start_and_probe(echo, probe, room_ids[0], "echo bot"))
                echo.stop()
            rooms_seen = [line for line in bot.log().splitlines() if "first sync done" in line]
            return {
                "rows": results,
                "load": load,
                "setup": setup,
                "rooms_seen": rooms_seen[-1].rsplit(",", 1)[-1].strip() if rooms_seen else "?",
                "bot_log_errors": error_lines(bot.log()),
            }
        finally:
            await probe.stop()
            await http.close()
            bot.stop()
            echo.stop()


def report(results: dict[str, Any], rooms: int, members: int) -> bool:
    print(
        f"{rooms} rooms × {members} members ({rooms * members} users); our bot's first sync saw "
        f"{results['rooms_seen']}; load before the start {results['load']}"
    )
    rows = []
    ok = True
    for row in results["rows"]:
        ours = row["label"].startswith("our")
        met = row["answered"] <= GOAL_READY_S and row["peak"] <= GOAL_RSS_MIB
        if ours:
            ok = ok and met
        rows.append(
            (
                row["label"],
                row["ready"],
                row["answered"],
                row["rss"],
                row["rss_later"],
                row["peak"],
                verdict(met) if ours else "(floor)",
            )
        )
    headers = (
        "process", "ready [s]", "command answered [s]", "RSS [MiB]", "RSS after 5 s [MiB]",
        "peak RSS [MiB]", f"goal ≤ {GOAL_READY_S:.0f} s, ≤ {GOAL_RSS_MIB} MiB",
    )  # fmt: skip
    print(table(headers, rows))
    for row in results["rows"]:
        if row["phases"]:
            print(f"\n{row['label']}, from the process start: {row['phases']}")
    errors = results["bot_log_errors"]
    print(f"\nERROR lines in the bot log: {len(errors)}")
    for line in errors[:5]:
        print("  ", line)
    return ok and not errors


def main(argv: list[str] | None = None) -> bool:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rooms", type=int, default=16)
    parser.add_argument("--members", type=int, default=300)
    parser.add_argument(
        "--echo-first", action="store_true", help="start the echo bot first (it then meets the cold caches)"
    )
    args = parser.parse_args(argv)
    banner("Scale: start-up and memory")
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        results = asyncio.run(measure(args.rooms, args.members, Path(tmp), echo_first=args.echo_first))
    return report(results, args.rooms, args.members)


if __name__ == "__main__":
    main()

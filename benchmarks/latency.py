"""Command → reply round trip of our bot against the bare matrix-nio echo bot, in the same run.

One member (a real matrix-nio client, ``tests.e2e.harness.Member``) sends one command at a time and waits for
the reply to it (``m.relates_to.m.in_reply_to``). Each command is sent alternately to our bot's room and to
the echo bot's room on the same homeserver, so noise from the (shared) machine hits both alike. Both bots run
with end-to-end encryption enabled, as in production; the rooms are plain (``--encrypted`` measures encrypted
rooms as well).

    python -m benchmarks.latency [--count 300] [--warmup 20] [--encrypted]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import re
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from benchmarks.common import (
    EchoProcess,
    Http,
    Token,
    banner,
    cpu_seconds,
    error_lines,
    homeserver,
    load_average,
    our_bot,
    summary_ms,
    table,
    verdict,
)
from tests.catalog import says
from tests.e2e.harness import BotProcess, Member

GOAL_P50 = 1.1
GOAL_P95 = 1.3
# Encrypted rooms (issue 12): both bots pay for Megolm alike, so the bot's own work must stand out even less.
GOAL_P50_ENCRYPTED = 1.05
GOAL_P95_ENCRYPTED = 1.2
INTERNAL_ERROR = ("Fehlernummer", "Error id")

HAS_SESSIONS = importlib.util.find_spec("commands.sessions") is not None


class RoundTrip:
    def __init__(self, member: Member) -> None:
        self.member = member
        self.errors: list[str] = []

    async def __call__(self, room_id: str, text: str, check: Callable[[str], bool] | None = None) -> float:
        member = self.member
        after = len(member.received)
        start = time.perf_counter()
        event_id = await member.say(room_id, text)
        reply = await member.next_message(room_id=room_id, reply_to=event_id, after=after, timeout=60)
        elapsed = time.perf_counter() - start
        if any(marker in reply.body for marker in INTERNAL_ERROR) or (check and not check(reply.body)):
            self.errors.append(f"{text!r} → {reply.body[:200]!r}")
        return elapsed


async def joined_room(
    member: Member, bot_user: str, name: str, *, encrypted: bool, http: Http, third: Token
) -> str:
    """A room of the member, the bot and a silent third person (with two people it counts as a direct chat,
    where nobody is a moderator)."""
    room_id = await member.create_room(invite=[bot_user, third.user_id], name=name, encrypted=encrypted)
    await http.join(third, room_id)
    room = member.client.rooms[room_id]
    await member.wait_until(
        lambda: {bot_user, third.user_id} <= set(room.users) and bot_user not in room.invited_users, 60
    )
    return room_id


async def plan_event(member: Member, room_id: str, http: Http, third: Token) -> int:
    """An event tomorrow with a program, two session rounds and seven published sessions; returns the id of
    one the member does not host (proposed by the third person)."""

    async def ask(text: str, by: Token | None = None) -> str:
        after = len(member.received)
        event_id = await (http.send_text(by, room_id, text) if by else member.say(room_id, text))
        return (await member.next_message(room_id=room_id, reply_to=event_id, after=after, timeout=60)).body

    day = (date.today() + timedelta(days=1)).strftime("%d.%m.%Y")
    created = await ask(f'!veranstaltung neu "Benchmark-Camp" {day}')
    event = int(_number(r"Veranstaltung Nr\. (\d+)", created))
    for at, label in (("09:00", "Ankommen"), ("09:30", "Begrüßung"), ("12:30", "Mittagspause")):
        await ask(f"!veranstaltung programm {event} {at} {label}")
    await ask(f'!veranstaltung runde {event} "Runde 1" 10:00-10:45')
    await ask(f'!veranstaltung runde {event} "Runde 2" 11:00-11:45')
    sessions = []
    for index in range(6):
        reply = await ask(f'!session vorschlagen "Session {index + 1}" Worum es geht --kapazität 30')
        session_id = _number(r"Session Nr\. (\d+)", reply)
        sessions.append(session_id)
        await ask(f"!session einplanen {session_id} {1 + index % 2} Raum {index + 1}")
    await ask(f"!veranstaltung öffnen {event}")
    reply = await ask('!session vorschlagen "Offene Runde" Für alle', by=third)
    open_session = _number(r"Session Nr\. (\d+)", reply)
    await ask(f"!session einplanen {open_session} 1 Raum 7")
    published = await ask(f"!veranstaltung veröffentlichen {event}")
    assert "veröffentlicht" in published, published
    return open_session


UNCAPPED_REMINDERS = "\n[reminders]\nmax_open_per_member = 1000000\n"


def _number(pattern: str, text: str) -> int:
    found = re.search(pattern, text)
    if not found:
        raise AssertionError(f"{pattern!r} not in {text!r}")
    return int(found.group(1))


def cases(session_id: int | None) -> list[tuple[str, Callable[[int], str], Callable[[str], bool] | None]]:
    """(label, text of the i-th command, check of our bot's reply)."""
    topics = ("OZG, Open Source, E-Akte", "KI, Registermodernisierung")
    result: list[tuple[str, Callable[[int], str], Callable[[str], bool] | None]] = [
        ("!hilfe", lambda i: "!hilfe", lambda body: says(body, "help_header")),
        (
            "!profil themen … (writes)",
            lambda i: f"!profil themen {topics[i % 2]}",
            lambda body: says(body, "profile_saved_topics"),
        ),
        (
            "!erinnere mich in 2 Stunden an … (writes, schedules)",
            lambda i: f"!erinnere mich in 2 Stunden an Bericht {i}",
            lambda body: says(body, "reminders_created"),
        ),
    ]
    if session_id is not None:
        result += [
            ("!programm", lambda i: "!programm", lambda body: "Benchmark-Camp" in body),
            (
                "!anmelden / !abmelden (writes)",
                lambda i: f"!anmelden {session_id}" if i % 2 == 0 else f"!abmelden {session_id}",
                lambda body: says(body, "sessions_signup_confirmed") or says(body, "sessions_withdrawn"),
            ),
        ]
    return result


async def measure(
    count: int, warmup: int, encrypted: bool, workdir: Path, *, only: str = "", plain: bool = True
) -> dict[str, Any]:
    with homeserver(workdir) as synapse:
        # One member sets hundreds of reminders here; with the default cap (25 open per member) all but the
        # first would be measured as refusals.
        bot: BotProcess = our_bot(synapse, workdir, extra_config=UNCAPPED_REMINDERS)
        echo = EchoProcess(synapse, workdir / "echo")
        bot.start()
        echo.start()
        assert bot.process is not None
        assert echo.process is not None
        bot_pid, echo_pid = bot.process.pid, echo.process.pid
        member = Member(synapse, "latency", workdir)
        http = Http(synapse)
        try:
            await member.start()
            third = await http.register("silent")
            rt = RoundTrip(member)
            results: dict[str, Any] = {"rows": [], "errors": rt.errors}
            room_kinds = [kind for kind in (False, True) if (kind and encrypted) or (not kind and plain)]
            for room_kind in room_kinds:
                rooms = {"http": http, "third": third, "encrypted": room_kind}
                bot_room = await joined_room(member, bot.user_id, "Bot", **rooms)  # type: ignore[arg-type]
                echo_room = await joined_room(member, echo.user_id, "Echo", **rooms)  # type: ignore[arg-type]
                session_id = await plan_event(member, bot_room, http, third) if HAS_SESSIONS else None
                for label, text, check in (case for case in cases(session_id) if only in case[0]):
                    ours: list[float] = []
                    floor: list[float] = []
                    cpu: dict[str, float] = {}
                    for i in range(warmup + count):
                        if i == warmup:
                            cpu = {"bot": cpu_seconds(bot_pid), "echo": cpu_seconds(echo_pid)}
                        # Alternate who goes first so that neither always follows the other's traffic.
                        order = ((bot_room, ours, check), (echo_room, floor, None))
                        for room_id, samples, checker in order if i % 2 == 0 else order[::-1]:
                            elapsed = await rt(room_id, text(i), checker)
                            if i >= warmup:
                                samples.append(elapsed)
                    # CPU per command: the process's whole work for it (its sync, the handler, its own reply).
                    cpu = {"bot": (cpu_seconds(bot_pid) - cpu["bot"]) / count * 1000,
                           "echo": (cpu_seconds(echo_pid) - cpu["echo"]) / count * 1000}  # fmt: skip
                    results["rows"].append((label, "encrypted" if room_kind else "plain", ours, floor, cpu))
                    print(f"  measured {label} ({'encrypted' if room_kind else 'plain'})", flush=True)
            results["bot_log_errors"] = error_lines(bot.log())
            return results
        finally:
            await member.stop()
            await http.close()
            bot.stop()
            echo.stop()


def report(results: dict[str, Any], count: int) -> bool:
    rows = []
    ok = True
    for label, room, ours, floor, cpu in results["rows"]:
        a, b = summary_ms(ours), summary_ms(floor)
        r50, r95 = a["p50"] / b["p50"], a["p95"] / b["p95"]
        goal50, goal95 = (
            (GOAL_P50_ENCRYPTED, GOAL_P95_ENCRYPTED) if room == "encrypted" else (GOAL_P50, GOAL_P95)
        )
        met = r50 <= goal50 and r95 <= goal95
        ok = ok and met
        rows.append(
            (label, room, a["p50"], a["p95"], a["p99"], b["p50"], b["p95"], b["p99"], r50, r95, verdict(met),
             cpu["bot"], cpu["echo"])
        )  # fmt: skip
    headers = (
        "command", "room", "bot p50", "bot p95", "bot p99",
        "echo p50", "echo p95", "echo p99", "p50 ×", "p95 ×", "goal", "bot CPU/cmd", "echo CPU/cmd",
    )  # fmt: skip
    print(f"{count} commands per row and bot, sequential, one member; times in ms; load {load_average()}")
    print(table(headers, rows))
    print(f"\nwrong or error replies: {len(results['errors'])}; ERROR lines in the bot log: "
          f"{len(results['bot_log_errors'])}")  # fmt: skip
    for line in (results["errors"] + results["bot_log_errors"])[:10]:
        print("  ", line)
    return ok and not results["errors"] and not results["bot_log_errors"]


def main(argv: list[str] | None = None) -> bool:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--encrypted", action="store_true", help="also measure in encrypted rooms")
    parser.add_argument("--encrypted-only", action="store_true", help="measure in encrypted rooms only")
    parser.add_argument("--only", default="", help="only the rows whose command contains this text")
    args = parser.parse_args(argv)
    banner("Latency: command → reply")
    if not HAS_SESSIONS:
        print("(the sessions feature is missing: !programm and !anmelden are not measured)")
    with tempfile.TemporaryDirectory(prefix="bench-latency-") as tmp:
        encrypted, plain = args.encrypted or args.encrypted_only, not args.encrypted_only
        results = asyncio.run(
            measure(args.count, args.warmup, encrypted, Path(tmp), only=args.only, plain=plain)
        )
    return report(results, args.count)


if __name__ == "__main__":
    main()

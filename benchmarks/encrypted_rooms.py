"""The first reply in an encrypted room with many members: our bot against the bare echo bot.

The cost that grows with a room is key sharing: before its first message there, a bot queries the members'
device keys, claims a one-time key per device, opens an Olm session per device and sends each the room key.
Our bot also checks every device's cross-signing signatures (it shares keys only with devices cross-signed by
their owner, as Element does). Each member here has one device with real keys (vodozemac) that it
cross-signed itself, so both bots share with all of them.

Per round, one encrypted room per bot: a probe member (matrix-nio, cross-signed) creates it, the bot is
invited, the members are force-joined (admin API), and once the probe sees them all the probe sends `!hilfe`
and times the reply. Round 1 is the real first contact (Olm sessions are created); later rounds reuse the
Olm sessions and measure the Megolm key share alone. The order of the two bots alternates per round.

    python -m benchmarks.encrypted_rooms [--members 300] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import tempfile
import time
from pathlib import Path
from typing import Any

import vodozemac
from canonicaljson import encode_canonical_json

from benchmarks.common import (
    EchoProcess,
    Http,
    Token,
    banner,
    error_lines,
    homeserver,
    load_average,
    our_bot,
    table,
)
from bot.crypto.identity import CrossSigningKeys
from tests.e2e.harness import ENCRYPTION, BotProcess, Member

GOAL_FIRST_REPLY = 1.5
ONE_TIME_KEYS = 10


async def secure_device(http: Http, token: Token, device_id: str) -> None:
    """Upload device keys and one-time keys of a fresh Olm account and cross-sign the device."""
    user = token.user_id
    account = vodozemac.Account()
    device_keys: dict[str, Any] = {
        "user_id": user,
        "device_id": device_id,
        "algorithms": ["m.olm.v1.curve25519-aes-sha2", "m.megolm.v1.aes-sha2"],
        "keys": {
            f"curve25519:{device_id}": account.curve25519_key.to_base64(),
            f"ed25519:{device_id}": account.ed25519_key.to_base64(),
        },
    }

    def signed(obj: dict[str, Any]) -> dict[str, Any]:
        signature = account.sign(bytes(encode_canonical_json(obj))).to_base64()
        return {**obj, "signatures": {user: {f"ed25519:{device_id}": signature}}}

    account.generate_one_time_keys(ONE_TIME_KEYS)
    one_time = {
        f"signed_curve25519:{key_id}": signed({"key": key.to_base64()})
        for key_id, key in account.one_time_keys.items()
    }
    device_keys = signed(device_keys)
    await http.request(
        "POST", "/_matrix/client/v3/keys/upload", token.access_token,
        {"device_keys": device_keys, "one_time_keys": one_time},
    )  # fmt: skip
    keys = CrossSigningKeys.generate()
    await http.request(
        "POST", "/_matrix/client/v3/keys/device_signing/upload", token.access_token, keys.upload_body(user)
    )
    await http.request(
        "POST", "/_matrix/client/v3/keys/signatures/upload", token.access_token,
        {user: {device_id: keys.self_signing.sign_json(device_keys, user)}},
    )  # fmt: skip


async def members_with_devices(http: Http, count: int) -> list[Token]:
    gate = asyncio.Semaphore(8)

    async def one(index: int) -> Token:
        async with gate:
            data = await http.request(
                "POST", "/_matrix/client/v3/login", None,
                {"type": "m.login.password", "identifier": {"type": "m.id.user", "user": f"enc{index:04d}"},
                 "password": f"pw-enc{index:04d}"},
            )  # fmt: skip
            token = Token(data["user_id"], data["access_token"])
            await secure_device(http, token, data["device_id"])
            return token

    await http.register_many([f"enc{i:04d}" for i in range(count)])
    return list(await asyncio.gather(*(one(i) for i in range(count))))


async def first_reply(probe: Member, http: Http, admin: Token, bot_user: str, members: list[Token]) -> float:
    response = await probe.client.room_create(
        name="Verschlüsselt", invite=[bot_user], initial_state=[ENCRYPTION], preset=_public()
    )
    room_id = str(response.room_id)
    await probe.wait_for_member(room_id, bot_user, timeout=60)
    gate = asyncio.Semaphore(16)

    async def join(member: Token) -> None:
        async with gate:
            await http.force_join(admin, room_id, member.user_id)

    await asyncio.gather(*(join(member) for member in members))
    room = probe.client.rooms[room_id]
    await probe.wait_until(lambda: len(room.users) >= len(members) + 2, 120)
    # The probe shares its own room key with every device first (not part of the bot's reply time); a
    # message without "!" that neither bot answers.
    await probe.say(room_id, "Hallo zusammen")
    await asyncio.sleep(2)  # the bot's own sync has seen the joins and that message
    start = time.perf_counter()
    await probe.command(room_id, "!hilfe", timeout=120)
    return time.perf_counter() - start


def _public() -> Any:
    from nio import RoomPreset

    return RoomPreset.public_chat


async def measure(count: int, rounds: int, workdir: Path) -> dict[str, Any]:
    with homeserver(workdir) as synapse:
        bot: BotProcess = our_bot(synapse, workdir)
        echo = EchoProcess(synapse, workdir / "echo")
        http = Http(synapse)
        probe = Member(synapse, "probe", workdir)
        try:
            admin = await http.register("admin", admin=True)
            started = time.perf_counter()
            members = await members_with_devices(http, count)
            print(f"  {count} members with cross-signed devices in {time.perf_counter() - started:.1f} s")
            bot.start()
            echo.start()
            await probe.start()
            results: dict[str, list[float]] = {"bot": [], "echo": []}
            for index in range(rounds):
                order = [("bot", bot.user_id), ("echo", echo.user_id)]
                for name, user_id in order if index % 2 == 0 else order[::-1]:
                    elapsed = await first_reply(probe, http, admin, user_id, members)
                    results[name].append(elapsed)
                    print(f"  round {index + 1}: {name} {elapsed * 1000:.0f} ms", flush=True)
            return {"times": results, "errors": error_lines(bot.log())}
        finally:
            await probe.stop()
            await http.close()
            bot.stop()
            echo.stop()


def report(results: dict[str, Any], count: int) -> bool:
    ours, floor = results["times"]["bot"], results["times"]["echo"]
    rows = []
    ok = True
    for index, (a, b) in enumerate(zip(ours, floor, strict=True)):
        ratio = a / b
        kind = "first contact (Olm sessions)" if index == 0 else "new room (Megolm share only)"
        met = ratio <= GOAL_FIRST_REPLY
        if index == 0:
            ok = met
        rows.append((index + 1, kind, a * 1000, b * 1000, ratio, "met" if met else "MISSED"))
    print(f"first reply to !hilfe in an encrypted room with {count} members (one device each) + probe + bot; "
          f"ms; load {load_average()}")  # fmt: skip
    print(table(("round", "room", "bot", "echo", "×", f"goal ≤ {GOAL_FIRST_REPLY}×"), rows))
    print(f"ERROR lines in the bot log: {len(results['errors'])}")
    for line in results["errors"][:10]:
        print("  ", line)
    return ok and not results["errors"]


def main(argv: list[str] | None = None) -> bool:
    logging.getLogger("nio").setLevel(logging.ERROR)  # "Missing session for device …" per member
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--members", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    banner("Encrypted rooms: first reply with many members")
    with tempfile.TemporaryDirectory(prefix="bench-encrypted-") as tmp:
        results = asyncio.run(measure(args.members, args.rounds, Path(tmp)))
    return report(results, args.members)


if __name__ == "__main__":
    main()

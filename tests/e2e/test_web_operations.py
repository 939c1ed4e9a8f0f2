"""The web server's operations side: /healthz, /readyz and /metrics before the first sync, during a homeserver
outage and after it, the bearer token, the request limits and headers, and ``community-bot status``.

Runs its own Synapse (as tests/e2e/test_faults.py does) so that stopping it disturbs no other test."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import aiohttp
from multidict import CIMultiDict
from prometheus_client.parser import text_string_to_metric_families

from bot.devserver import Synapse, free_port
from tests.e2e.harness import BotProcess, Member

TOKEN = "metrics-secret-for-tests"


def web_config(port: int, *, ready_age: int = 60, token: str | None = TOKEN) -> str:
    lines = ["", "[web]", "enabled = true", f"port = {port}", f"ready_sync_age_seconds = {ready_age}"]
    if token:
        lines.append(f'metrics_token = "{token}"')
    return "\n".join(lines) + "\n"


async def get(url: str, **kwargs: Any) -> tuple[int, CIMultiDict[str], str]:
    async with aiohttp.ClientSession() as http, http.get(url, **kwargs) as response:
        return response.status, CIMultiDict(response.headers), await response.text()


async def eventually_status(url: str, status: int, timeout: float = 120.0) -> dict[str, Any]:
    """Poll until ``url`` answers ``status``; returns the JSON body."""
    deadline = time.monotonic() + timeout
    last: tuple[int, str] = (0, "")
    while time.monotonic() < deadline:
        try:
            code, _, body = await get(url)
            last = (code, body)
            if code == status:
                import json

                return dict(json.loads(body))
        except aiohttp.ClientError as exc:
            last = (0, str(exc))
        await asyncio.sleep(0.5)
    raise AssertionError(f"{url} never answered {status}; last: {last}")


def samples(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    found: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found.setdefault(sample.name, []).append((dict(sample.labels), sample.value))
    return found


async def test_health_ready_and_metrics_before_sync_in_an_outage_and_after(tmp_path: Path) -> None:
    synapse = Synapse(tmp_path / "synapse")
    await asyncio.to_thread(synapse.start)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    bot = BotProcess(synapse, tmp_path / "bot", ["localhost"], extra_config=web_config(port, ready_age=35))
    member: Member | None = None
    try:
        # The homeserver is away when the bot starts: alive, not ready, and it says why.
        await asyncio.to_thread(synapse.stop)
        starting = asyncio.create_task(asyncio.to_thread(bot.start, 180.0))
        assert (await eventually_status(base + "/healthz", 200))["status"] == "alive"
        body = await eventually_status(base + "/readyz", 503)
        assert body["reasons"][0] == "no successful sync yet"
        code, _, text = await get(base + "/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        assert code == 200
        assert samples(text)["community_bot_ready"][0][1] == 0
        await asyncio.to_thread(synapse.start)
        await starting
        assert (await eventually_status(base + "/readyz", 200))["status"] == "ready"

        # Metrics: token required; the figures are there, no personal data in them.
        code, headers, _ = await get(base + "/metrics")
        assert code == 401
        assert headers["WWW-Authenticate"].startswith("Bearer")
        auth = {"Authorization": f"Bearer {TOKEN}"}
        code, _, _ = await get(base + "/metrics", headers=auth)
        assert code == 200
        member = Member(synapse, "webops", tmp_path)
        await member.start()
        room = await member.create_room(invite=[bot.user_id])
        await member.wait_for_member(room, bot.user_id)
        await member.command(room, "!hilfe")
        await member.command(room, "!session 4242")  # a member's mistake: counted as user_error
        code, _, text = await get(base + "/metrics", headers=auth)
        found = samples(text)
        commands = {
            (labels["command"], labels["outcome"]): v for labels, v in found["community_bot_commands_total"]
        }
        assert commands[("hilfe", "ok")] >= 1
        assert commands[("session", "user_error")] >= 1
        assert found["community_bot_rooms"][0][1] >= 1
        assert found["community_bot_members"][0][1] >= 1
        assert found["community_bot_outbox_failed"][0][1] == 0
        assert found["community_bot_reply_latency_seconds_count"][0][1] >= 2
        assert found["community_bot_ready"][0][1] == 1
        assert "community_bot_decryption_failures_total" in found
        assert "community_bot_scheduled_jobs_pending" in found
        assert member.user_id not in text
        assert room not in text
        assert "localhost" not in text

        # The CLI shows the same figures from the running bot.
        status = await asyncio.to_thread(bot.cli, "status")
        assert status.returncode == 0, status.stderr
        assert "Ready: yes" in status.stdout
        assert "hilfe [ok]" in status.stdout
        assert (await asyncio.to_thread(bot.cli, "status", "--alive-within", "5")).returncode == 0

        # Read-only, small, strict.
        async with aiohttp.ClientSession() as http:
            async with http.post(base + "/healthz", data=b"x") as response:
                assert response.status == 405
                assert response.headers["Allow"] == "GET, HEAD"
            async with http.get(base + "/healthz", data=b"x" * 10) as response:
                assert response.status == 413
            async with http.head(base + "/healthz") as response:
                assert response.status == 200
            async with http.get(base + "/healthz", headers={"X-Long": "y" * 10_000}) as response:
                assert response.status in (400, 431)
            async with http.get(base + "/nothing-here") as response:
                assert response.status == 404
            async with http.get(base + "/healthz") as response:
                assert response.headers["X-Content-Type-Options"] == "nosniff"
                assert response.headers["Referrer-Policy"] == "no-referrer"
                assert "default-src 'none'" in response.headers["Content-Security-Policy"]

        # The homeserver goes away: not ready (with the reason), still alive; back: ready again.
        await asyncio.to_thread(synapse.stop)
        body = await eventually_status(base + "/readyz", 503, timeout=180)
        assert body["reasons"][0].startswith("last successful sync")
        assert (await eventually_status(base + "/healthz", 200))["status"] == "alive"
        status = await asyncio.to_thread(bot.cli, "status")
        assert status.returncode == 1
        assert "Ready: NO (last successful sync" in status.stdout
        await asyncio.to_thread(synapse.start)
        await eventually_status(base + "/readyz", 200, timeout=180)
        reply = await member.command(room, "!hilfe", timeout=90)
        assert reply.sender == bot.user_id
    finally:
        if member is not None:
            await member.stop()
        await asyncio.to_thread(bot.stop)
        await asyncio.to_thread(synapse.stop)


async def test_a_taken_port_stops_the_bot_with_a_message(synapse: Synapse, workdir: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        bot = BotProcess(
            synapse, workdir / "webtaken", ["localhost"], extra_config=web_config(port), localpart="webtaken"
        )
        result = await asyncio.to_thread(bot.cli, "run")
    assert result.returncode == 4
    assert "cannot listen on 127.0.0.1" in result.stderr

"""Pieces of the web server that need no homeserver: tokens, the guessing limit, ETag matching, command
counting, the status printout."""

from __future__ import annotations

import time
from types import SimpleNamespace
from typing import Any

import pytest

from bot.framework import CommandError, Feature
from bot.web.metrics import instrument_commands
from bot.web.ratelimit import MissLimiter
from bot.web.status import render
from commands.webviews import etag_of, matches
from commands.webviews.tokens import new_token, token_hash, well_formed


def test_tokens_are_long_random_and_stored_as_sha256() -> None:
    tokens = {new_token() for _ in range(100)}
    assert len(tokens) == 100
    for token in tokens:
        assert well_formed(token)
        assert len(token) >= 22  # ≥ 128 bits in URL-safe base64
        assert len(token_hash(token)) == 64
        assert token not in token_hash(token)
    assert not well_formed("../../etc/passwd")
    assert not well_formed("short")


def test_misses_drain_a_bucket_per_address_and_refill(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1000.0]
    monkeypatch.setattr(time, "monotonic", lambda: now[0])
    limiter = MissLimiter(burst=3, refill_seconds=10)
    for _ in range(3):
        assert not limiter.blocked("198.51.100.1")
        limiter.miss("198.51.100.1")
    assert limiter.blocked("198.51.100.1")
    assert not limiter.blocked("198.51.100.2")
    now[0] += 10
    assert not limiter.blocked("198.51.100.1")


def test_if_none_match() -> None:
    tag = etag_of(b"BEGIN:VCALENDAR")
    assert matches(tag, tag)
    assert matches(f'"other", W/{tag}', tag)
    assert matches("*", tag)
    assert not matches('"other"', tag)
    assert not matches(None, tag)


async def test_handlers_count_themselves_once_by_outcome() -> None:
    feature = Feature("probe")
    seen: list[str] = []

    @feature.command(de="probe", en="probe", help="probe")
    async def probe(ctx: Any, fail: str = "") -> None:
        seen.append(fail)
        if fail == "user":
            raise CommandError("x")
        if fail == "bug":
            raise RuntimeError("bug")

    counted: list[tuple[str, str]] = []

    class Labels:
        def __init__(self, command: str, outcome: str) -> None:
            self.key = (command, outcome)

        def inc(self) -> None:
            counted.append(self.key)

    metrics = SimpleNamespace(commands=SimpleNamespace(labels=lambda **kw: Labels(**kw)))
    ctx = SimpleNamespace(app=SimpleNamespace(web=SimpleNamespace(metrics=metrics)))
    instrument_commands([feature])
    instrument_commands([feature])  # a second app in the same process wraps nothing twice
    handler = feature.commands[0].handler
    assert handler is not None
    await handler(ctx)
    with pytest.raises(CommandError):
        await handler(ctx, fail="user")
    with pytest.raises(RuntimeError):
        await handler(ctx, fail="bug")
    assert counted == [("probe", "ok"), ("probe", "user_error"), ("probe", "internal_error")]
    assert seen == ["", "user", "bug"]


def test_status_printout() -> None:
    data = {
        "ready": False,
        "readiness": {"reasons": ["last successful sync 95s ago"]},
        "samples": {
            "community_bot_rooms": [({}, 3.0)],
            "community_bot_sync_age_seconds": [({}, 95.2)],
            "community_bot_commands_total": [({"command": "hilfe", "outcome": "ok"}, 2.0)],
            "community_bot_reply_latency_seconds_count": [({}, 2.0)],
            "community_bot_reply_latency_seconds_sum": [({}, 0.5)],
        },
    }
    lines = render(data)
    assert lines[0] == "Ready: NO (last successful sync 95s ago)"
    assert "Rooms: 3" in lines
    assert "Last successful sync (s ago): 95" in lines
    assert "Outbox: waiting: –" in lines
    assert "Replies measured: 2, mean latency 0.25s" in lines
    assert "  hilfe [ok]: 2" in lines

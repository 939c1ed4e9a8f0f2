"""Token guessing is slowed down per client address: every unknown token costs from a small bucket."""

from __future__ import annotations

import ipaddress
import time

from aiohttp import web

BURST = 10  # unknown tokens an address may try at once
REFILL_SECONDS = 6.0  # then one more every few seconds (10 a minute)
MAX_ADDRESSES = 10_000


def client_address(request: web.Request) -> str:
    """The peer address; behind a reverse proxy on the same host (loopback peer), the last address the
    proxy put into X-Forwarded-For."""
    peer = request.remote or ""
    try:
        loopback = ipaddress.ip_address(peer).is_loopback
    except ValueError:
        loopback = False
    forwarded = request.headers.get("X-Forwarded-For", "")
    if loopback and forwarded:
        return forwarded.split(",")[-1].strip()[:64]
    return peer


class MissLimiter:
    """A token bucket per address that only failed lookups drain."""

    def __init__(self, burst: int = BURST, refill_seconds: float = REFILL_SECONDS) -> None:
        self.burst, self.refill_seconds = burst, refill_seconds
        self._buckets: dict[str, tuple[float, float]] = {}

    def _level(self, address: str, now: float) -> float:
        level, since = self._buckets.get(address, (float(self.burst), now))
        return min(float(self.burst), level + (now - since) / self.refill_seconds)

    def blocked(self, address: str) -> bool:
        return self._level(address, time.monotonic()) < 1.0

    def miss(self, address: str) -> None:
        now = time.monotonic()
        if len(self._buckets) >= MAX_ADDRESSES:
            self._buckets = {a: v for a, v in self._buckets.items() if self._level(a, now) < self.burst}
        self._buckets[address] = (max(0.0, self._level(address, now) - 1.0), now)


def too_many() -> web.Response:
    return web.Response(
        status=429,
        text="Too many requests\n",
        headers={"Retry-After": str(int(REFILL_SECONDS)), "Cache-Control": "no-store"},
    )

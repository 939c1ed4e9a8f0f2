"""Per-member command limits: a token bucket per sender (a burst, then a steady rate)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum


class Verdict(Enum):
    ALLOW = "allow"
    # The first command over the limit: the member is told once.
    NOTIFY = "notify"
    # Further commands over the limit: ignored until the bucket refills.
    IGNORE = "ignore"


@dataclass
class _Bucket:
    tokens: float
    updated: float
    told: bool = False


class RateLimiter:
    """``burst`` commands at once, then ``per_minute``; each member has their own bucket, so a busy room
    (200 members signing up at once) is never throttled as a whole."""

    def __init__(
        self,
        burst: int,
        per_minute: float,
        clock: Callable[[], float] = time.monotonic,
        max_members: int = 50_000,
    ) -> None:
        self.burst = burst
        self.rate = per_minute / 60.0
        self.clock = clock
        self.max_members = max_members
        self._buckets: dict[str, _Bucket] = {}

    def take(self, member: str) -> Verdict:
        now = self.clock()
        bucket = self._buckets.get(member)
        if bucket is None:
            if len(self._buckets) >= self.max_members:
                self._forget_full_buckets(now)
            bucket = self._buckets[member] = _Bucket(tokens=float(self.burst), updated=now)
        bucket.tokens = min(float(self.burst), bucket.tokens + (now - bucket.updated) * self.rate)
        bucket.updated = now
        if bucket.tokens >= self.burst:
            bucket.told = False  # fully recovered: a new flood gets a new notice
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return Verdict.ALLOW
        if bucket.told:
            return Verdict.IGNORE
        bucket.told = True
        return Verdict.NOTIFY

    def _forget_full_buckets(self, now: float) -> None:
        """Bounded memory: members whose bucket has refilled completely are like new ones."""
        full = [
            member
            for member, bucket in self._buckets.items()
            if bucket.tokens + (now - bucket.updated) * self.rate >= self.burst
        ]
        for member in full:
            del self._buckets[member]

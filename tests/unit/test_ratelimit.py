"""Per-member command limits."""

from __future__ import annotations

from bot.ratelimit import RateLimiter, Verdict


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_then_one_notice_then_silence_until_it_recovers() -> None:
    clock = Clock()
    limiter = RateLimiter(burst=10, per_minute=60, clock=clock)
    verdicts = [limiter.take("@anna:x") for _ in range(13)]
    assert verdicts[:10] == [Verdict.ALLOW] * 10
    assert verdicts[10:] == [Verdict.NOTIFY, Verdict.IGNORE, Verdict.IGNORE]
    clock.now += 1.0  # one token per second
    assert limiter.take("@anna:x") is Verdict.ALLOW
    assert limiter.take("@anna:x") is Verdict.IGNORE, "no second notice while still flooding"
    clock.now += 10.0  # fully recovered
    assert [limiter.take("@anna:x") for _ in range(11)][-1] is Verdict.NOTIFY, "a new flood, a new notice"


def test_members_do_not_share_a_bucket() -> None:
    limiter = RateLimiter(burst=2, per_minute=60, clock=Clock())
    for _ in range(2):
        assert limiter.take("@anna:x") is Verdict.ALLOW
    assert limiter.take("@anna:x") is Verdict.NOTIFY
    assert [limiter.take(f"@m{i}:x") for i in range(200)] == [Verdict.ALLOW] * 200


def test_memory_is_bounded() -> None:
    clock = Clock()
    limiter = RateLimiter(burst=1, per_minute=60, clock=clock, max_members=10)
    for i in range(10):
        limiter.take(f"@m{i}:x")
    clock.now += 5.0
    limiter.take("@new:x")
    assert len(limiter._buckets) == 1

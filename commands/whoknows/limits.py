"""Per-member limits of searches and introductions (pure): a sliding window over the stored times, so the
limit holds across restarts and the refusal can say when to try again."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta


def retry_at(times: Iterable[datetime], now: datetime, *, window: timedelta, limit: int) -> datetime | None:
    """None when one more is allowed now; otherwise when the oldest use in the window leaves it."""
    recent = sorted(t for t in times if now - window < t <= now)
    if len(recent) < limit:
        return None
    return recent[len(recent) - limit] + window


def already_asked(
    earlier: Iterable[tuple[str, str, datetime]],
    target: str,
    topic_key: str,
    now: datetime,
    *,
    period: timedelta,
) -> bool:
    """Whether the asker asked ``target`` about the same topic (by key) within ``period``, whatever came
    of it."""
    return any(t == target and k == topic_key and now - when < period for t, k, when in earlier)

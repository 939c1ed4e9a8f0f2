"""The stored status values of member news."""

from __future__ import annotations

from enum import StrEnum


class NewsStatus(StrEnum):
    """Member news waits for a moderator, who approves (it goes into the next digest) or rejects it."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"

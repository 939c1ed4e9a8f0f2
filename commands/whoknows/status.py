"""Stored status values of introduction requests."""

from __future__ import annotations

from enum import StrEnum


class RequestStatus(StrEnum):
    PENDING = "pending"  # the found person has been asked
    ACCEPTED = "accepted"  # they said yes; a chat for both was created
    DECLINED = "declined"  # they said no (the asker only learns "did not work out")
    EXPIRED = "expired"  # no answer in time (the asker learns the same)


FINISHED = (RequestStatus.ACCEPTED, RequestStatus.DECLINED, RequestStatus.EXPIRED)

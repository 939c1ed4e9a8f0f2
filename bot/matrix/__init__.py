"""The Matrix wire: login and device reuse, E2EE, the sync loop, event intake and low-level sending.

Split by concern: ``base`` (constants, the events handed on, errors, the client and its state), ``login``,
``sync`` (the sync loop), ``intake`` (events from nio to the registered handlers), ``rooms`` (joins, direct
chats, room creation, power levels), ``sending`` (events, uploads, downloads). :class:`MatrixBot` puts them
together."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.matrix.base import (
    CREATOR_POWER_LEVEL,
    ENCRYPTION_STATE,
    FIRST_SYNC_FILTER,
    MAX_GAP_PAGES,
    PERMANENT_SEND_ERRORS,
    SYNC_FILTER,
    SYNC_TIMEOUT_MS,
    SYNC_TOKEN_KEY,
    SYNC_TOKEN_SAVE_INTERVAL,
    AnyHandler,
    BotStore,
    DirectChatRefused,
    EventHandler,
    FileTooLarge,
    MatrixCore,
    MatrixError,
    PermanentSendError,
    RoomEvents,
    announce_recovery_key,
    is_allowed_inviter,
)
from bot.matrix.sending import Sending
from bot.matrix.sync import Sync

if TYPE_CHECKING:
    from bot.app import App


class MatrixBot(Sync, Sending):
    """Owns the nio client. Hands incoming events to the handlers registered for them (the router) and sends
    what the outbox gives it."""

    def __init__(self, app: App) -> None:
        super().__init__(app)
        self._register_callbacks()


__all__ = [
    "CREATOR_POWER_LEVEL",
    "ENCRYPTION_STATE",
    "FIRST_SYNC_FILTER",
    "MAX_GAP_PAGES",
    "PERMANENT_SEND_ERRORS",
    "SYNC_FILTER",
    "SYNC_TIMEOUT_MS",
    "SYNC_TOKEN_KEY",
    "SYNC_TOKEN_SAVE_INTERVAL",
    "AnyHandler",
    "BotStore",
    "DirectChatRefused",
    "EventHandler",
    "FileTooLarge",
    "MatrixBot",
    "MatrixCore",
    "MatrixError",
    "PermanentSendError",
    "RoomEvents",
    "announce_recovery_key",
    "is_allowed_inviter",
]

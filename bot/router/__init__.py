"""From a room event to a handler call: prefix, aliases, language, permission, arguments, errors.

Split by concern: ``core`` (per-room queues, claims on handled events, a command's context), ``commands``,
``answers``, ``reactions`` (and other events about bot messages), ``members``, ``text``. :class:`Router`
puts them together and hands each message to the concern it belongs to."""

from __future__ import annotations

import logging
from typing import Any

from nio import MatrixRoom

from bot.matrix import MatrixBot, RoomEvents
from bot.ratelimit import Verdict
from bot.router.answers import Answers
from bot.router.commands import CommandRouting
from bot.router.core import CLAIM, PREFERENCES, Preferences, QueuedJob, RouterCore
from bot.router.members import Members
from bot.router.reactions import Reactions
from bot.router.text import TRAILING_PUNCTUATION, command_text

log = logging.getLogger(__name__)


class Router(CommandRouting, Answers, Reactions, Members):
    """Registers for the sync loop's events; a message goes to the commands, an edit or an answer."""

    def listen_to(self, matrix: MatrixBot) -> None:
        """Take the events the sync loop hands on: the router never calls into the sync loop itself."""
        matrix.add_event_handler(RoomEvents.MESSAGE, self.on_message)
        matrix.add_event_handler(RoomEvents.REACTION, self.on_reaction)
        matrix.add_event_handler(RoomEvents.REDACTION, self.on_redaction)
        matrix.add_event_handler(RoomEvents.RELATED, self.on_related_event, wants_type=self.wants_event_type)
        matrix.add_event_handler(RoomEvents.MEMBER_JOINED, self.on_member_joined)
        matrix.add_event_handler(RoomEvents.UNDECRYPTABLE, self.tell_undecryptable)
        matrix.add_event_handler(RoomEvents.SYNC_HANDLED, self.record_joins)

    async def on_message(self, room: MatrixRoom, event: Any) -> None:
        relates = ((getattr(event, "source", None) or {}).get("content") or {}).get("m.relates_to") or {}
        if relates.get("rel_type") == "m.replace":
            await self._on_edit(room, event, str(relates.get("event_id") or ""))
            return
        text = command_text(event)
        invocation = self.strip_invocation(text)
        if invocation is None:
            await self._on_answer(room, event, text, relates)
            return
        if not self.app.matrix.is_fresh(event, await self.app.matrix.joined_at_ms(room.room_id)):
            return
        preferences = await self._claim(event.event_id, room.room_id, event.sender)
        if preferences is None:
            return
        verdict = self.limiter.take(event.sender)
        if verdict is not Verdict.ALLOW:
            if verdict is Verdict.NOTIFY:
                log.info("%s is over the command limit; ignoring their commands for a moment", event.sender)
                self._submit(room.room_id, lambda: self._tell(room, event, "core_rate_limited", preferences))
            return
        claim = ("command", event.event_id)
        if not self._submit(
            room.room_id, lambda: self.dispatch(room, event, invocation, preferences), claim=claim
        ):
            await self._refuse_busy(room, event, claim)


__all__ = [
    "CLAIM",
    "PREFERENCES",
    "TRAILING_PUNCTUATION",
    "Preferences",
    "QueuedJob",
    "Router",
    "RouterCore",
    "command_text",
]

"""Plain replies to a bot message a feature answers, and plain text in a direct chat with the bot."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Awaitable
from typing import Any

from nio import MatrixRoom

from bot.context import CommandContext
from bot.framework import CommandError
from bot.ratelimit import Verdict
from bot.router.core import Preferences, RouterCore
from bot.router.text import _escaped
from storage.models import BotMessage

# One logger for the whole router, named as before the split.
log = logging.getLogger(__package__)

DIRECT_HINT_INTERVAL = 600.0  # seconds between two "write !hilfe" hints to the same member
HINTED_MEMORY = 10_000


class Answers(RouterCore):
    """Messages without the prefix that a feature reads (``Feature.on_reply``, ``on_direct_text``)."""

    # --- answers: plain replies to a question the bot asked (Feature.on_reply) -----------------------------

    async def _on_answer(self, room: MatrixRoom, event: Any, text: str, relates: dict[str, Any]) -> None:
        """A message without the prefix that replies to a tracked bot message whose kind a feature answers."""
        target_id = (relates.get("m.in_reply_to") or {}).get("event_id")
        if not text.strip() or event.sender == self.app.matrix.user_id:
            return
        if not target_id:
            await self._on_direct_text(room, event, text)
            return
        kinds = {reply.kind for feature in self.app.features for reply in feature.replies}
        if not kinds:
            return
        async with self.app.db.session() as session:
            target = await session.get(BotMessage, str(target_id))
            if target is None or target.kind not in kinds:
                return
            kind, ref_id = target.kind, target.ref_id
        if not self.app.matrix.is_fresh(event, await self.app.matrix.joined_at_ms(room.room_id)):
            return
        preferences = await self._claim(event.event_id, room.room_id, event.sender)
        if preferences is None or self.limiter.take(event.sender) is not Verdict.ALLOW:
            return
        self._submit(
            room.room_id,
            lambda: self._answer(room, event, text, kind, ref_id, preferences),
            claim=("command", event.event_id),
        )

    async def _answer(
        self, room: MatrixRoom, event: Any, text: str, kind: str, ref_id: int | None, preferences: Preferences
    ) -> None:
        ctx = await self.context_for(room, event.sender, event.event_id, hint=None, preferences=preferences)
        ctx.body = text
        for feature in self.app.features:
            for reply in feature.replies:
                if reply.kind == kind:
                    await self._run_answer(ctx, kind, reply.handler(ctx, ref_id, text))

    async def run_as_command(self, room: MatrixRoom, event: Any, text: str, preferences: Preferences) -> bool:
        """Run ``text`` as a command if it names one (implemented by the command routing)."""
        return False

    def _may_hint(self, user_id: str) -> bool:
        now = time.monotonic()
        last = self._hinted.get(user_id)
        if last is not None and now - last < DIRECT_HINT_INTERVAL:
            return False
        self._hinted[user_id] = now
        if len(self._hinted) > HINTED_MEMORY:  # forget the oldest half: only recent hints matter
            for old in sorted(self._hinted, key=self._hinted.__getitem__)[: HINTED_MEMORY // 2]:
                del self._hinted[old]
        return True

    async def _run_answer(self, ctx: CommandContext, what: str, call: Awaitable[Any]) -> Any:
        """Run an answer handler; a CommandError is replied from the catalog, a crash as an internal error
        (both count as handled: True)."""
        try:
            return await call
        except CommandError as error:
            await ctx.reply(ctx.t(error.key, p=ctx.prefix, command="", **_escaped(error.params)))
        except Exception:
            error_id = uuid.uuid4().hex[:8]
            log.exception("answer handler for %s failed (error id %s)", what, error_id)
            await ctx.reply(ctx.t("core_internal_error", error_id=error_id))
        return True

    async def _on_direct_text(self, room: MatrixRoom, event: Any, text: str) -> None:
        """A plain message in a direct chat with the bot: for features that read one (Feature.on_direct_text;
        the first handler that takes it ends the search), else a command without its prefix ("hilfe",
        "anmelden 3": in a chat with the bot everything is meant for it), else a short hint how to talk to
        the bot — at most once in ``DIRECT_HINT_INTERVAL`` per member, so "Danke!" gets no lecture."""
        if not self.app.matrix.is_direct_room(room) or len(room.users) > 2:
            return
        if not self.app.matrix.is_fresh(event, await self.app.matrix.joined_at_ms(room.room_id)):
            return
        preferences = await self._claim(event.event_id, room.room_id, event.sender)
        if preferences is None or self.limiter.take(event.sender) is not Verdict.ALLOW:
            return

        async def offer() -> None:
            ctx = await self.context_for(
                room, event.sender, event.event_id, hint=None, preferences=preferences
            )
            ctx.body = text
            for handler in (h for feature in self.app.features for h in feature.direct_texts):
                if await self._run_answer(ctx, "a direct message", handler(ctx, text)):
                    return
            if await self.run_as_command(room, event, text, preferences):
                return
            if self._may_hint(event.sender):
                await ctx.answer("core_direct_hint")

        self._submit(room.room_id, offer, claim=("command", event.event_id))

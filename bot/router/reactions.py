"""Reactions, their redactions, and other events that refer to a bot message (poll responses …)."""

from __future__ import annotations

import logging
from typing import Any

from nio import MatrixRoom, ReactionEvent, RedactionEvent

from bot.context import ReactionContext, RelationContext, bare_key
from bot.router.core import RouterCore
from storage.models import BotMessage, Reaction

# One logger for the whole router, named as before the split.
log = logging.getLogger(__package__)


class Reactions(RouterCore):
    """Reactions on bot messages, their removal, and related events (``Feature.on_relation``)."""

    # --- reactions ----------------------------------------------------------------------------------------

    async def on_reaction(self, room: MatrixRoom, event: ReactionEvent) -> None:
        if not self.app.matrix.is_fresh(event, None):
            return
        async with self.app.db.session() as session:
            target = await session.get(BotMessage, event.reacts_to)
            if target is None:
                return
            if await session.get(Reaction, event.event_id) is not None:
                return
            session.add(
                Reaction(
                    event_id=event.event_id,
                    target_event_id=target.event_id,
                    room_id=room.room_id,
                    sender=event.sender,
                    key=event.key,
                )
            )
            kind, ref_id = target.kind, target.ref_id
        claim = ("reaction", event.event_id)
        if not self._submit(
            room.room_id,
            lambda: self._react(room, event.sender, event.key, True, kind, ref_id, event.reacts_to),
            claim=claim,
        ):
            await self._refuse_busy(room, event, claim)

    async def on_redaction(self, room: MatrixRoom, event: RedactionEvent) -> None:
        async with self.app.db.session() as session:
            reaction = await session.get(Reaction, event.redacts)
            if reaction is None or reaction.sender != event.sender:
                return
            target = await session.get(BotMessage, reaction.target_event_id)
            await session.delete(reaction)
            if target is None:
                return
            kind, ref_id, key = target.kind, target.ref_id, reaction.key
        if not self._submit(
            room.room_id, lambda: self._react(room, event.sender, key, False, kind, ref_id, target.event_id)
        ):
            log.warning("the command queue of %s is full; a removed reaction was not acted on", room.room_id)

    async def _react(
        self, room: MatrixRoom, sender: str, key: str, added: bool, kind: str, ref_id: int | None, target: str
    ) -> None:
        ctx = await self.context_for(room, sender, "", hint=None)
        reaction = ReactionContext(
            app=self.app,
            room_id=room.room_id,
            sender=sender,
            key=bare_key(key),
            added=added,
            kind=kind,
            ref_id=ref_id,
            target_event_id=target,
            language=ctx.language,
        )
        for feature in self.app.features:
            for subscription in feature.reactions:
                if subscription.kind == kind and reaction.is_one_of(subscription.keys):
                    try:
                        await subscription.handler(reaction)
                    except Exception:
                        log.exception("reaction handler for %s failed", kind)

    # --- other events that refer to a bot message (poll responses …) ---------------------------------------

    def wants_event_type(self, event_type: str) -> bool:
        """Whether a feature subscribed to events of this type (``Feature.on_relation``)."""
        return any(
            event_type in subscription.event_types
            for feature in self.app.features
            for subscription in feature.relations
        )

    async def on_related_event(self, room: MatrixRoom, event: Any) -> None:
        """An event of a type the bot has no handler of its own for: dispatched to the features subscribed
        to its type on the kind of bot message its ``m.relates_to`` points at (handlers are idempotent: the
        same event may come twice, e.g. after a restart)."""
        event_type = str(getattr(event, "type", "") or "")
        subscribed = [
            subscription
            for feature in self.app.features
            for subscription in feature.relations
            if event_type in subscription.event_types
        ]
        if not subscribed or not self.app.matrix.is_fresh(event, None):  # nothing to do, or history
            return
        content = (getattr(event, "source", None) or {}).get("content") or {}
        relates = content.get("m.relates_to") if isinstance(content, dict) else None
        target_id = relates.get("event_id") if isinstance(relates, dict) else None
        if not isinstance(target_id, str):
            return
        async with self.app.db.session() as session:
            target = await session.get(BotMessage, target_id)
            if target is None:
                return
            kind, ref_id = target.kind, target.ref_id
        context = RelationContext(
            app=self.app,
            room_id=room.room_id,
            sender=event.sender,
            event_id=event.event_id,
            event_type=event_type,
            content=dict(content),
            origin_ts=int(getattr(event, "server_timestamp", 0) or 0),
            kind=kind,
            ref_id=ref_id,
            target_event_id=target_id,
        )

        async def run() -> None:
            for subscription in subscribed:
                if subscription.kind == kind:
                    try:
                        await subscription.handler(context)
                    except Exception:
                        log.exception("handler for %s on %s failed", event_type, kind)

        self._submit(room.room_id, run)

"""DSGVO: members export everything stored about them and erase it after a confirmation."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import String, cast, delete, or_, select

from bot.context import CommandContext
from bot.framework import Feature
from bot.i18n import plural
from storage.models import BotState, DirectRoom, OutboxMessage, Reaction

if TYPE_CHECKING:
    from bot.app import App

feature = Feature(
    "privacy", messages=Path(__file__).with_name("messages.toml"), title_key="privacy_title", order=90
)

CONFIRM_WINDOW = timedelta(minutes=10)


def _request_key(user_id: str) -> str:
    return f"erase-request:{user_id}"


async def collect_export(app: App, user_id: str) -> dict[str, Any]:
    data: dict[str, Any] = {
        "user_id": user_id,
        "exported_at": datetime.now(UTC).isoformat(),
        "bot": app.matrix.user_id,
    }
    for feature_ in app.features:
        for exporter in feature_.exporters:
            data[feature_.name] = {**data.get(feature_.name, {}), **await exporter(app, user_id)}
    return data


async def erase_everything(app: App, user_id: str) -> int:
    count = 0
    for feature_ in app.features:
        for eraser in feature_.erasers:
            count += await eraser(app, user_id)
    return count


privacy = feature.group(de="datenschutz", en="privacy", help="privacy_group")


@privacy.subcommand(de="export", en="export", aliases=("auskunft",), help="privacy_export")
async def export(ctx: CommandContext) -> None:
    data = await collect_export(ctx.app, ctx.sender)
    payload = json.dumps(data, ensure_ascii=False, indent=2).encode()
    await ctx.app.sender.send_file(
        payload, filename="community-bot-export.json", mimetype="application/json", to_user=ctx.sender
    )
    await ctx.app.sender.send(ctx.t("privacy_export_sent_dm", p=ctx.prefix), to_user=ctx.sender)
    if not ctx.is_direct:
        await ctx.answer("privacy_export_sent")


@privacy.subcommand(de="löschen", en="forget", aliases=("loeschen", "delete", "erase"), help="privacy_forget")
async def forget(ctx: CommandContext) -> None:
    async with ctx.app.db.session() as session:
        row = await session.get(BotState, _request_key(ctx.sender))
        now = datetime.now(UTC)
        if row is None:
            session.add(BotState(key=_request_key(ctx.sender), value=now.isoformat()))
        else:
            row.value = now.isoformat()
    await ctx.answer("privacy_forget_confirm")


@privacy.subcommand(
    de="bestätigen", en="confirm", aliases=("bestaetigen", "ja", "yes"), help="privacy_confirm"
)
async def confirm(ctx: CommandContext) -> None:
    async with ctx.app.db.session() as session:
        row = await session.get(BotState, _request_key(ctx.sender))
        requested = datetime.fromisoformat(row.value) if row else None
        if row is not None:
            await session.delete(row)
    if requested is None or datetime.now(UTC) - requested > CONFIRM_WINDOW:
        await ctx.answer("privacy_forget_no_request")
        return
    count = await erase_everything(ctx.app, ctx.sender)
    await ctx.answer("privacy_forget_done", entries=plural(ctx.t, "privacy_entries_count", count))


@feature.privacy_export
async def export_bookkeeping(app: App, user_id: str) -> dict[str, Any]:
    async with app.db.session() as session:
        reactions = (
            await session.scalars(Reaction.__table__.select().where(Reaction.sender == user_id))
        ).all()
    return {"reactions_to_bot_messages": len(reactions)}


@feature.privacy_erase
async def erase_bookkeeping(app: App, user_id: str) -> int:
    """Reactions, the direct room mapping, the member's queued and delivered messages — and the files the bot
    sent them (export, calendar, bingo card): those messages are redacted, their media deleted where the
    homeserver lets the bot (see docs/privacy.md)."""
    async with app.db.session() as session:
        direct = await session.get(DirectRoom, user_id)
        direct_room = direct.room_id if direct else None
        mentioning = or_(
            OutboxMessage.to_user == user_id,
            cast(OutboxMessage.content, String).contains(user_id, autoescape=True),
            *([OutboxMessage.room_id == direct_room] if direct_room else []),
        )
        rows = (await session.scalars(select(OutboxMessage).where(mentioning))).all()
        files = [
            (row.room_id, row.sent_event_id, _media_urls(row.content.get("content") or {}))
            for row in rows
            if row.sent_event_id
            and row.room_id
            and (row.content.get("content") or {}).get("msgtype") in FILE_TYPES
        ]
        count = 0
        for statement in (
            delete(Reaction).where(Reaction.sender == user_id),
            delete(DirectRoom).where(DirectRoom.user_id == user_id),
            delete(OutboxMessage).where(mentioning),
        ):
            result = await session.execute(statement)
            count += int(getattr(result, "rowcount", 0) or 0)
    for room_id, event_id, urls in files:
        await app.matrix.redact(room_id, event_id, reason="erased on request (DSGVO)")
        for url in urls:
            await app.matrix.delete_media(url)
    return count


FILE_TYPES = ("m.file", "m.image")


def _media_urls(content: dict[str, Any]) -> list[str]:
    urls = [content.get("url"), (content.get("file") or {}).get("url")]
    return [url for url in urls if isinstance(url, str)]

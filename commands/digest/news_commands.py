"""Member news: ``!neuigkeit <Text>``, ``!neuigkeit liste``, and the moderators' ``ok``, ``ablehnen``,
``bearbeiten``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import func, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from bot.context import CommandContext
from bot.format import esc
from bot.framework import Arg, CommandError, Int, Permission, Text
from bot.i18n import Translate
from commands.digest.compose import (
    month_bounds,
    previous_month,
)
from storage.digest import DigestNews
from storage.models import Member
from timephrases import format_date

if TYPE_CHECKING:
    from bot.app import App
from .feature import LIST_LIMIT, MAX_NEWS_TEXT, app_now, digest_settings, feature
from .status import NewsStatus

# --- member news --------------------------------------------------------------------------------------------


@feature.command(
    de="neuigkeit", en="news", help="digest_news_submit",
    args=[Arg("text", Text(max_length=MAX_NEWS_TEXT))],
)  # fmt: skip
async def submit_news(ctx: CommandContext, text: str) -> None:
    text = text.strip()
    if not text:
        raise CommandError("core_arg_missing", show_usage=True)
    cap = digest_settings(ctx.app).max_pending_news_per_member
    async with ctx.app.locks.for_key("digest-author", ctx.sender), ctx.app.db.session() as session:
        pending = await session.scalar(
            select(func.count(DigestNews.id)).where(
                DigestNews.author_id == ctx.sender, DigestNews.status == NewsStatus.PENDING
            )
        )
        if (pending or 0) >= cap:
            raise CommandError("digest_error_news_cap", max=cap)
        item = DigestNews(author_id=ctx.sender, room_id=ctx.room_id, text=text, status=NewsStatus.PENDING)
        session.add(item)
        await session.flush()
        item_id = item.id
    await ctx.answer("digest_news_submitted", id=item_id)


def _sees_all_rooms(ctx: CommandContext) -> bool:
    """Configured moderators and admins (and anyone asking in a direct chat) manage the news of every room;
    a room's moderators manage the news submitted in their room."""
    settings = ctx.app.settings.bot
    return ctx.is_direct or ctx.sender in settings.moderators or ctx.sender in settings.admins


async def _news_item(session: AsyncSession, ctx: CommandContext, news_id: int) -> DigestNews:
    item = await session.get(DigestNews, news_id)
    if item is None or not (_sees_all_rooms(ctx) or item.room_id == ctx.room_id):
        raise CommandError("digest_error_news_unknown", id=news_id)
    return item


async def list_news(ctx: CommandContext) -> None:
    """Pending items, and approved ones that the next digests will show (approved since last month)."""
    since, _ = month_bounds(previous_month(app_now(ctx).date()), ctx.app.settings.bot.tz)
    scope = true() if _sees_all_rooms(ctx) else DigestNews.room_id == ctx.room_id
    async with ctx.app.db.session() as session:
        pending = (
            await session.scalars(
                select(DigestNews)
                .where(DigestNews.status == NewsStatus.PENDING, scope)
                .order_by(DigestNews.created_at, DigestNews.id)
                .limit(LIST_LIMIT)
            )
        ).all()
        approved = (
            await session.scalars(
                select(DigestNews)
                .where(DigestNews.status == NewsStatus.APPROVED, DigestNews.decided_at >= since, scope)
                .order_by(DigestNews.decided_at, DigestNews.id)
                .limit(LIST_LIMIT)
            )
        ).all()
    if not pending and not approved:
        await ctx.answer("digest_news_list_empty")
        return
    t = ctx.t
    blocks = []
    if pending:
        lines = [t("digest_news_list_pending", count=len(pending))]
        lines += [_list_line(t, item, item.created_at, ctx) for item in pending]
        blocks.append("\n".join(lines))
    if approved:
        lines = [t("digest_news_list_approved", count=len(approved))]
        lines += [_list_line(t, item, item.decided_at or item.created_at, ctx) for item in approved]
        blocks.append("\n".join(lines))
    blocks.append(t("digest_news_list_footer", p=ctx.prefix))
    await ctx.reply("\n\n".join(blocks))


def _list_line(t: Translate, item: DigestNews, when: datetime, ctx: CommandContext) -> str:
    text = " ".join(item.text.split())
    if len(text) > 200:
        text = text[:199] + "…"
    return t(
        "digest_news_list_item",
        id=item.id,
        author=esc(item.author_id),
        date=format_date(when.astimezone(ctx.tz).date(), ctx.language),
        text=esc(text),
    )


@feature.command(
    de="neuigkeiten", en="newslist", help="digest_news_plural",
    args=[Arg("text", Text(max_length=MAX_NEWS_TEXT, allow_empty=True), required=False)],
)  # fmt: skip
async def news_plural(ctx: CommandContext, text: str | None = None) -> None:
    """With a text a member submits (`!neuigkeiten Unser Bericht …` is a natural way to write it); without one
    a moderator sees the list."""
    if text and text.strip() and submit_news.handler is not None:
        await submit_news.handler(ctx, text=text)
        return
    ctx.require(Permission.MODERATOR)
    await list_news(ctx)


submit_news.subcommand(de="liste", en="list", help="digest_news_list", permission=Permission.MODERATOR)(
    list_news
)


@submit_news.subcommand(
    de="ok", en="approve", aliases=("freigeben",), help="digest_news_approve",
    permission=Permission.MODERATOR, args=[Arg("news_id", Int(minimum=1))],
)  # fmt: skip
async def approve_news(ctx: CommandContext, news_id: int) -> None:
    app = ctx.app
    async with app.db.session() as session:
        item = await _news_item(session, ctx, news_id)
        if item.status == NewsStatus.APPROVED:
            raise CommandError("digest_error_news_already_approved", id=news_id)
        _decide(item, NewsStatus.APPROVED, reason=None, by=ctx.sender)
        if item.author_id != ctx.sender:
            t = await _member_translator(session, app, item.author_id)
            session.add(
                app.sender.prepare(
                    t("digest_news_approved_dm", id=item.id, text=esc(item.text)), to_user=item.author_id
                )
            )
    app.sender.wake()
    await ctx.answer("digest_news_approved", id=news_id, text=esc(_short(item.text)))


@submit_news.subcommand(
    de="ablehnen", en="reject", help="digest_news_reject", permission=Permission.MODERATOR,
    args=[Arg("news_id", Int(minimum=1)), Arg("reason", Text(max_length=500), required=False)],
)  # fmt: skip
async def reject_news(ctx: CommandContext, news_id: int, reason: str | None = None) -> None:
    app = ctx.app
    reason = (reason or "").strip() or None
    async with app.db.session() as session:
        item = await _news_item(session, ctx, news_id)
        if item.status == NewsStatus.REJECTED:
            raise CommandError("digest_error_news_already_rejected", id=news_id)
        _decide(item, NewsStatus.REJECTED, reason=reason, by=ctx.sender)
        t = await _member_translator(session, app, item.author_id)
        key = "digest_news_rejected_dm_reason" if reason else "digest_news_rejected_dm"
        session.add(
            app.sender.prepare(
                t(key, id=item.id, text=esc(item.text), reason=esc(reason or "")), to_user=item.author_id
            )
        )
    app.sender.wake()
    await ctx.answer("digest_news_rejected", id=news_id)


@submit_news.subcommand(
    de="bearbeiten", en="edit", aliases=("ändern", "aendern"), help="digest_news_edit",
    permission=Permission.MODERATOR,
    args=[Arg("news_id", Int(minimum=1)), Arg("text", Text(max_length=MAX_NEWS_TEXT))],
)  # fmt: skip
async def edit_news(ctx: CommandContext, news_id: int, text: str) -> None:
    text = text.strip()
    if not text:
        raise CommandError("core_arg_missing", show_usage=True)
    async with ctx.app.db.session() as session:
        item = await _news_item(session, ctx, news_id)
        item.text = text
        item.edited_by = ctx.sender
        item.edited_at = datetime.now(UTC)
        status = item.status
    await ctx.answer(
        "digest_news_edited", id=news_id, text=esc(text), status=ctx.t(f"digest_status_{status}")
    )


def _decide(item: DigestNews, status: NewsStatus, *, reason: str | None, by: str) -> None:
    item.status = status
    item.reason = reason
    item.decided_by = by
    item.decided_at = datetime.now(UTC)


def _short(text: str, limit: int = 120) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


async def _member_translator(session: AsyncSession, app: App, user_id: str) -> Translate:
    member = await session.get(Member, user_id)
    language = (member.language if member else None) or app.settings.bot.language
    return app.catalog.translator(language)

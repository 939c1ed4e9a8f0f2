"""Monthly newsletter digest: member news, upcoming sessions and last month in numbers.

- Member news: ``!neuigkeit <Text>`` (members) waits for a moderator's ``!neuigkeit ok|ablehnen|bearbeiten``.
- The digest of a month (``gather.py`` reads the numbers, ``compose.py`` writes the Markdown) is posted as a
  formatted message plus Markdown and HTML files for the e-mail newsletter, by the monthly job
  (``[digest] schedule`` / ``rooms`` / ``scope``) or by ``!digest jetzt``; ``!digest vorschau`` sends a
  preview to the moderator's direct chat.
- Exactly once per (month, room): a ``digest_posts`` row with a unique constraint is inserted in the same
  transaction as the outbox rows of the message and its files. The start hook posts a digest that became due
  while the bot was down (marked as late).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select, true, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import section
from bot.context import CommandContext
from bot.format import esc
from bot.framework import Arg, Choice, CommandError, Feature, Int, Permission, Text
from bot.i18n import Translate
from commands.digest.compose import (
    compose_digest,
    digest_html_document,
    digest_title,
    month_bounds,
    month_name,
    previous_month,
)
from commands.digest.config import DigestConfig
from commands.digest.gather import NameOf, gather_digest_data, localpart
from commands.digest.timing import cron_fields, due_run, next_run, parse_month
from storage.digest import DigestNews, DigestPost
from storage.models import Member, RoomSetting
from timephrases import format_date, format_datetime

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger(__name__)

feature = Feature(
    "digest",
    messages=Path(__file__).with_name("messages.toml"),
    title_key="digest_feature_title",
    order=60,
    settings=DigestConfig,
)


def digest_settings(app: App) -> DigestConfig:
    """The ``[digest]`` section of the configuration."""
    return section(app.settings, "digest", DigestConfig)


JOB_ID = "digest:monthly"
RETRY_JOB_ID = "digest:retry"
RETRY_AFTER = timedelta(minutes=5)
MAX_ATTEMPTS = 6
MAX_NEWS_TEXT = 1000
LIST_LIMIT = 30
CONFIRM_WORDS = {"bestätigen": ("bestaetigen", "confirm", "ja", "yes")}


# --- member news --------------------------------------------------------------------------------------------


@feature.command(
    de="neuigkeit", en="news", help="digest_news_submit",
    args=[Arg("text", Text(max_length=MAX_NEWS_TEXT))],
)  # fmt: skip
async def submit_news(ctx: CommandContext, text: str) -> None:
    text = text.strip()
    if not text:
        raise CommandError("core_arg_missing", show_usage=True)
    async with ctx.app.db.session() as session:
        item = DigestNews(author_id=ctx.sender, room_id=ctx.room_id, text=text, status="pending")
        session.add(item)
        await session.flush()
        item_id = item.id
    await ctx.answer("digest_news_submitted", id=item_id)


def _app_now(ctx: CommandContext) -> datetime:
    """When the command arrived, in the bot's time zone (months are counted there, not per member)."""
    return ctx.received_at.astimezone(ctx.app.settings.bot.tz)


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
    since, _ = month_bounds(previous_month(_app_now(ctx).date()), ctx.app.settings.bot.tz)
    scope = true() if _sees_all_rooms(ctx) else DigestNews.room_id == ctx.room_id
    async with ctx.app.db.session() as session:
        pending = (
            await session.scalars(
                select(DigestNews)
                .where(DigestNews.status == "pending", scope)
                .order_by(DigestNews.created_at, DigestNews.id)
                .limit(LIST_LIMIT)
            )
        ).all()
        approved = (
            await session.scalars(
                select(DigestNews)
                .where(DigestNews.status == "approved", DigestNews.decided_at >= since, scope)
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


feature.command(de="neuigkeiten", en="newslist", help="digest_news_list", permission=Permission.MODERATOR)(
    list_news
)
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
        if item.status == "approved":
            raise CommandError("digest_error_news_already_approved", id=news_id)
        item.status = "approved"
        item.reason = None
        item.decided_by = ctx.sender
        item.decided_at = datetime.now(UTC)
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
        if item.status == "rejected":
            raise CommandError("digest_error_news_already_rejected", id=news_id)
        item.status = "rejected"
        item.reason = reason
        item.decided_by = ctx.sender
        item.decided_at = datetime.now(UTC)
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


def _short(text: str, limit: int = 120) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


async def _member_translator(session: AsyncSession, app: App, user_id: str) -> Translate:
    member = await session.get(Member, user_id)
    language = (member.language if member else None) or app.settings.bot.language
    return app.catalog.translator(language)


# --- composing and posting ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RenderedDigest:
    markdown: str
    html: str
    title: str
    month: date
    language: str

    @property
    def basename(self) -> str:
        return f"next-digest-{self.month:%Y-%m}"


def _name_resolver(app: App, room_id: str | None) -> NameOf:
    rooms = app.matrix.client.rooms

    def name_of(user_id: str) -> str:
        first = [rooms[room_id]] if room_id and room_id in rooms else []
        for room in [*first, *rooms.values()]:
            user = room.users.get(user_id)
            if user is not None and user.display_name:
                return str(user.display_name)
        return localpart(user_id)

    return name_of


def _room_name(app: App, room_id: str) -> str:
    room = app.matrix.client.rooms.get(room_id)
    if room is None:
        return room_id
    return str(room.name or room.canonical_alias or room.display_name or room_id)


async def room_language(app: App, room_id: str) -> str:
    """German unless the room's language is English."""
    async with app.db.session() as session:
        setting = await session.get(RoomSetting, room_id)
    return "en" if setting is not None and setting.language == "en" else "de"


async def render_digest(
    app: App, month: date, *, room_id: str | None, language: str, late: bool = False
) -> RenderedDigest:
    """The digest of ``month``: room scope if configured and a room is given, else network-wide."""
    t = app.catalog.translator(language)
    scope_room = room_id if digest_settings(app).scope == "room" else None
    scope_name = _room_name(app, scope_room) if scope_room else t("digest_scope_network")
    tz = app.settings.bot.tz
    async with app.db.session() as session:
        data = await gather_digest_data(
            session,
            month=month,
            tz=tz,
            room_id=scope_room,
            scope_name=scope_name,
            name_of=_name_resolver(app, room_id),
        )
    markdown = compose_digest(
        data, t, format_datetime=lambda moment, lang: format_datetime(moment, lang, tz), late=late
    )
    title = digest_title(data, t)
    return RenderedDigest(
        markdown=markdown,
        html=digest_html_document(markdown, title, language=language),
        title=title,
        month=data.month,
        language=language,
    )


async def _upload_files(app: App, room_id: str, digest: RenderedDigest) -> list[dict[str, Any]]:
    return [
        await app.matrix.upload_content(
            room_id, digest.markdown.encode(), filename=f"{digest.basename}.md", mimetype="text/markdown"
        ),
        await app.matrix.upload_content(
            room_id, digest.html.encode(), filename=f"{digest.basename}.html", mimetype="text/html"
        ),
    ]


async def publish_digest(
    app: App,
    room_id: str,
    month: date,
    *,
    trigger: str,
    late: bool = False,
    posted_by: str | None = None,
    force: bool = False,
) -> str:
    """Post the digest of ``month`` to ``room_id``: "posted", "reposted" (force) or "already" (not posted).

    Files are uploaded first; then the claim row and the outbox rows of the message and both files are
    written in one transaction. A second poster (the job and the start hook, or a restart) fails on the
    unique (month, room) constraint and posts nothing."""
    async with app.db.session() as session:
        existing = await session.scalar(
            select(DigestPost.id).where(DigestPost.month == month, DigestPost.room_id == room_id)
        )
    if existing is not None and not force:
        return "already"
    language = await room_language(app, room_id)
    digest = await render_digest(app, month, room_id=room_id, language=language, late=late)
    files = await _upload_files(app, room_id, digest)
    try:
        async with app.db.session() as session:
            if existing is not None:
                claimed = await session.execute(
                    update(DigestPost).where(DigestPost.id == existing).values(reposts=DigestPost.reposts + 1)
                )
                if getattr(claimed, "rowcount", 1) != 1:
                    return "already"
            else:
                session.add(
                    DigestPost(
                        month=month,
                        room_id=room_id,
                        scope=digest_settings(app).scope,
                        language=language,
                        trigger=trigger,
                        late=late,
                        posted_by=posted_by,
                    )
                )
                await session.flush()
            session.add(app.sender.prepare(digest.markdown, room_id=room_id))
            for content in files:
                session.add(app.sender.prepare_content(content, room_id=room_id))
    except IntegrityError:
        return "already"
    app.sender.wake()
    log.info("digest %s posted to %s (%s%s)", month, room_id, trigger, ", late" if late else "")
    return "reposted" if existing is not None else "posted"


# --- moderator commands -------------------------------------------------------------------------------------

digest_group = feature.group(de="digest", en="digest", help="digest_group", permission=Permission.MODERATOR)


def default_preview_month(app: App, now: datetime) -> date:
    """The month the next scheduled digest will review."""
    tz = app.settings.bot.tz
    upcoming = next_run(digest_settings(app).schedule, tz, now)
    if upcoming is None:
        return now.astimezone(tz).date().replace(day=1)
    return previous_month(upcoming.astimezone(tz).date())


@digest_group.subcommand(
    de="vorschau", en="preview", help="digest_preview",
    args=[Arg("month", Text(max_length=40, allow_empty=True), required=False)],
)  # fmt: skip
async def preview_digest(ctx: CommandContext, month: str | None = None) -> None:
    app = ctx.app
    now = _app_now(ctx)
    if month:
        chosen = parse_month(month, now.date())
        if chosen is None:
            raise CommandError("digest_error_month", value=month, show_usage=True)
    else:
        chosen = default_preview_month(app, now)
    room_id = None if ctx.is_direct else ctx.room_id
    language = await room_language(app, room_id) if room_id else ctx.language
    digest = await render_digest(app, chosen, room_id=room_id, language=language)
    direct_room = await app.matrix.direct_room(ctx.sender)
    intro = ctx.t("digest_preview_intro", month=month_name(chosen, ctx.t))
    await app.sender.send(intro, room_id=direct_room)
    await app.sender.send(digest.markdown, room_id=direct_room)
    files = await _upload_files(app, direct_room, digest)
    for content in files:
        await app.sender.enqueue(content, room_id=direct_room)
    if not ctx.is_direct:
        await ctx.answer("digest_preview_sent", month=month_name(chosen, ctx.t))


@digest_group.subcommand(
    de="jetzt", en="now", help="digest_now",
    args=[Arg("confirm", Choice(CONFIRM_WORDS), required=False)],
)  # fmt: skip
async def post_digest_now(ctx: CommandContext, confirm: str | None = None) -> None:
    if ctx.is_direct:
        raise CommandError("digest_error_direct")
    month = previous_month(_app_now(ctx).date())
    result = await publish_digest(
        ctx.app, ctx.room_id, month, trigger="command", posted_by=ctx.sender, force=confirm is not None
    )
    label = month_name(month, ctx.t)
    if result == "already":
        await ctx.answer("digest_now_confirm", month=label)
    else:
        await ctx.answer("digest_now_posted", month=label)


# --- schedule -----------------------------------------------------------------------------------------------


@feature.job("digest.monthly")
async def run_monthly_digest(app: App, *, scheduled_for: datetime) -> None:
    """Scheduled job: post the digest of the month before ``scheduled_for`` to every configured room."""
    month = previous_month(scheduled_for.astimezone(app.settings.bot.tz).date())
    await _post_configured(app, month, late=app.jobs.is_late(scheduled_for))


@feature.job("digest.retry")
async def retry_due_digest(app: App, attempt: int, *, scheduled_for: datetime) -> None:
    """One-off job after a failed post (homeserver trouble): post what is still due."""
    await post_due_digest(app, attempt=attempt)


async def post_due_digest(app: App, *, attempt: int = 0) -> None:
    """Post this month's digest where it is due (the scheduled time has passed) and not yet posted."""
    tz = app.settings.bot.tz
    due = due_run(digest_settings(app).schedule, tz, datetime.now(UTC))
    if due is None:
        return
    month = previous_month(due.astimezone(tz).date())
    await _post_configured(app, month, late=app.jobs.is_late(due), attempt=attempt)


async def _post_configured(app: App, month: date, *, late: bool, attempt: int = 0) -> None:
    failed = False
    for room_id in digest_settings(app).rooms:
        try:
            await publish_digest(app, room_id, month, trigger="schedule", late=late)
        except Exception:
            failed = True
            log.exception("posting the digest of %s to %s failed (attempt %s)", month, room_id, attempt + 1)
    if failed and attempt + 1 < MAX_ATTEMPTS:
        # Rooms that were posted are skipped on the retry (their digest_posts row exists).
        app.jobs.at(RETRY_JOB_ID, retry_due_digest, datetime.now(UTC) + RETRY_AFTER, attempt + 1)


@feature.on_start
async def schedule_digest(app: App) -> None:
    """Register the monthly job (stable id; config changes apply at start) and catch up on a missed run."""
    config = digest_settings(app)
    if not config.rooms:
        app.jobs.cancel(JOB_ID)
        return
    app.jobs.cron(JOB_ID, run_monthly_digest, cron_fields(config.schedule), app.settings.bot.timezone)
    missing = [room for room in config.rooms if room not in app.matrix.client.rooms]
    if missing:
        log.warning("the bot is not (yet) in these [digest] rooms; invite it: %s", ", ".join(missing))
    await post_due_digest(app)


# --- privacy ------------------------------------------------------------------------------------------------


@feature.privacy_export
async def export_news(app: App, user_id: str) -> dict[str, Any]:
    async with app.db.session() as session:
        items = (
            await session.scalars(
                select(DigestNews).where(DigestNews.author_id == user_id).order_by(DigestNews.id)
            )
        ).all()
    return {
        "digest_news": [
            {
                "id": item.id,
                "room_id": item.room_id,
                "text": item.text,
                "status": item.status,
                "reason": item.reason,
                "created_at": item.created_at.isoformat(),
                "decided_at": item.decided_at.isoformat() if item.decided_at else None,
            }
            for item in items
        ]
    }


@feature.privacy_erase
async def erase_news(app: App, user_id: str) -> int:
    async with app.db.session() as session:
        result = await session.execute(delete(DigestNews).where(DigestNews.author_id == user_id))
        await session.execute(
            update(DigestNews).where(DigestNews.decided_by == user_id).values(decided_by=None)
        )
        await session.execute(
            update(DigestNews).where(DigestNews.edited_by == user_id).values(edited_by=None)
        )
        await session.execute(
            update(DigestPost).where(DigestPost.posted_by == user_id).values(posted_by=None)
        )
    return int(getattr(result, "rowcount", 0) or 0)

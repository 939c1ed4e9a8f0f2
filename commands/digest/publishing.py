"""Composing a month's digest and posting it exactly once per (month, room), with Markdown and HTML files."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from bot.i18n import with_defaults
from commands.digest.compose import (
    compose_digest,
    digest_html_document,
    digest_title,
)
from commands.digest.gather import NameOf, gather_digest_data, localpart
from storage.db import claimed
from storage.digest import DigestPost
from storage.models import RoomSetting
from timephrases import format_datetime

if TYPE_CHECKING:
    from bot.app import App
from .feature import digest_settings, log

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
    # Commands named in the digest (`!anmelden 12`) use the configured prefix.
    t = with_defaults(app.catalog.translator(language), p=app.settings.bot.command_prefix)
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


async def upload_files(app: App, room_id: str, digest: RenderedDigest) -> list[dict[str, Any]]:
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
    files = await upload_files(app, room_id, digest)
    try:
        async with app.db.session() as session:
            if existing is not None:
                if not await claimed(
                    session,
                    update(DigestPost)
                    .where(DigestPost.id == existing)
                    .values(reposts=DigestPost.reposts + 1),
                ):
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

"""Profile (organisation, level, topics) and personal settings (language, time zone, room language).

Other features add lines of their own to ``!profil`` with ``@feature.profile_line`` (who-knows: whether the
member is findable), so this feature names none of them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import delete

from bot.context import CommandContext
from bot.format import esc
from bot.framework import Arg, Choice, CommandError, Feature, Permission, Quoted, Text
from storage.members import set_profile_field
from storage.models import DirectRoom, Member, RoomMembership, RoomSetting

if TYPE_CHECKING:
    from bot.app import App

# A line another feature adds to the member's ``!profil`` (in their language), or None for none.
ProfileLine = Callable[[CommandContext], Awaitable[str | None]]


@dataclass
class ProfileFeature(Feature):
    """The profile feature, with the lines other features contribute to ``!profil``."""

    profile_lines: list[ProfileLine] = field(default_factory=list)

    def profile_line(self, line: ProfileLine) -> ProfileLine:
        self.profile_lines.append(line)
        return line


feature = ProfileFeature(
    "profile", messages=Path(__file__).with_name("messages.toml"), title_key="profile_title", order=60
)

LEVELS = {
    "bund": ("federal", "bundesebene"),
    "land": ("state", "länder", "laender", "landesebene"),
    "kommune": ("municipal", "local", "kommunal", "stadt", "kreis"),
    "wissenschaft": ("science", "research", "academia", "hochschule"),
}
LANGUAGES = {"de": ("deutsch", "german"), "en": ("englisch", "english")}
MAX_TOPICS = 10


def profile_markdown(member: Member | None, ctx: CommandContext) -> str:
    t = ctx.t
    dash = t("profile_not_set")
    level = t(f"profile_level_{member.level}") if member and member.level else dash
    topics = ", ".join(esc(topic) for topic in member.topics) if member and member.topics else dash
    return t(
        "profile_show",
        organisation=esc(member.organisation) if member and member.organisation else dash,
        level=level,
        topics=topics,
        language=ctx.language,
        timezone=ctx.timezone,
        p=ctx.prefix,
    )


@feature.command(de="profil", en="profile", help="profile_show")
async def show_profile(ctx: CommandContext) -> None:
    async with ctx.app.db.session() as session:
        member = await session.get(Member, ctx.sender)
    contributed = [line for contribute in feature.profile_lines if (line := await contribute(ctx))]
    await ctx.reply("\n\n".join([profile_markdown(member, ctx), *contributed]))


@show_profile.subcommand(
    de="organisation", en="organisation", aliases=("organization", "org", "behörde", "behoerde"),
    help="profile_organisation", args=[Arg("text", Text(max_length=200))],
)  # fmt: skip
async def set_organisation(ctx: CommandContext, text: str) -> None:
    await set_profile_field(ctx.app.db, ctx.sender, "organisation", text.strip())
    await ctx.answer("profile_saved_organisation", value=esc(text.strip()))


@show_profile.subcommand(de="ebene", en="level", help="profile_level", args=[Arg("level", Choice(LEVELS))])
async def set_level(ctx: CommandContext, level: str) -> None:
    await set_profile_field(ctx.app.db, ctx.sender, "level", level)
    await ctx.answer("profile_saved_level", value=ctx.t(f"profile_level_{level}"))


@show_profile.subcommand(
    de="themen", en="topics", help="profile_topics", args=[Arg("text", Text(max_length=600))]
)
async def set_topics(ctx: CommandContext, text: str) -> None:
    topics = list(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
    if len(topics) > MAX_TOPICS or any(len(topic) > 60 for topic in topics):
        raise CommandError("profile_error_topics", max=MAX_TOPICS)
    await set_profile_field(ctx.app.db, ctx.sender, "topics", topics)
    await ctx.answer("profile_saved_topics", value=", ".join(esc(topic) for topic in topics))


@feature.command(
    de="sprache", en="language", help="profile_language", args=[Arg("language", Choice(LANGUAGES))]
)
async def set_language(ctx: CommandContext, language: str) -> None:
    await set_profile_field(ctx.app.db, ctx.sender, "language", language)
    ctx.language = language
    await ctx.answer("profile_saved_language")


@feature.command(
    de="raumsprache", en="roomlanguage", help="profile_room_language", permission=Permission.MODERATOR,
    args=[Arg("language", Choice(LANGUAGES))],
)  # fmt: skip
async def set_room_language(ctx: CommandContext, language: str) -> None:
    async with ctx.app.db.session() as session:
        setting = await session.get(RoomSetting, ctx.room_id)
        if setting is None:
            session.add(RoomSetting(room_id=ctx.room_id, language=language))
        else:
            setting.language = language
    await ctx.reply(ctx.app.catalog.translator(language)("profile_saved_room_language"))


@feature.command(
    de="zeitzone", en="timezone", help="profile_timezone", args=[Arg("zone", Quoted(max_length=64))]
)
async def set_timezone(ctx: CommandContext, zone: str) -> None:
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise CommandError("profile_error_timezone", value=zone) from None
    await set_profile_field(ctx.app.db, ctx.sender, "timezone", zone)
    await ctx.answer("profile_saved_timezone", value=esc(zone))


@feature.privacy_export
async def export_profile(app: App, user_id: str) -> dict[str, Any]:
    async with app.db.session() as session:
        member = await session.get(Member, user_id)
        memberships = (
            await session.scalars(RoomMembership.__table__.select().where(RoomMembership.user_id == user_id))
        ).all()
        direct = await session.get(DirectRoom, user_id)
    return {
        "profile": None
        if member is None
        else {
            "organisation": member.organisation,
            "level": member.level,
            "topics": member.topics,
            "language": member.language,
            "timezone": member.timezone,
            "created_at": member.created_at.isoformat(),
        },
        "room_joins_seen": len(memberships),
        "direct_room": direct.room_id if direct else None,
    }


@feature.privacy_erase
async def erase_profile(app: App, user_id: str) -> int:
    async with app.db.session() as session:
        count = 0
        for table, column in ((Member, Member.user_id), (RoomMembership, RoomMembership.user_id)):
            result = await session.execute(delete(table).where(column == user_id))
            count += int(getattr(result, "rowcount", 0) or 0)
    return count

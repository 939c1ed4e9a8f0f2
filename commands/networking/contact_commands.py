"""``!kontakte``: the people a member has met (sent to the direct chat)."""

from __future__ import annotations

from sqlalchemy import or_, select

from bot.context import CommandContext
from bot.format import esc
from bot.names import named_pill
from commands.networking.logic import (
    PastMeeting,
    contacts_of,
)
from storage.networking import Meeting
from timephrases import format_date

from .feature import MAX_CONTACTS_SHOWN, feature, plural
from .introductions import load_profiles

# --- contacts -----------------------------------------------------------------------------------------------


@feature.command(
    de="kontakte", en="contacts", aliases=("meine-kontakte", "my-contacts"), help="networking_contacts"
)
async def contacts(ctx: CommandContext) -> None:
    async with ctx.app.db.session() as session:
        rows = (
            await session.execute(
                select(Meeting.user_a, Meeting.user_b, Meeting.met_at).where(
                    or_(Meeting.user_a == ctx.sender, Meeting.user_b == ctx.sender)
                )
            )
        ).all()
        found = contacts_of(ctx.sender, [PastMeeting(a, b, met_at) for a, b, met_at in rows])
        profiles = await load_profiles(session, [contact.user_id for contact in found[:MAX_CONTACTS_SHOWN]])
    t = ctx.t
    if not found:
        text = t("networking_contacts_empty", p=ctx.prefix)
    else:
        lines = [t("networking_contacts_header", count=len(found))]
        dash = t("networking_not_set")
        for contact in found[:MAX_CONTACTS_SHOWN]:
            member = profiles.get(contact.user_id)
            lines.append(
                t(
                    "networking_contacts_item",
                    user=named_pill(ctx.app, contact.user_id),
                    user_id=esc(contact.user_id),
                    organisation=esc(member.organisation) if member and member.organisation else dash,
                    level=t(f"networking_level_{member.level}") if member and member.level else dash,
                    when=format_date(contact.last_met.astimezone(ctx.tz).date(), ctx.language),
                    times=plural(t, "networking_times", contact.times) if contact.times > 1 else "",
                )
            )
        if len(found) > MAX_CONTACTS_SHOWN:
            lines.append(t("networking_contacts_more", count=len(found) - MAX_CONTACTS_SHOWN, p=ctx.prefix))
        text = "\n".join(lines)
    if ctx.is_direct:
        await ctx.reply(text)
        return
    # Who met whom is personal: the list goes to the direct chat.
    await ctx.direct(text)
    await ctx.answer("networking_contacts_sent")

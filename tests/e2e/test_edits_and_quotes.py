"""Element's "Bearbeiten" (m.replace) and quoted text: a refused command can be corrected by editing it, once;
nothing that already ran runs again; quoted commands are someone else's words."""

from __future__ import annotations

import asyncio

from bot.app import build_catalog
from bot.features import discover_features
from tests.catalog import says
from tests.conftest import MemberFactory
from tests.e2e.harness import BotProcess, Member

T = build_catalog(discover_features()).translator("de")
HELP_HEADER = T("help_header", p="!")


async def edit(member: Member, room: str, original: str, text: str) -> str:
    return await member.say(
        room,
        f"* {text}",
        extra={
            "m.new_content": {"msgtype": "m.text", "body": text},
            "m.relates_to": {"rel_type": "m.replace", "event_id": original},
        },
    )


async def test_a_refused_command_runs_once_when_corrected_by_an_edit(
    bot: BotProcess, member_factory: MemberFactory
) -> None:
    member = await member_factory("tippfehler")
    room = await member.room_with(bot.user_id)
    typo = await member.say(room, "!hilf")
    refused = await member.next_message(room_id=room, reply_to=typo)
    assert says(refused.body, "core_unknown_command_suggestion", suggestion="!hilfe")  # "did you mean"
    await edit(member, room, typo, "!hilfe")
    corrected = await member.next_message(
        room_id=room, reply_to=typo, after=member.received.index(refused) + 1
    )
    assert HELP_HEADER in corrected.body
    # A second edit, and an edit of a command that ran, do nothing: a later command is answered first.
    await edit(member, room, typo, "!profil")
    ran = await member.command(room, "!profil")
    await edit(member, room, ran.in_reply_to or "", "!hilfe")
    marker = await member.command(room, "!hilfe")
    await asyncio.sleep(1)
    replies_to_typo = [r for r in member.received if r.in_reply_to == typo and r.sender == bot.user_id]
    assert len(replies_to_typo) == 2
    assert marker.msgtype == "m.notice"


async def test_quoted_commands_are_not_commands(bot: BotProcess, member_factory: MemberFactory) -> None:
    member = await member_factory("zitat")
    room = await member.room_with(bot.user_id)
    quoted = await member.say(room, "> !hilfe", html="<blockquote><p>!hilfe</p></blockquote>")
    plain_quote = await member.say(room, "> !profil")
    marker = await member.command(room, "!hilfe")
    assert HELP_HEADER in marker.body
    assert not [r for r in member.received if r.in_reply_to in (quoted, plain_quote)]

"""Profile, language, reactions and the privacy export/erasure on the shared bot."""

from __future__ import annotations

import json

from tests.catalog import markdown, says
from tests.e2e.harness import BotProcess, Member
from tests.inprocess import rows_mentioning


async def setup_room(member: Member, bot: BotProcess) -> str:
    room_id = await member.create_room(invite=[bot.user_id])
    await member.wait_for_member(room_id, bot.user_id)
    return room_id


async def test_profile_language_and_privacy(bot: BotProcess, member_factory) -> None:
    gina = await member_factory("gina")
    room = await setup_room(gina, bot)
    saved = await gina.command(room, "!profil organisation Stadt <b>Köln</b>")
    assert "Stadt" in saved.body
    assert "<b>Köln</b>" not in (saved.formatted_body or "")
    await gina.command(room, "!profil ebene kommune")
    await gina.command(room, "!profil themen OZG, Open Source")
    shown = await gina.command(room, "!profil")
    assert markdown("profile_level_kommune") in shown.body
    assert "OZG, Open Source" in shown.body
    wrong = await gina.command(room, "!profil ebene galaxis")
    # The choices are the levels' names in the command's definition (not catalog text).
    assert says(wrong.body, "core_arg_choice", value="galaxis", choices="bund, land, kommune, wissenschaft")
    english = await gina.command(room, "!sprache en")
    assert says(english.body, "profile_saved_language", "en")
    assert says((await gina.command(room, "!profil")).body, "profile_show", "en")
    await gina.command(room, "!language de")

    reminder = await gina.command(room, "!erinnere mich in 2 Stunden an die Abstimmung")
    hans = await member_factory("hans")
    await gina.invite(room, hans.user_id)
    await hans.join(room)
    await hans.react(room, reminder.event_id, "👍")
    listed = await hans.command(room, "!erinnerungen", timeout=30)
    attempts = 0
    while "Abstimmung" not in listed.body and attempts < 20:  # the reaction is processed asynchronously
        attempts += 1
        listed = await hans.command(room, "!erinnerungen")
    assert "die Abstimmung" in listed.body

    exported = await gina.command(room, "!datenschutz export")
    assert says(exported.body, "privacy_export_sent")
    direct = await gina.direct_room_with(bot.user_id)
    file_message = await gina.next_message(room_id=direct, sender=bot.user_id)
    for _ in range(3):
        if file_message.content.get("msgtype") == "m.file":
            break
        file_message = await gina.next_message(
            room_id=direct, sender=bot.user_id, after=gina.received.index(file_message) + 1
        )
    data = json.loads(await gina.download(file_message.content))
    assert data["user_id"] == gina.user_id
    assert data["profile"]["profile"]["organisation"] == "Stadt <b>Köln</b>"
    assert data["reminders"]["reminders"][0]["text"] == "die Abstimmung"

    ask = await gina.command(room, "!datenschutz löschen")
    assert says(ask.body, "privacy_forget_confirm")
    done = await gina.command(room, "!datenschutz bestätigen")
    assert says(done.body, "privacy_forget_done")
    assert rows_mentioning(str(bot.workdir / "bot.db"), gina.user_id) == []
    # The export message (file link and, in encrypted rooms, its key) is redacted in the direct chat.
    response = await gina.client.room_get_event(direct, file_message.event_id)
    assert response.event.source["content"] == {}  # type: ignore[union-attr]
    again = await gina.command(room, "!datenschutz bestätigen")
    assert says(again.body, "privacy_forget_no_request")

"""The foundation end to end: a real Synapse, the bot as a process, members as matrix-nio clients."""

from __future__ import annotations

import json

import pytest

from tests.catalog import markdown, says, stable
from tests.e2e.harness import BotProcess
from timephrases import Recurrence, describe_recurrence

# "jeden Montag, 09:00", as the reminders show a weekly schedule.
MONDAYS_9 = describe_recurrence(
    Recurrence(cron={"day_of_week": "mon", "hour": "9", "minute": "0"}, kind="weekly"), "de"
)


async def test_help_in_german_and_english(bot: BotProcess, member_factory) -> None:
    anna = await member_factory("anna")
    room = await anna.create_room(invite=[bot.user_id])
    await anna.wait_for_member(room, bot.user_id)
    german = await anna.command(room, "!hilfe")
    assert german.sender == bot.user_id
    assert german.msgtype == "m.notice"
    assert says(german.body, "help_header")
    assert says(german.body, "help_overview")  # what to type: programm, erinnere, profil …
    english = await anna.command(room, "!help")
    assert says(english.body, "help_header", "en")
    assert says(english.body, "help_overview", "en")
    detail = await anna.command(room, "!hilfe erinnere")
    assert markdown("reminders_remind_example") in detail.body
    unknown = await anna.command(room, "!hilf")
    assert says(unknown.body, "core_unknown_command_suggestion", command="hilf", suggestion="!hilfe")


async def test_reminder_in_plain_room(bot: BotProcess, member_factory) -> None:
    bert = await member_factory("bert")
    room = await bert.create_room(invite=[bot.user_id])
    await bert.wait_for_member(room, bot.user_id)
    reply = await bert.command(room, "!erinnere mich in 3 Sekunden an den Kaffee")
    assert says(reply.body, "reminders_created"), reply.body
    fired = await bert.next_message(
        room_id=room, contains=stable("reminders_fire"), after=len(bert.received) - 1
    )
    assert "den Kaffee" in fired.body
    assert fired.content["m.mentions"] == {"user_ids": [bert.user_id]}


async def test_reminder_in_encrypted_room(bot: BotProcess, member_factory) -> None:
    carla = await member_factory("carla")
    room = await carla.create_room(invite=[bot.user_id], encrypted=True)
    await carla.wait_for_member(room, bot.user_id)
    reply = await carla.command(room, "!erinnere mich in 3 Sekunden an den Kaffee")
    assert reply.source["type"] == "m.room.message"  # decrypted by nio: it was encrypted on the wire
    assert says(reply.body, "reminders_created")
    fired = await carla.next_message(
        room_id=room, contains=stable("reminders_fire"), after=len(carla.received) - 1
    )
    assert "den Kaffee" in fired.body


async def test_moderator_command_refused_for_member(bot: BotProcess, member_factory) -> None:
    owner = await member_factory("owner")
    dora = await member_factory("dora")
    room = await owner.create_room(invite=[bot.user_id, dora.user_id])
    await dora.join(room)
    await owner.wait_for_member(room, bot.user_id)
    refused = await dora.command(room, "!erinnere raum morgen 9 Uhr Teamrunde")
    assert says(refused.body, "core_permission_moderator")
    allowed = await owner.command(room, "!erinnere raum morgen 9 Uhr Teamrunde")
    assert says(allowed.body, "reminders_created_room")
    refused_recurring = await dora.command(room, "!erinnere jeden Montag 9 Uhr Wochenplanung")
    assert says(refused_recurring.body, "core_permission_moderator")
    recurring = await owner.command(room, "!erinnere jeden Montag 9 Uhr Wochenplanung")
    assert MONDAYS_9 in recurring.body
    assert "Wochenplanung" in recurring.body
    listed = await owner.command(room, "!erinnerungen")
    assert MONDAYS_9 in listed.body
    number = listed.body.split("Nr. ")[-1].split(" ")[0]
    not_hers = await dora.command(room, f"!erinnerung löschen {number}")
    assert says(not_hers.body, "reminders_error_not_yours", id=int(number))
    cancelled = await owner.command(room, f"!erinnerung loeschen {number}")
    assert says(cancelled.body, "reminders_cancelled", id=int(number))


async def test_user_html_is_escaped_and_never_mentions_room(bot: BotProcess, member_factory) -> None:
    emil = await member_factory("emil")
    room = await emil.create_room(invite=[bot.user_id])
    await emil.wait_for_member(room, bot.user_id)
    reply = await emil.command(
        room, "!erinnere mich in 1 Stunde an <b>fett</b> @room [x](https://evil.example)"
    )
    assert reply.formatted_body is not None
    assert "<b>fett</b>" not in reply.formatted_body
    assert "&lt;b&gt;fett&lt;/b&gt;" in reply.formatted_body
    assert "<a " not in reply.formatted_body
    assert reply.content["m.mentions"] == {"user_ids": []}
    assert "@room" not in reply.body


@pytest.mark.parametrize("text", ["!erinnere mich irgendwann an nichts", "!erinnere mich in 10 Minuten"])
async def test_reminder_bad_input_gets_clear_answer(bot: BotProcess, member_factory, text: str) -> None:
    fritz = await member_factory("fritz")
    room = await fritz.create_room(invite=[bot.user_id])
    await fritz.wait_for_member(room, bot.user_id)
    reply = await fritz.command(room, text)
    assert markdown("reminders_remind_example") in reply.body  # usage example included


async def test_addressing_the_bot_by_name_and_undecryptable_message(bot: BotProcess, member_factory) -> None:
    ida = await member_factory("ida")
    room = await ida.create_room(invite=[bot.user_id], encrypted=True)
    await ida.wait_for_member(room, bot.user_id)
    by_name = await ida.command(room, "bot: hilfe")
    assert says(by_name.body, "help_header")
    # An encrypted event for a Megolm session the bot never got: it must say so instead of staying silent.
    content = {
        "algorithm": "m.megolm.v1.aes-sha2",
        "sender_key": "x" * 43,
        "ciphertext": "AwgAEnACgAkLmt6qF84IK++J7UDH2Za1YVchHyprqTqsg2yyOwAtHaZTwyNg37afzg8f3r9IsN9r4RNFg7Ma",
        "session_id": "A" * 43,
        "device_id": "NOTADEVICE",
    }
    # Sent raw, bypassing nio's own encryption, so the bot receives a Megolm event it has no key for.
    path = f"/_matrix/client/v3/rooms/{room}/send/m.room.encrypted/undecryptable-{ida.localpart}"
    response = await ida.client.send(
        "PUT", path, json.dumps(content), headers={"Authorization": f"Bearer {ida.client.access_token}"}
    )
    event_id = (await response.json())["event_id"]
    notice = await ida.next_message(room_id=room, reply_to=event_id, timeout=40)
    assert says(notice.body, "core_undecryptable")
    assert notice.content["m.mentions"] == {"user_ids": [ida.user_id]}


async def test_bot_follows_a_room_upgrade(bot: BotProcess, member_factory) -> None:
    from nio import RoomPreset

    jana = await member_factory("jana")
    response = await jana.client.room_create(
        name="Öffentlich", preset=RoomPreset.public_chat, invite=[bot.user_id]
    )
    old_room = response.room_id  # type: ignore[union-attr]
    await jana.wait_until(lambda: old_room in jana.client.rooms)
    await jana.wait_for_member(old_room, bot.user_id)
    response = await jana.client.send(
        "POST",
        f"/_matrix/client/v3/rooms/{old_room}/upgrade",
        json.dumps({"new_version": "12"}),
        headers={"Authorization": f"Bearer {jana.client.access_token}"},
    )
    body = await response.json()
    assert response.status == 200, body
    new_room = body["replacement_room"]
    await jana.wait_until(lambda: new_room in jana.client.rooms)
    await jana.wait_for_member(new_room, bot.user_id)
    reply = await jana.command(new_room, "!hilfe")
    assert says(reply.body, "help_header")

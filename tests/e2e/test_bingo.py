"""Verwaltungsbingo end to end: a bot of its own (short confirmation time), real members on a real Synapse."""

from __future__ import annotations

import io
import re

from nio import UploadResponse
from PIL import Image

from commands.bingo.render import CELL_PX, FILL_CONFIRMED, FILL_OPEN, MARGIN_PX, TITLE_PX, png_size
from tests.e2e.harness import BotProcess, Member, Received, module_bot

# Requests expire after 12 seconds here, so expiry is testable without long waits.
CONFIG = "\n[bot]\nmoderators = []\n\n[bingo]\nconfirmation_minutes = 0.2\ndefault_size = 3\n"


bingobot = module_bot("bingobot", CONFIG)


async def game_room(bot: BotProcess, member_factory, *names: str) -> tuple[Member, list[Member], str]:
    """A room created by a moderator (creator = power level 100) with the bot and the given members."""
    moderator = await member_factory("bingomod")
    members = [await member_factory(name) for name in names]
    room_id = await moderator.create_room(invite=[bot.user_id, *(m.user_id for m in members)])
    for member in members:
        await member.join(room_id)
    room = moderator.client.rooms[room_id]
    await moderator.wait_until(
        lambda: bot.user_id in room.users and all(m.user_id in room.users for m in members)
    )
    return moderator, members, room_id


def request_number(message: Received) -> int:
    match = re.search(r"Anfrage Nr\. (\d+)", message.body) or re.search(r"Request no\. (\d+)", message.body)
    assert match, message.body
    return int(match.group(1))


async def next_image(member: Member, bot: BotProcess, room_id: str, after: int) -> Received:
    def find() -> Received | None:
        for item in member.received[after:]:
            if item.room_id == room_id and item.sender == bot.user_id and item.msgtype == "m.image":
                return item
        return None

    await member.wait_until(lambda: find() is not None)
    found = find()
    assert found is not None
    return found


async def upload_file(member: Member, room_id: str, filename: str, data: bytes) -> str:
    response, _ = await member.client.upload(
        lambda *_: data, content_type="text/plain", filename=filename, filesize=len(data)
    )
    assert isinstance(response, UploadResponse), response
    content = {
        "msgtype": "m.file",
        "body": filename,
        "filename": filename,
        "url": response.content_uri,
        "info": {"mimetype": "text/plain", "size": len(data)},
    }
    sent = await member.client.room_send(room_id, "m.room.message", content, ignore_unverified_devices=True)
    return str(sent.event_id)  # type: ignore[union-attr]


async def reply_command(member: Member, room_id: str, text: str, to_event: str) -> Received:
    return await member.command(
        room_id, text, extra={"m.relates_to": {"m.in_reply_to": {"event_id": to_event}}}
    )


async def test_game_with_confirmations_lines_and_places(bingobot: BotProcess, member_factory) -> None:
    mod, (anna, bert, carla, dora, emil), room = await game_room(
        bingobot, member_factory, "anna", "bert", "carla", "dora", "emil"
    )
    outsider = await member_factory("outsider")
    bot = bingobot.user_id

    assert "läuft gerade kein Bingo" in (await anna.command(room, "!bingo karte")).body
    assert "Moderator:innen" in (await anna.command(room, "!bingo start 3")).body
    started = await mod.command(room, "!bingo start 3 --seed 7")
    assert "Verwaltungsbingo" in started.body, started.body
    assert "3 × 3" in started.body
    assert "läuft schon ein Bingo" in (await mod.command(room, "!bingo start 4")).body

    # Anna: A1 by Carla (✅ reaction).
    request = await anna.command(room, f"!bingo A1 {carla.user_id}")
    assert "**A1**" in request.body
    assert request.sender == bot
    assert request.content["m.mentions"] == {"user_ids": [carla.user_id]}
    seen = len(anna.received)
    await carla.react(room, request.event_id, "✅")
    confirmed = await anna.next_message(room_id=room, sender=bot, contains="bestätigt", after=seen)
    assert "**A1**" in confirmed.body
    assert anna.user_id in confirmed.content["m.mentions"]["user_ids"]

    # The card: HTML table and a PNG of the right size, A1 drawn as confirmed.
    seen = len(anna.received)
    card = await anna.command(room, "!bingo karte")
    assert card.formatted_body is not None
    assert "<table>" in card.formatted_body
    assert "✅ **A1**" in card.body
    assert "**C3**" in card.body
    image_message = await next_image(anna, bingobot, room, seen)
    assert (image_message.content["info"]["w"], image_message.content["info"]["h"]) == png_size(3)
    download = await anna.client.download(mxc=image_message.content["url"])
    image = Image.open(io.BytesIO(download.body))  # type: ignore[union-attr]
    assert image.format == "PNG"
    assert image.size == png_size(3)
    top = MARGIN_PX + TITLE_PX
    corner = (MARGIN_PX + CELL_PX - 8, top + CELL_PX - 8)  # bottom right inside A1, away from text
    assert image.convert("RGB").getpixel(corner) == Image.new("RGB", (1, 1), FILL_CONFIRMED).getpixel((0, 0))
    open_corner = (MARGIN_PX + 2 * CELL_PX - 8, top + CELL_PX - 8)  # B1
    assert image.convert("RGB").getpixel(open_corner) == Image.new("RGB", (1, 1), FILL_OPEN).getpixel((0, 0))

    # Bad input, each with its own message.
    assert "schon bestätigt" in (await anna.command(room, f"!bingo A1 {dora.user_id}")).body
    assert "steht schon auf deiner Karte" in (await anna.command(room, f"!bingo A2 {carla.user_id}")).body
    assert "Dich selbst" in (await anna.command(room, f"!bingo A2 {anna.user_id}")).body
    assert "nicht in diesem Raum" in (await anna.command(room, f"!bingo A2 {outsider.user_id}")).body
    assert "kein Feld deiner Karte" in (await anna.command(room, f"!bingo Z9 {dora.user_id}")).body
    assert "Wer passt zu A2" in (await anna.command(room, "!bingo A2")).body
    assert "Ich spiele nicht mit" in (await anna.command(room, f"!bingo A2 {bot}")).body

    # Refusal: Dora declines, nobody else may decide for her, a decided request stays decided.
    request = await anna.command(room, f"!bingo A2 {dora.user_id}")
    number = request_number(request)
    assert "wartet schon eine Anfrage" in (await anna.command(room, f"!bingo A2 {emil.user_id}")).body
    assert "an jemand anderen" in (await emil.command(room, f"!bingo bestätigen {number}")).body
    declined = await dora.command(room, f"!bingo ablehnen {number}")
    assert "abgelehnt" in declined.body
    assert "**A2**" in declined.body
    assert "schon abgelehnt" in (await dora.command(room, f"!bingo bestätigen {number}")).body
    assert "gibt es nicht" in (await dora.command(room, "!bingo bestätigen 9999")).body

    # After the refusal Dora may be asked again; this time she confirms with ✅.
    request = await anna.command(room, f"!bingo A2 {dora.user_id}")
    seen = len(anna.received)
    await dora.react(room, request.event_id, "✅")
    await anna.next_message(room_id=room, sender=bot, contains="**A2**", after=seen)

    # Bert: A1 by Carla (named with a pill, confirmed without number), A2 by Dora (with number).
    pill = f'<a href="https://matrix.to/#/{carla.user_id}">Carla</a>'
    request = await bert.command(room, "!bingo A1 Carla", html=f"!bingo A1 {pill}")
    assert request.content["m.mentions"] == {"user_ids": [carla.user_id]}
    assert "bestätigt" in (await carla.command(room, "!bingo bestätigen")).body
    request = await bert.command(room, f"!bingo A2 {dora.user_id}")
    assert "bestätigt" in (await dora.command(room, f"!bingo confirm {request_number(request)}")).body

    # Anna completes column A first, Bert second.
    request = await anna.command(room, f"!bingo A3 {emil.user_id}")
    seen = len(anna.received)
    assert "bestätigt" in (await emil.command(room, f"!bingo bestätigen {request_number(request)}")).body
    first = await anna.next_message(room_id=room, sender=bot, contains="BINGO!", after=seen)
    assert anna.user_id in first.body
    assert "1. Platz" in first.body
    assert "Spalte A" in first.body
    assert first.content["m.mentions"] == {"user_ids": [anna.user_id]}

    request = await bert.command(room, f"!bingo A3 {emil.user_id}")
    seen = len(bert.received)
    await emil.react(room, request.event_id, "✅")
    second = await bert.next_message(room_id=room, sender=bot, contains="BINGO!", after=seen)
    assert bert.user_id in second.body
    assert "2. Platz" in second.body

    status = await carla.command(room, "!bingo stand")
    assert status.body.index(anna.user_id) < status.body.index(bert.user_id), status.body
    assert "1 Linie, 3 Felder" in status.body
    english = await carla.command(room, "!bingo status")
    assert "1 line, 3 fields" in english.body

    results = await mod.command(room, "!bingo stopp")
    assert "beendet" in results.body
    assert results.body.index(anna.user_id) < results.body.index(bert.user_id)
    assert set(results.content["m.mentions"]["user_ids"]) == {anna.user_id, bert.user_id}
    assert "läuft gerade kein Bingo" in (await anna.command(room, f"!bingo B1 {carla.user_id}")).body


async def test_expiry_and_end_time_survive_a_crash(bingobot: BotProcess, member_factory) -> None:
    mod, (fay, gus), room = await game_room(bingobot, member_factory, "fay", "gus")
    started = await mod.command(room, "!bingo start 3 30s")
    assert " bis " in started.body, started.body
    request = await fay.command(room, f"!bingo B2 {gus.user_id}")
    number = request_number(request)
    seen = len(fay.received)

    ready = bingobot.ready_count()
    bingobot.kill()
    bingobot.start()
    await fay.wait_until(lambda: bingobot.ready_count() > ready, timeout=60)

    expired = await fay.next_message(room_id=room, contains="abgelaufen", after=seen, timeout=60)
    assert f"Nr. {number}" in expired.body
    assert fay.user_id in expired.content["m.mentions"]["user_ids"]
    assert "abgelaufen" in (await gus.command(room, f"!bingo bestätigen {number}")).body
    ended = await fay.next_message(room_id=room, contains="beendet", after=seen, timeout=60)
    assert "Niemand hat ein bestätigtes Feld" in ended.body
    assert "läuft gerade kein Bingo" in (await fay.command(room, "!bingo stand")).body


async def test_moderator_loads_prompts_from_a_file(bingobot: BotProcess, member_factory) -> None:
    mod, (hanna,), room = await game_room(bingobot, member_factory, "hanna")
    lines = "\n".join(f"Testfrage {n}" for n in range(1, 11))
    upload = await upload_file(mod, room, "fragen.txt", ("# eigene Fragen\n" + lines + "\n").encode())

    assert "Moderator:innen" in (await reply_command(hanna, room, "!bingo fragen", upload)).body
    assert "antworte mit" in (await mod.command(room, "!bingo fragen")).body
    loaded = await reply_command(mod, room, "!bingo fragen", upload)
    assert "10 Fragen aus fragen.txt geladen" in loaded.body, loaded.body
    assert "bis 3 × 3" in loaded.body

    broken = await upload_file(mod, room, "fragen.toml", b"[[prompt]\nde = 'kaputt'\n")
    assert "kein gültiges TOML" in (await reply_command(mod, room, "!bingo fragen ergänzen", broken)).body

    assert "braucht es 16 verschiedene Fragen" in (await mod.command(room, "!bingo start 4")).body
    assert "läuft" in (await mod.command(room, "!bingo start")).body  # default_size = 3
    card = await hanna.command(room, "!bingo card")
    assert "Your bingo card" in card.body
    assert card.body.count("Testfrage") == 9

    reset = await mod.command(room, "!bingo fragen zurücksetzen")
    assert "Standard-Fragenpool" in reset.body
    await mod.command(room, "!bingo stop")

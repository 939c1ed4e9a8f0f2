"""Verwaltungsbingo end to end: a bot of its own (short confirmation time), real members on a real Synapse."""

from __future__ import annotations

import io

from nio import UploadResponse
from PIL import Image

from commands.bingo.render import CELL_PX, FILL_CONFIRMED, FILL_OPEN, MARGIN_PX, TITLE_PX, png_size
from commands.bingo.texts import place_text
from tests.catalog import catalog, markdown, number_in, says, stable
from tests.e2e.harness import BotProcess, Member, Received, module_bot

# Requests expire after 12 seconds here, so expiry is testable without long waits.
CONFIG = "\n[bot]\nmoderators = []\n\n[bingo]\nconfirmation_minutes = 0.2\ndefault_size = 3\n"


bingobot = module_bot("bingobot", CONFIG)

GERMAN = catalog().translator("de")


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
    language = "de" if says(message.body, "bingo_request") else "en"
    return number_in(message.body, "bingo_request", "id", language)


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

    assert says((await anna.command(room, "!bingo karte")).body, "bingo_error_no_game")
    assert says((await anna.command(room, "!bingo start 3")).body, "core_permission_moderator")
    started = await mod.command(room, "!bingo start 3 --seed 7")
    assert says(started.body, "bingo_started", size=3), started.body
    assert says((await mod.command(room, "!bingo start 4")).body, "bingo_error_running")

    # Anna: A1 by Carla (✅ reaction).
    request = await anna.command(room, f"!bingo A1 {carla.user_id}")
    assert "**A1**" in request.body
    assert request.sender == bot
    assert request.content["m.mentions"] == {"user_ids": [carla.user_id]}
    seen = len(anna.received)
    await carla.react(room, request.event_id, "✅")
    confirmed = await anna.next_message(
        room_id=room, sender=bot, contains=stable("bingo_confirmed", field="A1"), after=seen
    )
    assert says(confirmed.body, "bingo_confirmed", field="A1")
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
    assert says(
        (await anna.command(room, f"!bingo A1 {dora.user_id}")).body, "bingo_field_confirmed", field="A1"
    )
    assert says((await anna.command(room, f"!bingo A2 {carla.user_id}")).body, "bingo_error_same_person")
    assert says((await anna.command(room, f"!bingo A2 {anna.user_id}")).body, "bingo_error_self")
    assert says((await anna.command(room, f"!bingo A2 {outsider.user_id}")).body, "bingo_error_not_in_room")
    assert says((await anna.command(room, f"!bingo Z9 {dora.user_id}")).body, "bingo_error_field", value="Z9")
    assert says((await anna.command(room, "!bingo A2")).body, "bingo_error_missing_person", field="A2")
    assert says((await anna.command(room, f"!bingo A2 {bot}")).body, "bingo_error_bot")

    # Refusal: Dora declines, nobody else may decide for her, a decided request stays decided.
    request = await anna.command(room, f"!bingo A2 {dora.user_id}")
    number = request_number(request)
    assert says(
        (await anna.command(room, f"!bingo A2 {emil.user_id}")).body, "bingo_field_pending", field="A2"
    )
    assert says((await emil.command(room, f"!bingo bestätigen {number}")).body, "bingo_error_claim_not_yours")
    declined = await dora.command(room, f"!bingo ablehnen {number}")
    assert says(declined.body, "bingo_refused", field="A2")
    assert says((await dora.command(room, f"!bingo bestätigen {number}")).body, "bingo_error_claim_refused")
    assert says(
        (await dora.command(room, "!bingo bestätigen 9999")).body, "bingo_error_claim_unknown", id=9999
    )

    # After the refusal Dora may be asked again; this time she confirms with ✅.
    request = await anna.command(room, f"!bingo A2 {dora.user_id}")
    seen = len(anna.received)
    await dora.react(room, request.event_id, "✅")
    await anna.next_message(room_id=room, sender=bot, contains="**A2**", after=seen)

    # Bert: A1 by Carla (named with a pill, confirmed without number), A2 by Dora (with number).
    pill = f'<a href="https://matrix.to/#/{carla.user_id}">Carla</a>'
    request = await bert.command(room, "!bingo A1 Carla", html=f"!bingo A1 {pill}")
    assert request.content["m.mentions"] == {"user_ids": [carla.user_id]}
    assert says((await carla.command(room, "!bingo bestätigen")).body, "bingo_confirmed", field="A1")
    request = await bert.command(room, f"!bingo A2 {dora.user_id}")
    confirmed = await dora.command(room, f"!bingo confirm {request_number(request)}")
    assert says(confirmed.body, "bingo_confirmed", field="A2")

    # Anna completes column A first, Bert second.
    request = await anna.command(room, f"!bingo A3 {emil.user_id}")
    seen = len(anna.received)
    confirmed = await emil.command(room, f"!bingo bestätigen {request_number(request)}")
    assert says(confirmed.body, "bingo_confirmed", field="A3")
    first = await anna.next_message(
        room_id=room, sender=bot, contains=stable("bingo_bingo_first"), after=seen
    )
    assert anna.user_id in first.body
    assert says(
        first.body,
        "bingo_bingo_first",
        place=place_text(GERMAN, 1),
        line=markdown("bingo_line_column", letter="A"),
    )
    assert first.content["m.mentions"] == {"user_ids": [anna.user_id]}

    request = await bert.command(room, f"!bingo A3 {emil.user_id}")
    seen = len(bert.received)
    await emil.react(room, request.event_id, "✅")
    second = await bert.next_message(
        room_id=room, sender=bot, contains=stable("bingo_bingo_first"), after=seen
    )
    assert bert.user_id in second.body
    assert says(second.body, "bingo_bingo_first", place=place_text(GERMAN, 2))

    status = await carla.command(room, "!bingo stand")
    assert status.body.index(anna.user_id) < status.body.index(bert.user_id), status.body
    lines, fields = markdown("bingo_count_lines_one", count=1), markdown("bingo_count_fields_other", count=3)
    assert says(status.body, "bingo_rank", lines=lines, fields=fields)
    english = await carla.command(room, "!bingo status")
    lines, fields = (
        markdown("bingo_count_lines_one", "en", count=1),
        markdown("bingo_count_fields_other", "en", count=3),
    )
    assert says(english.body, "bingo_rank", "en", lines=lines, fields=fields)

    results = await mod.command(room, "!bingo stopp")
    assert says(results.body, "bingo_results_header")
    assert results.body.index(anna.user_id) < results.body.index(bert.user_id)
    assert set(results.content["m.mentions"]["user_ids"]) == {anna.user_id, bert.user_id}
    assert says((await anna.command(room, f"!bingo B1 {carla.user_id}")).body, "bingo_error_no_game")


async def test_expiry_and_end_time_survive_a_crash(bingobot: BotProcess, member_factory) -> None:
    mod, (fay, gus), room = await game_room(bingobot, member_factory, "fay", "gus")
    started = await mod.command(room, "!bingo start 3 30s")
    assert says(started.body, "bingo_started_until"), started.body
    request = await fay.command(room, f"!bingo B2 {gus.user_id}")
    number = request_number(request)
    seen = len(fay.received)

    ready = bingobot.ready_count()
    bingobot.kill()
    bingobot.start()
    await fay.wait_until(lambda: bingobot.ready_count() > ready, timeout=60)

    expired = await fay.next_message(room_id=room, contains=stable("bingo_expired"), after=seen, timeout=60)
    assert says(expired.body, "bingo_expired", id=number, field="B2")
    assert fay.user_id in expired.content["m.mentions"]["user_ids"]
    assert says(
        (await gus.command(room, f"!bingo bestätigen {number}")).body, "bingo_error_claim_expired", id=number
    )
    ended = await fay.next_message(
        room_id=room, contains=stable("bingo_results_header"), after=seen, timeout=60
    )
    assert says(ended.body, "bingo_results_empty")
    assert says((await fay.command(room, "!bingo stand")).body, "bingo_error_no_game")


async def test_moderator_loads_prompts_from_a_file(bingobot: BotProcess, member_factory) -> None:
    mod, (hanna,), room = await game_room(bingobot, member_factory, "hanna")
    lines = "\n".join(f"Testfrage {n}" for n in range(1, 11))
    upload = await upload_file(mod, room, "fragen.txt", ("# eigene Fragen\n" + lines + "\n").encode())

    assert says((await reply_command(hanna, room, "!bingo fragen", upload)).body, "core_permission_moderator")
    assert says((await mod.command(room, "!bingo fragen")).body, "bingo_error_no_attachment")
    loaded = await reply_command(mod, room, "!bingo fragen", upload)
    assert says(loaded.body, "bingo_prompts_loaded_replace", count=10, file="fragen.txt"), loaded.body
    assert says(loaded.body, "bingo_prompts_note_small", size=3)

    broken = await upload_file(mod, room, "fragen.toml", b"[[prompt]\nde = 'kaputt'\n")
    assert says(
        (await reply_command(mod, room, "!bingo fragen ergänzen", broken)).body, "bingo_prompts_error_toml"
    )

    too_small = await mod.command(room, "!bingo start 4")
    assert says(too_small.body, "bingo_error_pool_too_small", size=4, needed=16)
    assert says((await mod.command(room, "!bingo start")).body, "bingo_started", size=3)  # default_size = 3
    card = await hanna.command(room, "!bingo card")
    assert says(card.body, "bingo_card_header", "en")
    assert card.body.count("Testfrage") == 9

    reset = await mod.command(room, "!bingo fragen zurücksetzen")
    assert says(reset.body, "bingo_prompts_reset")
    await mod.command(room, "!bingo stop")

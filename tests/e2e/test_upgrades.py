"""Room upgrades (Synapse's /upgrade): the bot follows and the room's data moves to the successor — also when
the upgrade happened while the bot was down."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from nio import RoomPreset

from tests.catalog import number_in, says
from tests.conftest import MemberFactory
from tests.e2e.harness import BotProcess, Member, module_bot

BERLIN = ZoneInfo("Europe/Berlin")
upgradebot = module_bot("upgradebot", "\n[bot]\nmoderators = []\n")


async def public_room(owner: Member, bot: BotProcess, name: str) -> str:
    response = await owner.client.room_create(name=name, preset=RoomPreset.public_chat, invite=[bot.user_id])
    room = str(response.room_id)  # type: ignore[union-attr]
    await owner.wait_until(lambda: room in owner.client.rooms)
    await owner.wait_for_member(room, bot.user_id)
    return room


async def upgrade(owner: Member, room: str) -> str:
    response = await owner.client.send(
        "POST",
        f"/_matrix/client/v3/rooms/{room}/upgrade",
        # Version 12 (Synapse's default): the upgrader is the new room's creator and its moderator, although
        # nio cannot read the create event (its predecessor has no event id).
        json.dumps({"new_version": "12"}),
        headers={"Authorization": f"Bearer {owner.client.access_token}"},
    )
    body = await response.json()
    assert response.status == 200, body
    new_room = str(body["replacement_room"])
    await owner.wait_until(lambda: new_room in owner.client.rooms)
    return new_room


async def new_event(owner: Member, room: str, title: str) -> int:
    tomorrow = (datetime.now(BERLIN) + timedelta(days=1)).strftime("%d.%m.%Y")
    created = await owner.command(room, f'!veranstaltung neu "{title}" {tomorrow}')
    return number_in(created.body, "sessions_event_created", "event_id", title=title)


async def test_an_upgraded_room_keeps_its_event_bingo_game_and_language(
    upgradebot: BotProcess, member_factory: MemberFactory
) -> None:
    owner = await member_factory("upgrader")
    room = await public_room(owner, upgradebot, "Upgrade-Raum")
    await new_event(owner, room, "Upgradecamp")
    assert says((await owner.command(room, "!bingo start 3 --seed 7")).body, "bingo_started", size=3)
    await owner.command(room, "!raumsprache en")

    new_room = await upgrade(owner, room)
    await owner.wait_for_member(new_room, upgradebot.user_id)
    agenda = await owner.command(new_room, "!programm")
    assert "Upgradecamp" in agenda.body
    # "bingo" is the same word in both languages: the room's language (English) decides, and the game runs.
    running = await owner.command(new_room, "!bingo start 3")
    assert says(running.body, "bingo_error_running", "en"), running.body
    assert "moved the data of" in upgradebot.log()


async def test_an_upgrade_while_the_bot_was_down_is_caught_up_at_start(
    upgradebot: BotProcess, member_factory: MemberFactory
) -> None:
    owner = await member_factory("downgrader")
    room = await public_room(owner, upgradebot, "Verschlafen")
    await new_event(owner, room, "Verschlafenes Camp")
    ready = upgradebot.ready_count()
    upgradebot.stop()
    new_room = await upgrade(owner, room)
    upgradebot.start()
    await owner.wait_until(lambda: upgradebot.ready_count() > ready, timeout=60)
    await owner.wait_for_member(new_room, upgradebot.user_id)
    agenda = await owner.command(new_room, "!programm")
    assert "Verschlafenes Camp" in agenda.body

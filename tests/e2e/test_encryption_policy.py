"""Element's rule on the bot's side: room keys and answers only for devices cross-signed by their owner
(``exclude_insecure_devices``, on by default), everyone's devices with the setting off."""

from __future__ import annotations

from nio import UnknownToDeviceEvent

from tests.conftest import MemberFactory
from tests.e2e.harness import SHARES_WITH_ALL_DEVICES, BotProcess, module_bot

lenient_bot = module_bot("lenientbot", env=SHARES_WITH_ALL_DEVICES)


async def test_insecure_device_gets_no_key_and_no_answer(
    bot: BotProcess, member_factory: MemberFactory
) -> None:
    secure = await member_factory("sina")
    insecure = await member_factory("udo", cross_signed=False)
    withheld: list[dict[str, object]] = []

    async def on_to_device(event: UnknownToDeviceEvent) -> None:
        if event.type == "m.room_key.withheld":
            withheld.append(event.source["content"])

    insecure.client.add_to_device_callback(on_to_device, UnknownToDeviceEvent)  # type: ignore[arg-type]
    room = await secure.create_room(invite=[bot.user_id, insecure.user_id], encrypted=True)
    await secure.wait_for_member(room, bot.user_id)
    await secure.wait_for_member(room, insecure.user_id)
    await insecure.wait_for_member(room, bot.user_id)

    ignored = await insecure.say(room, "!hilfe")
    # The bot handles a room's messages in order: once the later command is answered, the earlier one
    # would have been too.
    answer = await secure.command(room, "!hilfe")
    assert answer.msgtype == "m.notice"
    assert not [r for r in secure.received if r.in_reply_to == ignored]
    # The insecure member sees the bot's answer, but without the key to read it.
    seen = await insecure.next_message(room_id=room, sender=bot.user_id)
    assert seen.msgtype == "m.megolm"
    assert seen.event_id == answer.event_id
    # ...and is told why, as Element tells it: the key was withheld because the device is not verified.
    await insecure.wait_until(lambda: bool(withheld))
    assert withheld[0]["code"] == "m.unverified"
    assert withheld[0]["room_id"] == room
    assert withheld[0]["session_id"] == seen.source["content"]["session_id"]


async def test_with_the_setting_off_every_device_is_answered(
    lenient_bot: BotProcess, member_factory: MemberFactory
) -> None:
    insecure = await member_factory("viktor", cross_signed=False)
    room = await insecure.room_with(lenient_bot.user_id, encrypted=True)
    answer = await insecure.command(room, "!hilfe")
    assert answer.msgtype == "m.notice"

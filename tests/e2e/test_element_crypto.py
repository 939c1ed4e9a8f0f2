"""The bot as Element users meet it: Element's own SDK (matrix-js-sdk, rust crypto) in Element's strict mode
("exclude insecure devices") talks to the bot in encrypted rooms and direct chats, without a warning — also
after a crash and after a lost store."""

from __future__ import annotations

import json
import shutil

from bot.app import build_catalog
from bot.features import discover_features
from tests.e2e.element import ElementMember, ElementMemberFactory, ElementReceived
from tests.e2e.harness import SHARES_WITH_ALL_DEVICES, BotProcess, module_bot
from tests.e2e.test_encryption_identity import RECOVERY_KEY

CATALOG = build_catalog(discover_features())


# A bot of its own: these tests kill it and delete its store.
elementbot = module_bot("elementbot")
lenient_elementbot = module_bot("lenientelementbot", env=SHARES_WITH_ALL_DEVICES)


def assert_readable_without_warning(reply: ElementReceived) -> None:
    assert reply.encrypted
    assert reply.decryption_failure is None
    assert reply.shield_colour == "NONE", (reply.shield_colour, reply.shield_reason)
    assert reply.msgtype == "m.notice"


def is_help_overview(body: str) -> bool:
    """The help overview's header, in either language, whatever the catalog says it is."""
    return any(CATALOG.translator(language)("help_header", p="!") in body for language in ("de", "en"))


def bot_device(bot: BotProcess) -> str:
    return str(json.loads((bot.workdir / "store" / "credentials.json").read_text())["device_id"])


async def encrypted_room_with(member: ElementMember, bot: BotProcess, *, direct: bool = False) -> str:
    room = await member.create_room(invite=[bot.user_id], encrypted=True, direct=direct)
    await member.wait_for_member(room, bot.user_id)
    return room


async def test_help_in_an_encrypted_room_and_a_direct_chat(
    bot: BotProcess, element_member_factory: ElementMemberFactory
) -> None:
    erika = await element_member_factory("erika")
    room = await encrypted_room_with(erika, bot)
    reply = await erika.command(room, "!hilfe")
    assert_readable_without_warning(reply)
    assert is_help_overview(reply.body)
    trust = await erika.device_trust(bot.user_id, bot_device(bot))
    assert trust["signed_by_owner"] is True

    direct = await encrypted_room_with(erika, bot, direct=True)
    answer = await erika.command(direct, "!help")
    assert_readable_without_warning(answer)
    assert is_help_overview(answer.body)


async def test_reaction_and_reminder(bot: BotProcess, element_member_factory: ElementMemberFactory) -> None:
    frieda = await element_member_factory("frieda")
    gustav = await element_member_factory("gustav")
    room = await frieda.create_room(invite=[bot.user_id, gustav.user_id], encrypted=True)
    await gustav.join(room)
    await frieda.wait_for_member(room, bot.user_id)
    await frieda.wait_for_member(room, gustav.user_id)
    confirmation = await frieda.command(room, "!erinnere mich in 15 Sekunden an den Kaffee")
    assert_readable_without_warning(confirmation)
    # 👍 on the confirmation: Gustav is reminded too (the reminder mentions him).
    seen = await gustav.next_message(room_id=room, sender=bot.user_id)
    assert seen.event_id == confirmation.event_id
    assert_readable_without_warning(seen)
    await gustav.react(room, confirmation.event_id, "👍")
    fired = await frieda.next_message(
        room_id=room, sender=bot.user_id, contains="den Kaffee", after=len(frieda.received), timeout=60
    )
    assert_readable_without_warning(fired)
    assert set(fired.content["m.mentions"]["user_ids"]) == {frieda.user_id, gustav.user_id}
    fired_for_gustav = await gustav.next_message(room_id=room, sender=bot.user_id, contains="den Kaffee")
    assert_readable_without_warning(fired_for_gustav)


async def test_older_isolation_mode_gets_answers_without_warning(
    bot: BotProcess, element_member_factory: ElementMemberFactory
) -> None:
    hanna = await element_member_factory("hanna", mode="all")
    room = await encrypted_room_with(hanna, bot)
    assert_readable_without_warning(await hanna.command(room, "!hilfe"))


async def test_uncross_signed_element_device_is_ignored_unless_allowed(
    bot: BotProcess, lenient_elementbot: BotProcess, element_member_factory: ElementMemberFactory
) -> None:
    # Element refuses to send encrypted messages from an account without cross-signing in strict mode, so the
    # insecure member uses the older mode, as an outdated client would.
    ingo = await element_member_factory("ingo", mode="all", cross_signed=False)
    witness = await element_member_factory("jutta")
    room = await witness.create_room(invite=[bot.user_id, ingo.user_id], encrypted=True)
    await ingo.join(room)
    await witness.wait_for_member(room, bot.user_id)
    await witness.wait_for_member(room, ingo.user_id)
    ignored = await ingo.say(room, "!hilfe")
    # The bot handles a room's messages in order: the witness's later command is answered only after it.
    assert_readable_without_warning(await witness.command(room, "!hilfe"))
    assert not [r for r in witness.received if r.in_reply_to == ignored]
    assert not [r for r in ingo.received if r.in_reply_to == ignored]
    # The bot's answer reached Ingo's device without its key, and Ingo's client says why.
    unreadable = await ingo.next_message(room_id=room, sender=bot.user_id)
    assert unreadable.decryption_failure == "MEGOLM_KEY_WITHHELD_FOR_UNVERIFIED_DEVICE"

    lenient_room = await encrypted_room_with(ingo, lenient_elementbot)
    answer = await ingo.command(lenient_room, "!hilfe")
    assert answer.decryption_failure is None
    assert is_help_overview(answer.body)


async def test_crash_and_lost_store_keep_the_bot_trusted(
    elementbot: BotProcess, element_member_factory: ElementMemberFactory
) -> None:
    karla = await element_member_factory("karla")
    room = await encrypted_room_with(karla, elementbot)
    assert_readable_without_warning(await karla.command(room, "!hilfe"))
    identity_before = await karla.user_identity(elementbot.user_id)
    device = bot_device(elementbot)

    elementbot.kill()
    elementbot.start()
    assert bot_device(elementbot) == device
    assert_readable_without_warning(await karla.command(room, "!hilfe"))

    (recovery_key,) = RECOVERY_KEY.findall(elementbot.log())
    elementbot.stop()
    shutil.rmtree(elementbot.workdir / "store")
    elementbot.env["COMMUNITY_BOT_MATRIX__RECOVERY_KEY"] = recovery_key
    elementbot.start()
    new_device = bot_device(elementbot)
    assert new_device != device
    assert_readable_without_warning(await karla.command(room, "!hilfe"))
    trust = await karla.device_trust(elementbot.user_id, new_device)
    assert trust["signed_by_owner"] is True
    identity_after = await karla.user_identity(elementbot.user_id)
    assert identity_after["master_key"] == identity_before["master_key"]
    assert not identity_after["needs_user_approval"], "no 'identity changed' warning"

"""The Element member itself (tests/e2e/element.py) on the real Synapse, no bot involved.

These tests pin what Element's SDK (matrix-js-sdk 43, rust crypto) really does, so that bot tests built on the
Element member can trust it: cross-signed members read each other in strict mode ("exclude insecure
devices"), while a device that is not cross-signed by its owner (a nio member made with cross_signed=False)
is unreadable in strict mode and readable with a red shield in the older "all devices" mode; a nio member
cross-signed by the bot's own code (bot/crypto) is as trusted as an Element one.
"""

from __future__ import annotations

import pytest

from tests.conftest import MemberFactory
from tests.e2e.element import ElementMember, ElementMemberError, ElementMemberFactory


async def encrypted_room(creator: ElementMember, *others: ElementMember) -> str:
    room_id = await creator.create_room(invite=[o.user_id for o in others], encrypted=True)
    for other in others:
        await creator.wait_for_member(room_id, other.user_id)
    return room_id


async def test_cross_signed_members_read_each_other_in_strict_mode(
    element_member_factory: ElementMemberFactory,
) -> None:
    anna = await element_member_factory("anna")
    ben = await element_member_factory("ben")
    room_id = await encrypted_room(anna, ben)

    sent = await anna.say(room_id, "Hallo Ben, liest du mich?")
    got = await ben.next_message(room_id=room_id, sender=anna.user_id, contains="liest du mich")
    assert got.event_id == sent
    assert got.encrypted
    assert got.decryption_failure is None
    assert (got.shield_colour, got.shield_reason) == ("NONE", None)
    assert got.msgtype == "m.text"

    await ben.react(room_id, sent, "👍")
    reaction = await anna.next_message(room_id=room_id, sender=ben.user_id, type="m.reaction")
    assert reaction.content["m.relates_to"] == {"rel_type": "m.annotation", "event_id": sent, "key": "👍"}
    # matrix-js-sdk sends reactions in the clear even in encrypted rooms (client.shouldEncryptEventForRoom),
    # so a bot that counts reactions sees them whatever the trust situation.
    assert not reaction.encrypted
    assert reaction.shield_colour is None

    # A rich reply, sent with extra content, arrives with its relation (what Member.command waits for).
    reply = await ben.say(room_id, "Ja!", extra={"m.relates_to": {"m.in_reply_to": {"event_id": sent}}})
    answer = await anna.next_message(room_id=room_id, reply_to=sent)
    assert (answer.event_id, answer.body, answer.decryption_failure) == (reply, "Ja!", None)
    assert anna.messages_from(ben.user_id, room_id) == [answer]

    # A direct chat as Element makes it: is_direct invite, m.direct account data; Ben joins it by himself.
    direct = await anna.create_room(invite=[ben.user_id], encrypted=True, direct=True)
    assert await ben.direct_room_with(anna.user_id) == direct
    assert (await anna.request("rooms"))["direct"] == {ben.user_id: [direct]}


async def test_strict_mode_cannot_read_an_unsigned_nio_device(
    element_member_factory: ElementMemberFactory, member_factory: MemberFactory
) -> None:
    nina = await member_factory("nina", cross_signed=False)  # her device is "insecure"
    eva = await element_member_factory("eva")
    room_id = await nina.create_room(invite=[eva.user_id], encrypted=True)
    await nina.wait_for_member(room_id, eva.user_id)

    await nina.say(room_id, "Von nio an Element")
    got = await eva.next_message(room_id=room_id, sender=nina.user_id)
    assert got.encrypted
    assert got.decryption_failure == "UNSIGNED_SENDER_DEVICE"
    assert got.msgtype == "m.bad.encrypted"
    assert "Von nio" not in got.body
    assert got.shield_colour is None

    # The other way round Element withholds the room key from the unsigned device and says why.
    await eva.say(room_id, "Von Element an nio")
    await eva.wait_until(lambda: any(w["direction"] == "sent" for w in eva.withheld))
    withheld = [w for w in eva.withheld if w["direction"] == "sent" and w["user_id"] == nina.user_id]
    assert withheld, eva.withheld
    assert withheld[0]["device_id"] == nina.client.device_id
    assert withheld[0]["content"]["code"] == "m.unverified"
    undecryptable = await nina.next_message(room_id=room_id, sender=eva.user_id)
    assert undecryptable.msgtype == "m.megolm"  # nio could not decrypt it


async def test_all_devices_mode_reads_an_unsigned_nio_device_with_a_red_shield(
    element_member_factory: ElementMemberFactory, member_factory: MemberFactory
) -> None:
    otto = await member_factory("otto", cross_signed=False)
    lea = await element_member_factory("lea", mode="all")
    room_id = await otto.create_room(invite=[lea.user_id], encrypted=True)
    await otto.wait_for_member(room_id, lea.user_id)

    await otto.say(room_id, "Lesbar, aber unsicher")
    got = await lea.next_message(room_id=room_id, sender=otto.user_id)
    assert got.decryption_failure is None
    assert got.body == "Lesbar, aber unsicher"
    assert (got.shield_colour, got.shield_reason) == ("RED", "UNSIGNED_DEVICE")

    # And in this mode Element shares its keys with the unsigned device: nio reads the answer.
    await lea.say(room_id, "Antwort an nio")
    answer = await otto.next_message(room_id=room_id, sender=lea.user_id)
    assert answer.body == "Antwort an nio"


async def test_crypto_info_shows_the_device_cross_signed(
    element_member_factory: ElementMemberFactory,
) -> None:
    mia = await element_member_factory("mia")
    info = await mia.crypto_info()
    assert info["user_id"] == mia.user_id
    assert info["device_id"] == mia.device_id
    assert info["cross_signing_ready"] is True
    assert info["device_cross_signed"] is True
    own = await mia.device_trust(mia.user_id, mia.device_id)
    assert (own["signed_by_owner"], own["cross_signing_verified"], own["verified"]) == (True, True, True)


async def test_an_uncross_signed_member_is_not_signed_by_its_owner(
    element_member_factory: ElementMemberFactory,
) -> None:
    paul = await element_member_factory("paul")
    uwe = await element_member_factory("uwe", cross_signed=False)
    olga = await element_member_factory("olga")
    info = await uwe.crypto_info()
    assert (info["device_cross_signed"], info["cross_signing_ready"]) == (False, False)

    # Before sharing an encrypted room Paul's crypto store does not track Uwe at all.
    assert (await paul.device_trust(uwe.user_id, uwe.device_id, wait=False))["tracked"] is False
    room_id = await encrypted_room(paul, uwe, olga)

    unsigned = await paul.device_trust(uwe.user_id, uwe.device_id)
    assert unsigned == {
        "known": True,
        "tracked": True,
        "signed_by_owner": False,
        "cross_signing_verified": False,
        "local_verified": False,
        "verified": False,
    }
    assert (await paul.user_identity(uwe.user_id))["known"] is False

    # A cross-signed member: signed by its owner, but not verified by Paul (nobody compared emojis).
    signed = await paul.device_trust(olga.user_id, olga.device_id)
    assert (signed["signed_by_owner"], signed["verified"]) == (True, False)
    assert (await paul.user_identity(olga.user_id))["known"] is True

    # In strict mode the SDK refuses to encrypt from an account without cross-signing at all ...
    with pytest.raises(ElementMemberError, match="cross-signing is not set up"):
        await uwe.say(room_id, "Verschlüsselt?")
    # ... in the older mode it sends, and Paul (strict) cannot read it: both ends on Element's SDK.
    await uwe.set_mode("all")
    await uwe.say(room_id, "Ich bin nicht quer-signiert")
    got = await paul.next_message(room_id=room_id, sender=uwe.user_id)
    assert got.decryption_failure == "UNSIGNED_SENDER_DEVICE"

    # Paul withholds his room key from Uwe's unsigned device and tells it so; Uwe's SDK names that reason
    # (possibly as an update, if the withheld notice arrives after the event).
    sent = await paul.say(room_id, "Nur für sichere Geräte")
    await uwe.wait_until(lambda: any(w["direction"] == "received" for w in uwe.withheld))
    assert uwe.withheld[0]["sender"] == paul.user_id
    assert uwe.withheld[0]["content"]["code"] == "m.unverified"

    def reason() -> str | None:
        return next((r.decryption_failure for r in uwe.received if r.event_id == sent), None)

    await uwe.wait_until(lambda: reason() == "MEGOLM_KEY_WITHHELD_FOR_UNVERIFIED_DEVICE")


async def test_errors_are_answers_and_eof_stops_cleanly(element_member_factory: ElementMemberFactory) -> None:
    rita = await element_member_factory("rita")
    with pytest.raises(ElementMemberError, match="unknown command"):
        await rita.request("no_such_command")
    with pytest.raises(ElementMemberError, match=r"\[404\]"):
        await rita.join("!nonexistent:localhost")
    assert (await rita.crypto_info())["device_id"] == rita.device_id  # still alive after the errors

    await rita.stop()
    assert rita.returncode == 0
    with pytest.raises(ElementMemberError, match="not running"):
        await rita.crypto_info()

    sven = await element_member_factory("sven")
    await sven.stop(eof=True)
    assert sven.returncode == 0


async def test_element_trusts_a_nio_member_cross_signed_by_the_bots_code(
    member_factory: MemberFactory, element_member_factory: ElementMemberFactory
) -> None:
    """The suite's nio members sign themselves with bot/crypto: Element's SDK must agree they are secure."""
    nora = await member_factory("nora")
    vera = await element_member_factory("vera")
    room = await vera.create_room(invite=[nora.user_id], encrypted=True)
    await nora.join(room)
    await vera.wait_for_member(room, nora.user_id)
    await nora.say(room, "Hallo aus nio")
    seen = await vera.next_message(room_id=room, sender=nora.user_id)
    assert seen.decryption_failure is None
    assert seen.shield_colour == "NONE", (seen.shield_colour, seen.shield_reason)
    trust = await vera.device_trust(nora.user_id, str(nora.client.device_id))
    assert trust["signed_by_owner"] is True

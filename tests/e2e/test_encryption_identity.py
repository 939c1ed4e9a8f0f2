"""The bot's cross-signing identity on the real Synapse: created once, kept across crashes, recovered with
the recovery key after a lost store, replaced only on purpose — checked from a member's point of view."""

from __future__ import annotations

import json
import re
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.devserver import Synapse
from tests.conftest import MemberFactory
from tests.e2e.harness import BotProcess, Member, published_identity

RECOVERY_KEY = re.compile(r"^    (Es[1-9A-HJ-NP-Za-km-z]{2}(?: [1-9A-HJ-NP-Za-km-z]{4}){11})$", re.M)


@pytest.fixture(scope="module")
def idbot(synapse: Synapse, workdir: Path) -> Iterator[BotProcess]:
    process = BotProcess(synapse, workdir / "idbot", ["localhost"], localpart="idbot")
    process.start()
    yield process
    process.stop()


def recovery_keys(bot: BotProcess) -> list[str]:
    return RECOVERY_KEY.findall(bot.log())


def device_id(bot: BotProcess) -> str:
    return str(json.loads((bot.workdir / "store" / "credentials.json").read_text())["device_id"])


async def answered_in_encrypted_room(member: Member, bot: BotProcess, room: str | None = None) -> str:
    if room is None:
        room = await member.room_with(bot.user_id, encrypted=True)
    reply = await member.command(room, "!hilfe", timeout=40)
    assert reply.source["type"] == "m.room.message"
    assert reply.msgtype == "m.notice"
    return room


async def test_first_start_creates_an_identity_and_signs_the_device(
    idbot: BotProcess, member_factory: MemberFactory
) -> None:
    keys = recovery_keys(idbot)
    assert len(keys) == 1, "the recovery key is shown once, at the first start"
    key_file = idbot.workdir / "store" / "cross_signing.json"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert keys[0].replace(" ", "") not in key_file.read_text()
    member = await member_factory("vera")
    master, signed = await published_identity(member, idbot.user_id)
    assert master is not None
    assert device_id(idbot) in signed
    await answered_in_encrypted_room(member, idbot)

    status = idbot.cli("crypto", "status")
    assert status.returncode == 0, status.stderr
    assert "device cross-signed: yes" in status.stdout
    assert master in status.stdout
    secrets = json.loads(key_file.read_text())
    for secret in [keys[0], secrets["master"], secrets["self_signing"], secrets["user_signing"]]:
        assert secret not in status.stdout + status.stderr


async def test_kill_and_restart_keep_identity_and_device(
    idbot: BotProcess, member_factory: MemberFactory
) -> None:
    member = await member_factory("walter")
    before = await published_identity(member, idbot.user_id)
    device = device_id(idbot)
    room = await answered_in_encrypted_room(member, idbot)
    idbot.kill()
    idbot.start()
    assert device_id(idbot) == device
    assert await published_identity(member, idbot.user_id) == before
    assert len(recovery_keys(idbot)) == 1, "no new identity, no new recovery key"
    await answered_in_encrypted_room(member, idbot, room)


async def test_lost_store_is_refused_without_recovery_key_and_recovered_with_it(
    idbot: BotProcess, member_factory: MemberFactory
) -> None:
    member = await member_factory("xenia")
    master_before, _ = await published_identity(member, idbot.user_id)
    room = await answered_in_encrypted_room(member, idbot)
    old_device = device_id(idbot)
    (recovery_key,) = recovery_keys(idbot)
    idbot.stop()

    shutil.rmtree(idbot.workdir / "store")
    refused = idbot.cli("run")
    assert refused.returncode == 3
    assert "recovery_key" in refused.stderr
    assert "reset-identity" in refused.stderr
    assert (await published_identity(member, idbot.user_id))[0] == master_before, "no silent new identity"

    idbot.env["COMMUNITY_BOT_MATRIX__RECOVERY_KEY"] = recovery_key
    idbot.start()
    new_device = device_id(idbot)
    assert new_device != old_device
    master_after, signed = await published_identity(member, idbot.user_id)
    assert master_after == master_before, "the same identity: members' clients show no warning"
    assert new_device in signed
    assert len(recovery_keys(idbot)) == 1
    await answered_in_encrypted_room(member, idbot, room)


async def test_reset_identity_on_purpose(idbot: BotProcess, member_factory: MemberFactory) -> None:
    member = await member_factory("yusuf")
    master_before, _ = await published_identity(member, idbot.user_id)
    idbot.stop()
    idbot.env.pop("COMMUNITY_BOT_MATRIX__RECOVERY_KEY", None)
    shutil.rmtree(idbot.workdir / "store")
    reset = idbot.cli("crypto", "reset-identity")
    assert reset.returncode == 0, reset.stderr
    (new_key,) = RECOVERY_KEY.findall(reset.stderr)
    master_after, signed = await published_identity(member, idbot.user_id)
    assert master_after is not None
    assert master_after != master_before
    idbot.start()
    assert device_id(idbot) in signed
    assert len(recovery_keys(idbot)) == 1, "the bot's start after the reset shows no further key"
    await answered_in_encrypted_room(member, idbot)
    assert new_key not in idbot.log()

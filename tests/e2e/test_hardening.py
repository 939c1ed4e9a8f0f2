"""Real community rooms are messy: pending invites, hostile input, dying workers. Nothing may stall."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import stat
import subprocess
import sys
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

from nio import UploadResponse

from bot.app import build_catalog
from bot.devserver import Synapse, free_port
from bot.features import discover_features
from tests.catalog import number_in
from tests.conftest import MemberFactory
from tests.e2e.harness import ROOT, BotProcess, Member, module_bot, published_identity

hardbot = module_bot("hardbot")
CATALOG = build_catalog(discover_features())


async def test_a_pending_invite_does_not_delay_answers_in_a_community_room(
    bot: BotProcess, member_factory: MemberFactory
) -> None:
    host = await member_factory("ruth")
    never_joins = await member_factory("schlaf")
    never_joins.auto_join = False
    room = await host.create_room(invite=[bot.user_id, never_joins.user_id], encrypted=True)
    await host.wait_for_member(room, bot.user_id)
    # Before the fix every message to an encrypted room waited up to 10 minutes while anyone was invited.
    reply = await host.command(room, "!hilfe", timeout=20)
    assert reply.msgtype == "m.notice"
    assert never_joins.user_id in host.client.rooms[room].invited_users


async def test_a_huge_word_is_quoted_shortened_and_nothing_waits_behind_it(
    bot: BotProcess, member_factory: MemberFactory
) -> None:
    member = await member_factory("poison")
    room = await member.room_with(bot.user_id)
    huge = "!" + "x" * 33_000
    answer = await member.command(room, huge)
    assert len(answer.body) < 500
    assert "…" in answer.body
    assert (await member.command(room, "!hilfe")).msgtype == "m.notice"


async def test_a_message_refused_for_good_is_marked_failed_and_listed(
    hardbot: BotProcess, member_factory: MemberFactory
) -> None:
    member = await member_factory("kicker")
    room = await member.room_with(hardbot.user_id)
    await member.command(room, "!erinnere mich in 4 Sekunden an den Rauswurf")
    await member.client.room_kick(room, hardbot.user_id)
    # The reminder fires into a room the bot may no longer post to: M_FORBIDDEN, not retried, listed.
    listed = ""
    for _ in range(60):
        listed = hardbot.cli("outbox", "list").stdout
        if "M_FORBIDDEN" in listed:
            break
        await asyncio.sleep(0.5)
    assert "M_FORBIDDEN" in listed
    assert room in listed
    assert "Rauswurf" not in listed, "the operator's list shows no message text"
    log = hardbot.log()
    assert log.count("refused by the homeserver for good") == 1
    assert f"kicked {room}" in log, "the bot noticed that it was kicked"
    # Back in the room, the operator can send it after all.
    await member.invite(room, hardbot.user_id)
    await member.wait_for_member(room, hardbot.user_id)
    retried = hardbot.cli("outbox", "retry")
    assert retried.returncode == 0
    fired = await member.next_message(
        room_id=room, sender=hardbot.user_id, contains="den Rauswurf", timeout=60
    )
    assert fired.msgtype == "m.notice"


async def test_every_command_waiting_for_its_key_runs_in_order_when_it_arrives(
    bot: BotProcess, member_factory: MemberFactory
) -> None:
    member = await member_factory("spaet")
    room = await member.room_with(bot.user_id, encrypted=True)
    await member.command(room, "!hilfe")  # both sides know each other's devices; an Olm session exists
    olm = member.client.olm
    assert olm is not None
    # A new Megolm session whose key reaches the bot only after the messages (as when a key is delayed on
    # the way): the key message is made now (the ratchet at index 0) and sent later.
    olm.create_outbound_group_session(room)
    session = olm.outbound_group_sessions[room]
    delayed_keys = [
        to_device
        for _, to_device in olm.share_group_session_parallel(
            room, [bot.user_id], ignore_unverified_devices=True
        )
    ]
    session.shared = True  # room_send encrypts with it without sharing it again
    commands = ["!profil organisation Stadt Spät", "!profil themen OZG, KI", "!profil"]
    sent = [await member.say(room, text) for text in commands]
    await asyncio.sleep(1.5)  # the bot has received all three, undecryptable
    for to_device in delayed_keys:
        response = await member.client.send(
            "PUT",
            f"/_matrix/client/v3/sendToDevice/m.room.encrypted/late-{uuid.uuid4().hex}",
            json.dumps(to_device),
            headers={"Authorization": f"Bearer {member.client.access_token}"},
        )
        assert response.status == 200
    replies = [await member.next_message(room_id=room, reply_to=event_id) for event_id in sent]
    positions = [member.received.index(reply) for reply in replies]
    assert positions == sorted(positions), "answered in the order they were sent"
    assert "Stadt Spät" in replies[2].body


async def test_a_revoked_token_is_renewed_with_the_password_as_the_same_device(
    hardbot: BotProcess, member_factory: MemberFactory
) -> None:
    member = await member_factory("logout")
    room = await member.room_with(hardbot.user_id)
    await member.command(room, "!hilfe")
    before = credentials(hardbot)
    # A hard logout: the homeserver deletes the device and its keys.
    response = await member.client.send(
        "POST",
        "/_matrix/client/v3/logout",
        "{}",
        headers={"Authorization": f"Bearer {before['access_token']}"},
    )
    assert response.status == 200
    await member.wait_until(lambda: credentials(hardbot)["access_token"] != before["access_token"], 90)
    assert credentials(hardbot)["device_id"] == before["device_id"]
    assert (await member.command(room, "!hilfe")).msgtype == "m.notice"
    _, signed = await published_identity(member, hardbot.user_id)
    assert before["device_id"] in signed, "the re-created device has its keys again and is cross-signed"


async def test_a_revoked_token_without_password_stops_the_bot_with_a_message(
    synapse: Synapse, workdir: Path, member_factory: MemberFactory
) -> None:
    process = BotProcess(synapse, workdir / "tokenbot", ["localhost"], localpart="tokenbot")
    login = await member_factory("tokenwatch")
    response = await login.client.send(
        "POST",
        "/_matrix/client/v3/login",
        json.dumps(
            {
                "type": "m.login.password",
                "identifier": {"type": "m.id.user", "user": process.user_id},
                "password": process.password,
            }
        ),
    )
    token = (await response.json())["access_token"]
    config = process.config_path.read_text()
    process.config_path.write_text(
        config.replace(f'password = "{process.password}"', f'access_token = "{token}"')
    )
    process.start()
    await login.client.send(
        "POST", "/_matrix/client/v3/logout", "{}", headers={"Authorization": f"Bearer {token}"}
    )
    assert process.process is not None
    await login.wait_until(lambda: process.process is not None and process.process.poll() is not None, 90)
    assert process.process.returncode == 4
    assert "M_UNKNOWN_TOKEN" in process.log()
    assert "access_token" in process.log()


def test_sigterm_before_the_first_sync_ends_the_bot(synapse: Synapse, workdir: Path) -> None:
    process = BotProcess(synapse, workdir / "unreachable", ["localhost"], localpart="unreachable")
    dead = f"http://127.0.0.1:{free_port()}"
    process.config_path.write_text(process.config_path.read_text().replace(synapse.url, dead))
    with open(process.log_path, "ab") as log:
        child = subprocess.Popen(
            [sys.executable, "-m", "bot", "run", "--config", str(process.config_path)],
            cwd=process.workdir,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        time.sleep(3)  # logging in against a homeserver that is not there: nio keeps retrying
        assert child.poll() is None
        child.send_signal(signal.SIGTERM)
        assert child.wait(timeout=20) == 0
    finally:
        if child.poll() is None:
            child.kill()
    assert "stop requested while starting" in process.log()


def credentials(bot: BotProcess) -> dict[str, str]:
    return dict(json.loads((bot.workdir / "store" / "credentials.json").read_text()))


async def test_empty_allowed_inviters_means_admins_and_moderators_only(
    synapse: Synapse, workdir: Path, member_factory: MemberFactory
) -> None:
    admin = await member_factory("chefin")
    stranger = await member_factory("fremd")
    process = BotProcess(
        synapse,
        workdir / "closedbot",
        [],
        localpart="closedbot",
        extra_config=f'\n[bot]\nadmins = ["{admin.user_id}"]\n',
    )
    process.start()
    try:
        refused_room = await stranger.create_room(invite=[process.user_id])
        accepted_room = await admin.room_with(process.user_id)
        assert (await admin.command(accepted_room, "!hilfe")).msgtype == "m.notice"
        await stranger.wait_until(
            lambda: process.user_id not in stranger.client.rooms[refused_room].invited_users
        )
        assert process.user_id not in stranger.client.rooms[refused_room].users
        assert f"rejected invite to {refused_room}" in process.log()
        store = process.workdir / "store"
        assert stat.S_IMODE(store.stat().st_mode) == 0o700
        assert stat.S_IMODE((store / "credentials.json").stat().st_mode) == 0o600
    finally:
        process.stop()


async def test_a_member_flooding_commands_is_slowed_down_others_are_not(
    synapse: Synapse, workdir: Path, member_factory: MemberFactory
) -> None:
    process = BotProcess(
        synapse,
        workdir / "limitbot",
        ["localhost"],
        localpart="limitbot",
        # One command per 10 s after the burst: the flood below takes far less, however slow the machine.
        env={"COMMUNITY_BOT_BOT__COMMAND_BURST": "10", "COMMUNITY_BOT_BOT__COMMANDS_PER_MINUTE": "6"},
    )
    process.start()
    try:
        flooder = await member_factory("flut")
        calm = await member_factory("ruhig")
        room = await flooder.create_room(invite=[process.user_id, calm.user_id])
        await calm.join(room)
        await flooder.wait_for_member(room, process.user_id)
        sent = [await flooder.say(room, f"!profil themen Thema {n}") for n in range(20)]
        # A room's commands are handled in order: once the calm member's later command is answered, every
        # flood command has been answered or dropped.
        answer = await calm.command(room, "!hilfe")
        assert answer.msgtype == "m.notice", "another member is answered meanwhile"
        await flooder.wait_until(lambda: any(r.event_id == answer.event_id for r in flooder.received))
        replies = {r.in_reply_to: r for r in flooder.received if r.sender == process.user_id}
        notice_text = CATALOG.translator("de")("core_rate_limited", user="")
        notices = [e for e in sent if e in replies and replies[e].body.endswith(notice_text)]
        answered = [e for e in sent if e in replies and e not in notices]
        assert sent[:10] == answered[:10], "the burst is answered"
        assert len(notices) == 1, "one polite notice, then silence"
        assert len(answered) + len(notices) <= 13, "the rest of the flood is dropped"
        await asyncio.sleep(10)  # the bucket refills at one command per 10 s
        assert (await flooder.command(room, "!hilfe")).msgtype == "m.notice"
    finally:
        process.stop()


def reply_to(event_id: str) -> dict[str, object]:
    return {"m.relates_to": {"m.in_reply_to": {"event_id": event_id}}}


async def upload_with_declared_size(member: Member, room_id: str, data: bytes, declared: int) -> str:
    response, _ = await member.client.upload(
        lambda *_: data, content_type="text/plain", filename="programm.csv", filesize=len(data)
    )
    assert isinstance(response, UploadResponse), response
    content = {
        "msgtype": "m.file",
        "body": "programm.csv",
        "filename": "programm.csv",
        "url": response.content_uri,
        "info": {"mimetype": "text/plain", "size": declared},
    }
    return await member.say(room_id, "programm.csv", extra=content)


async def test_files_over_the_limit_are_refused_unread(
    hardbot: BotProcess, member_factory: MemberFactory
) -> None:
    moderator = await member_factory("grossdatei")
    room = await moderator.room_with(hardbot.user_id, name="Barcamp-Raum")
    tomorrow = (date.today() + timedelta(days=1)).strftime("%d.%m.%Y")
    created = await moderator.command(room, f'!veranstaltung neu "Großes Camp" {tomorrow}')
    event = number_in(created.body, "sessions_event_created", "event_id", title="Großes Camp")
    t = CATALOG.translator("de")
    program = b"09:00,Ankommen\n" * 20
    # Declares 5 MB: refused before downloading.
    declared = await upload_with_declared_size(moderator, room, program, 5_000_000)
    refused = await moderator.command(
        room,
        f"!veranstaltung import {event}",
        extra={"m.relates_to": {"m.in_reply_to": {"event_id": declared}}},
    )
    assert refused.body == t("core_file_too_large", size_kb=4883, max_kb=1024)
    # Declares 1 KB but is 1.5 MB: refused while reading.
    lying = await upload_with_declared_size(moderator, room, b"x" * 1_500_000, 1000)
    refused = await moderator.command(room, f"!veranstaltung import {event}", extra=reply_to(lying))
    assert refused.body == t("core_file_too_large", size_kb=1465, max_kb=1024)


async def test_a_refused_direct_chat_is_not_forced_on_the_member(
    bot: BotProcess, member_factory: MemberFactory
) -> None:
    member = await member_factory("keindm")
    member.auto_join = False
    room = await member.room_with(bot.user_id, name="Netzwerk")
    await member.command(room, "!kontakte")
    await member.wait_until(lambda: bool(member.client.invited_rooms), 30)
    (offered,) = list(member.client.invited_rooms)
    await member.client.room_leave(offered)  # "Ablehnen" in Element
    await member.wait_until(lambda: f"{member.user_id} rejected the direct chat" in bot.log(), 30)

    answer = await member.command(room, "!kontakte")
    refusal = CATALOG.translator("de")("core_direct_chat_refused", p="!", bot=bot.user_id)
    replies = [r.body for r in member.received if r.in_reply_to == answer.in_reply_to]
    assert refusal in replies
    await asyncio.sleep(2)
    assert set(member.client.invited_rooms) <= {offered}, "no new invitation for every message"

    # The member opens a direct chat: what waited arrives there.
    direct = await member.create_room(invite=[bot.user_id], direct=True)
    delivered = await member.next_message(room_id=direct, sender=bot.user_id, timeout=90)
    assert delivered.msgtype == "m.notice"

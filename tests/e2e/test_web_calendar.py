"""Calendar subscription end to end: ``!kalender abonnieren`` → the personal link by DM → the feed over HTTP
(checked with icalendar and recurring-ical-events) → a sign-up changes it (new ETag) → a move raises SEQUENCE
→ a cancellation stays as STATUS:CANCELLED → ``!kalender link neu`` revokes the old link (404) → export
lists the subscription, erasure deletes it; unknown tokens look like revoked ones and are rate-limited."""

from __future__ import annotations

import json
import re
import secrets
import sqlite3
from datetime import datetime, timedelta
from typing import Any

import aiohttp
import icalendar
import recurring_ical_events
from multidict import CIMultiDict

from bot.app import build_catalog
from bot.devserver import free_port
from bot.features import discover_features
from tests.e2e.harness import BotProcess, Member, module_bot
from tests.e2e.test_sessions import BERLIN, event_tomorrow, proposed, room_with_bot

WEB_PORT = free_port()
web_bot = module_bot(
    "webcal",
    f"\n[web]\nenabled = true\nport = {WEB_PORT}\npublic_url = 'http://127.0.0.1:{WEB_PORT}'\n",
)
T = build_catalog(discover_features()).translator


async def fetch(url: str, **headers: str) -> tuple[int, CIMultiDict[str], bytes]:
    async with aiohttp.ClientSession() as http, http.get(url, headers=headers) as response:
        return response.status, CIMultiDict(response.headers), await response.read()


def vevents(ics: bytes) -> dict[str, Any]:
    calendar = icalendar.Calendar.from_ical(ics)
    return {str(c["uid"]): c for c in calendar.walk("VEVENT")}


def second_parser(ics: bytes) -> list[Any]:
    """recurring-ical-events reads the same bytes independently (time zones included)."""
    calendar = icalendar.Calendar.from_ical(ics)
    start = datetime.now(BERLIN) - timedelta(days=2)
    return list(recurring_ical_events.of(calendar).between(start, start + timedelta(days=10)))


def outbox_mentions(bot: BotProcess, text: str) -> bool:
    connection = sqlite3.connect(bot.workdir / "bot.db", timeout=30)
    try:
        rows = connection.execute("SELECT content FROM outbox").fetchall()
    finally:
        connection.close()
    return any(text in content for (content,) in rows)


async def link_from_dm(member: Member, bot: BotProcess, after: int) -> str:
    direct = await member.direct_room_with(bot.user_id)
    message = await member.next_message(room_id=direct, sender=bot.user_id, contains="webcal://", after=after)
    found = re.search(r"<(http://127\.0\.0\.1:\d+/cal/[A-Za-z0-9_-]+\.ics)>", message.body)
    assert found, message.body
    link = found.group(1)
    assert f"`webcal://{link.split('://', 1)[1]}`" in message.body
    return link


async def test_subscribe_fetch_change_move_cancel_renew_erase(web_bot: BotProcess, member_factory) -> None:
    de = T("de")
    mod, anna, bert = [await member_factory(n) for n in ("calmod", "calanna", "calbert")]
    room = await room_with_bot(mod, web_bot, [anna, bert], "Kalendercamp")
    event = await event_tomorrow(mod, room, "Kalendercamp")
    await mod.command(room, f'!veranstaltung runde {event} "Runde 1" 11:00-11:45')
    await mod.command(room, f'!veranstaltung runde {event} "Runde 2" 13:00-13:45')
    await mod.command(room, f'!veranstaltung runde {event} "Runde 3" 15:00-15:45')
    await mod.command(room, f"!veranstaltung programm {event} 12:00 Mittagspause")
    await mod.command(room, f"!veranstaltung öffnen {event}")
    ids = {}
    for title, extra in (("Eins", " --kapazität 1"), ("Zwei", ""), ("Drei", "")):
        ids[title] = proposed(await mod.command(room, f'!session vorschlagen "{title}"{extra}'), title)
    await mod.command(room, f"!session einplanen {ids['Eins']} 1 Raum Spree")
    await mod.command(room, f"!session einplanen {ids['Zwei']} 2")
    await mod.command(room, f"!session einplanen {ids['Drei']} 1")
    await mod.command(room, f"!veranstaltung veröffentlichen {event}")
    await anna.command(room, f"!anmelden {ids['Eins']}")

    # The link comes by direct message; the room only hears where it went.
    before = len(anna.received)
    reply = await anna.command(room, "!kalender abonnieren")
    assert de("webviews_link_sent_direct") in reply.body
    link = await link_from_dm(anna, web_bot, before)

    # Once sent, the token is cut out of the bot's outbox table: the database keeps only its hash.
    token = link.rsplit("/", 1)[1].removesuffix(".ics")
    await anna.wait_until(lambda: not outbox_mentions(web_bot, token))
    assert outbox_mentions(web_bot, "/cal/[removed].ics")

    status, headers, body = await fetch(link)
    assert status == 200
    assert headers["Content-Type"].startswith("text/calendar")
    calendar = icalendar.Calendar.from_ical(body)
    assert [str(tz["tzid"]) for tz in calendar.walk("VTIMEZONE")] == ["Europe/Berlin"]
    entries = vevents(body)
    eins_uid = f"session-{ids['Eins']}@community-bot"
    assert list(entries) == [eins_uid]  # only anna's session, nothing of the rest
    eins = entries[eins_uid]
    assert str(eins["summary"]) == "Eins"
    assert int(eins["sequence"]) == 0
    assert str(eins["status"]) == "CONFIRMED"
    assert str(eins["location"]) == "Raum Spree"
    assert eins.decoded("dtstart").tzinfo.key == "Europe/Berlin"
    assert eins.decoded("dtstart").hour == 11
    assert [str(e["summary"]) for e in second_parser(body)] == ["Eins"]
    etag = headers["ETag"]
    status, _, empty = await fetch(link, **{"If-None-Match": etag})
    assert (status, empty) == (304, b"")
    assert (await fetch(link))[1]["ETag"] == etag  # unchanged data, same bytes

    # A sign-up to another session: new ETag, new entry.
    await anna.command(room, f"!anmelden {ids['Zwei']}")
    status, headers, body = await fetch(link, **{"If-None-Match": etag})
    assert status == 200
    assert headers["ETag"] != etag
    zwei_uid = f"session-{ids['Zwei']}@community-bot"
    assert set(vevents(body)) == {eins_uid, zwei_uid}
    assert len(second_parser(body)) == 2

    # The session moves: SEQUENCE and LAST-MODIFIED grow, the UID stays.
    first_modified = vevents(body)[zwei_uid].decoded("last-modified")
    await mod.command(room, f"!session einplanen {ids['Zwei']} 3")
    _, _, body = await fetch(link)
    zwei = vevents(body)[zwei_uid]
    assert int(zwei["sequence"]) == 1
    assert zwei.decoded("dtstart").hour == 15
    assert zwei.decoded("last-modified") >= first_modified

    # Cancelled: stays in the calendar as cancelled.
    await mod.command(room, f"!session absagen {ids['Eins']}")
    _, _, body = await fetch(link)
    eins = vevents(body)[eins_uid]
    assert str(eins["status"]) == "CANCELLED"
    assert int(eins["sequence"]) == 1

    # Wait-listed and hosted are marked; "alle" adds the rest of the program.
    await mod.command(room, f"!session kapazität {ids['Zwei']} 1")
    await bert.command(room, f"!anmelden {ids['Zwei']}")
    await bert.command(room, f"!anmelden {ids['Drei']}")
    before = len(bert.received)
    await bert.command(room, "!calendar subscribe")
    bert_link = await link_from_dm(bert, web_bot, before)
    bert_entries = vevents((await fetch(bert_link))[2])
    waiting = bert_entries[zwei_uid]
    assert str(waiting["summary"]) == de("webviews_feed_waitlisted", title="Zwei")
    assert str(waiting["status"]) == "TENTATIVE"
    drei_uid = f"session-{ids['Drei']}@community-bot"
    assert drei_uid not in vevents((await fetch(link))[2])
    exists = await anna.command(room, "!kalender abonnieren alle")
    assert de("webviews_subscribe_exists", p="!", scope=de("webviews_scope_all")) in exists.body
    all_entries = vevents((await fetch(link))[2])
    assert drei_uid in all_entries
    (lunch,) = [entry for entry in all_entries.values() if str(entry["summary"]) == "Mittagspause"]
    assert str(lunch["uid"]).startswith("program-")
    assert lunch.decoded("dtstart").hour == 12
    assert lunch.decoded("dtend").hour == 13, "until the next session round"
    assert de("webviews_feed_program_item", title="Kalendercamp") in str(lunch["description"])
    before = len(mod.received)
    await mod.command(room, "!kalender abonnieren")
    mod_entries = vevents((await fetch(await link_from_dm(mod, web_bot, before)))[2])
    assert de("webviews_feed_role_host") in str(mod_entries[drei_uid]["description"])

    # A new link: the old one is gone, with the same answer as a token that never existed.
    before = len(anna.received)
    await anna.command(room, "!kalender link neu")
    new_link = await link_from_dm(anna, web_bot, before)
    assert new_link != link
    revoked = await fetch(link)
    never = await fetch(link.rsplit("/", 1)[0] + f"/{secrets.token_urlsafe(20)}.ics")
    assert revoked[0] == never[0] == 404
    assert revoked[2] == never[2]
    assert (await fetch(new_link))[0] == 200

    # Export lists the subscription (never the token); erasure deletes it.
    before = len(anna.received)
    await anna.command(room, "!datenschutz export")
    direct = await anna.direct_room_with(web_bot.user_id)
    await anna.wait_until(
        lambda: any(m.msgtype == "m.file" and m.room_id == direct for m in anna.received[before:])
    )
    exported = next(m for m in anna.received[before:] if m.msgtype == "m.file" and m.room_id == direct)
    data = json.loads(await anna.download(exported.content))
    assert data["webviews"]["calendar_feed"]["scope"] == "all"
    assert new_link.rsplit("/", 1)[1].removesuffix(".ics") not in json.dumps(data)
    await anna.command(room, "!datenschutz löschen")
    await anna.command(room, "!datenschutz bestätigen")
    assert (await fetch(new_link))[0] == 404
    missing = await anna.command(room, "!kalender link neu")
    assert de("webviews_error_no_link", p="!").split("`")[0] in missing.body


async def test_token_guessing_is_rate_limited(web_bot: BotProcess) -> None:
    base = f"http://127.0.0.1:{WEB_PORT}/cal/"
    statuses = [(await fetch(base + secrets.token_urlsafe(20) + ".ics"))[0] for _ in range(15)]
    assert set(statuses[:5]) == {404}
    assert statuses[-1] == 429
    assert (await fetch(f"http://127.0.0.1:{WEB_PORT}/healthz"))[0] == 200  # only guessing is slowed down

"""The live agenda page in a real browser (Debian's headless Chromium, no downloads) and the Matrix widget:
``!veranstaltung widget`` without the power level (the bot says which one it needs and sends the link), with
it (the state event carries the page's URL, pinned by Element's layout event), the page's DOM with and
without JavaScript, free seats after a sign-up, the script's refresh under the strict CSP, removal → 404."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import aiohttp
from nio import RoomGetStateEventResponse, RoomPutStateResponse

from bot.app import build_catalog
from bot.devserver import free_port
from bot.features import discover_features
from tests.catalog import esc, number_in, says
from tests.e2e.harness import BotProcess, Member, module_bot
from tests.e2e.test_sessions import event_tomorrow, room_with_bot

WEB_PORT = free_port()
page_bot = module_bot(
    "webpage",
    f"\n[web]\nenabled = true\nport = {WEB_PORT}\npublic_url = 'http://127.0.0.1:{WEB_PORT}'\n",
)
T = build_catalog(discover_features()).translator
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Set to a directory (e.g. docs) to keep the browser's screenshot of the page there.
SCREENSHOT_DIR = os.environ.get("COMMUNITY_BOT_SCREENSHOT_DIR")


class Page(HTMLParser):
    """What a reader sees: the language, the heading, program rows and each session's text."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.lang = ""
        self.main: dict[str, str] = {}
        self.h1 = ""
        self.items: list[str] = []
        self.rounds: list[str] = []
        self.sessions: dict[int, str] = {}
        self._stack: list[tuple[str, str]] = []  # (what is collected, key)
        self._text: dict[tuple[str, str], list[str]] = {}
        self.feed(html)
        for (kind, key), parts in self._text.items():
            text = " ".join("".join(parts).split())
            if kind == "session":
                self.sessions[int(key)] = text
            elif kind == "item":
                self.items.append(text)
            elif kind == "round":
                self.rounds.append(text)
            elif kind == "h1":
                self.h1 = text

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "html":
            self.lang = a.get("lang", "")
        if tag == "main":
            self.main = a
        kind = None
        if tag == "li" and "data-session" in a:
            kind = ("session", a["data-session"])
        elif tag == "li" and a.get("class") == "item":
            kind = ("item", str(len(self._text)))
        elif tag == "h3":
            kind = ("round", str(len(self._text)))
        elif tag == "h1":
            kind = ("h1", "")
        if kind is not None:
            self._text.setdefault(kind, [])
        self._stack.append(kind or ("", ""))

    def handle_endtag(self, tag: str) -> None:
        if self._stack:
            self._stack.pop()

    def handle_data(self, data: str) -> None:
        for kind in self._stack:
            if kind[0]:
                self._text[kind].append(data)


def chromium(url: str, profile: Path, *extra: str) -> str:
    """The rendered DOM as headless Chromium serialises it."""
    args = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={profile}",
        *extra,
        url,
    ]
    result = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


async def dom(url: str, profile: Path, *extra: str) -> Page:
    return Page(await asyncio.to_thread(chromium, url, profile, "--dump-dom", *extra))


async def state(member: Member, room_id: str, event_type: str, key: str) -> dict[str, Any] | None:
    response = await member.client.room_get_state_event(room_id, event_type, key)
    return dict(response.content) if isinstance(response, RoomGetStateEventResponse) else None


async def test_widget_and_the_agenda_page_in_a_real_browser(
    page_bot: BotProcess, member_factory, tmp_path: Path
) -> None:
    de = T("de")
    mod, anna = await member_factory("pagemod"), await member_factory("pageanna")
    room = await room_with_bot(mod, page_bot, [anna], "Seitencamp")
    await mod.client.set_displayname("Moderatorin Mia")
    event = await event_tomorrow(mod, room, "Seitencamp")
    await mod.command(room, f'!veranstaltung programm {event} 09:30 "Begrüßung"')
    await mod.command(room, f'!veranstaltung runde {event} "Runde 1" 11:00-11:45')
    await mod.command(room, f"!veranstaltung öffnen {event}")
    proposed = await mod.command(room, '!session vorschlagen "Barrierefreiheit <testen>" --kapazität 2')
    session = number_in(
        proposed.body, "sessions_proposed", "session_id", title=esc("Barrierefreiheit <testen>")
    )
    await mod.command(room, f"!session einplanen {session} 1 Raum Havel")

    not_yet = await mod.command(room, f"!veranstaltung widget {event}")
    assert de("webviews_widget_not_published", p="!", event_id=event).split(":")[0] in not_yet.body
    await mod.command(room, f"!veranstaltung veröffentlichen {event}")
    assert "Moderator" in (await anna.command(room, f"!veranstaltung widget {event}")).body

    # The bot has power level 0 here; widgets need the room's state_default (50).
    refused = await mod.command(room, f"!veranstaltung widget {event}")
    url_match = re.search(r"<(http://127\.0\.0\.1:\d+/e/[A-Za-z0-9_-]+)>", refused.body)
    assert url_match, refused.body
    first_url = url_match.group(1)
    expected = de("webviews_widget_no_power", title="Seitencamp", url=first_url, needed=50, have=0)
    assert expected in refused.body
    assert await state(mod, room, "im.vector.modular.widgets", f"community-bot-agenda-{event}") is None

    # With power level 50 the widget is added; a new link replaces the first one.
    levels = await state(mod, room, "m.room.power_levels", "")
    assert levels is not None
    levels["users"] = {**levels.get("users", {}), page_bot.user_id: 50}
    put = await mod.client.room_put_state(room, "m.room.power_levels", levels)
    assert isinstance(put, RoomPutStateResponse)
    for _ in range(20):  # the bot learns the new levels with its next sync
        added = await mod.command(room, f"!veranstaltung widget {event}")
        if says(added.body, "webviews_widget_added", title="Seitencamp"):
            break
        await asyncio.sleep(0.5)
    url = re.search(r"<(http://127\.0\.0\.1:\d+/e/[A-Za-z0-9_-]+)>", added.body)
    assert url, added.body
    page_url = url.group(1)
    assert de("webviews_widget_added", title="Seitencamp", url=page_url) in added.body
    content = await state(mod, room, "im.vector.modular.widgets", f"community-bot-agenda-{event}")
    assert content is not None
    assert content["url"] == page_url
    assert content["type"] == "m.custom"
    layout = await state(mod, room, "io.element.widgets.layout", "")
    assert layout is not None
    assert layout["widgets"][f"community-bot-agenda-{event}"]["container"] == "top"
    async with aiohttp.ClientSession() as http:
        async with http.get(first_url) as response:
            assert response.status == 404
        async with http.get(page_url) as response:
            assert response.status == 200
            assert "script-src 'self'" in response.headers["Content-Security-Policy"]
            assert "'unsafe-inline'" not in response.headers["Content-Security-Policy"]
            assert response.headers["X-Content-Type-Options"] == "nosniff"
            assert response.headers["Referrer-Policy"] == "no-referrer"

    # Without JavaScript the page as served has everything (a reader without scripts sees this HTML).
    async with aiohttp.ClientSession() as http, http.get(page_url) as response:
        served = Page(await response.text())
    assert "data-live" not in served.main
    assert served.sessions.keys() == {session}
    # Rendered by Chromium: program rows, hosts by display name, free seats; the script ran under the CSP.
    profile = tmp_path / "chromium"
    page = await dom(page_url, profile)
    assert page.main.get("data-live") == "on"
    assert page.sessions == served.sessions
    assert page.lang == "de"
    assert page.h1 == "Seitencamp"
    assert page.items == ["09:30 Begrüßung"]
    assert page.rounds == ["11:00–11:45 Runde 1"]
    text = page.sessions[session]
    assert "Barrierefreiheit <testen>" in text
    assert de("webviews_page_hosts", hosts="Moderatorin Mia") in text
    assert mod.user_id not in text
    assert de("webviews_page_location", location="Raum Havel") in text
    assert de("webviews_page_seats_free", free=2, capacity=2) in text

    # A sign-up changes the seats; the script's refresh (30 s of virtual time) fetches the program again.
    await anna.command(room, f"!anmelden {session}")
    page = await dom(page_url, profile, "--virtual-time-budget=65000")
    assert int(page.main.get("data-refreshed", "0")) >= 1
    assert de("webviews_page_seats_free", free=1, capacity=2) in page.sessions[session]
    if SCREENSHOT_DIR:
        target = Path(SCREENSHOT_DIR) / "agenda-page.png"
        await asyncio.to_thread(
            chromium,
            page_url,
            profile,
            f"--screenshot={target}",
            "--window-size=412,780",
            "--hide-scrollbars",
        )
        assert target.stat().st_size > 1000

    # English room, English page.
    await mod.command(room, "!raumsprache en")
    page = await dom(page_url, profile)
    assert page.lang == "en"
    assert T("en")("webviews_page_seats_free", free=1, capacity=2) in page.sessions[session]

    # Removed: the state event is emptied and the link is dead.
    removed = await mod.command(room, f"!veranstaltung widget {event} entfernen")
    assert de("webviews_widget_removed", title="Seitencamp") in removed.body  # German command, German answer
    assert await state(mod, room, "im.vector.modular.widgets", f"community-bot-agenda-{event}") == {}
    async with aiohttp.ClientSession() as http, http.get(page_url) as response:
        assert response.status == 404

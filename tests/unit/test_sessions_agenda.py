"""Agenda, session details, "my sessions" and the iCal export of the sessions feature."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import icalendar
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.format import to_html
from bot.i18n import Catalog, Translate
from commands.sessions.agenda import agenda_pages, my_sessions, session_details
from commands.sessions.ical import calendar_ics
from commands.sessions.rules import (
    EventView,
    ProgramItemView,
    SessionView,
    SignupState,
    SignupView,
    SlotView,
    with_prefix,
)

CATALOG = Catalog.from_files([Path("commands/sessions/messages.toml")])

EVENT = EventView(1, "NExTcamp 2025", date(2025, 5, 15), "Europe/Berlin", "published")
ITEMS = [
    ProgramItemView(time(9, 30), "Begrüßung"),
    ProgramItemView(time(11, 15), "Sessionrunde 1"),  # names the slot below: shown once, as the slot
    ProgramItemView(time(12, 0), "Mittagspause"),
    ProgramItemView(time(16, 40), "Get-together"),
]
ROUND_1 = SlotView(1, "Sessionrunde 1", time(11, 15), time(12, 0))
ROUND_2 = SlotView(2, "Sessionrunde 2", time(13, 5), time(13, 50))
SLOTS = [ROUND_2, ROUND_1]
OZG = SessionView(
    12, "OZG-Umsetzung", "Wie weit sind wir?", ("Anna",), "Technologie", 20, 1, "Raum A", "scheduled", 12, 3
)
AGILE = SessionView(
    13, "Agil führen", "", ("Bob", "Cem"), None, None, 1, "https://meet.example.org/agil", "scheduled", 4, 0
)
CANCELLED = SessionView(14, "Abgesagt", "", ("Dora",), None, 10, 1, None, "cancelled", 0, 0)
PROPOSAL = SessionView(15, "Idee", "", ("Eva",), None, 10, None, None, "proposed", 0, 0)
SESSIONS = [PROPOSAL, CANCELLED, AGILE, OZG]


@pytest.fixture
def de() -> Translate:
    return with_prefix(CATALOG.translator("de"), "!")


@pytest.fixture
def en() -> Translate:
    return with_prefix(CATALOG.translator("en"), "!")


# --- agenda -----------------------------------------------------------------------------------------------


def test_agenda_exact_markdown_german(de: Translate) -> None:
    assert agenda_pages(EVENT, ITEMS, SLOTS, SESSIONS, de) == [
        "## NExTcamp 2025 – Do, 15.05.2025\n"
        "\n"
        "**09:30** Begrüßung\n"
        "\n"
        "**11:15–12:00 Sessionrunde 1**\n"
        "- **OZG\\-Umsetzung** (Nr. 12) – 12/20 Plätze · Warteliste: 3 · Raum: Raum A · mit Anna\n"
        "- **Agil führen** (Nr. 13) – 4 angemeldet · Raum: <https://meet.example.org/agil> · mit Bob, Cem\n"
        "- Abgesagt (Nr. 14) – abgesagt\n"
        "\n"
        "**12:00** Mittagspause\n"
        "\n"
        "**13:05–13:50 Sessionrunde 2**\n"
        "_Noch keine Sessions eingeplant._\n"
        "\n"
        "**16:40** Get\\-together\n"
        "\n"
        "**Vorschläge ohne Zeitfenster**\n"
        "- **Idee** (Nr. 15) – 0/10 Plätze · mit Eva"
    ]


def test_agenda_english_uses_english_date_and_words(en: Translate) -> None:
    page = agenda_pages(EVENT, ITEMS, SLOTS, [OZG], en)[0]

    assert page.splitlines()[0] == "## NExTcamp 2025 – Thu, 15 May 2025"
    assert "- **OZG\\-Umsetzung** (no. 12) – 12/20 seats · Waiting list: 3 · Room: Raum A · with Anna" in page


def test_agenda_accepts_a_date_formatter(de: Translate) -> None:
    calls: list[tuple[date, str]] = []

    def format_date(day: date, language: str) -> str:
        calls.append((day, language))
        return "FORMATTED"

    page = agenda_pages(EVENT, [], [], [], de, format_date=format_date)[0]

    assert calls == [(date(2025, 5, 15), "de")]
    assert page.splitlines()[0] == "## NExTcamp 2025 – FORMATTED"


def test_empty_agenda_says_what_to_type(de: Translate) -> None:
    assert agenda_pages(EVENT, [], [], [], de) == [
        "## NExTcamp 2025 – Do, 15.05.2025\n\nNoch kein Programm. Moderation: "
        '`!veranstaltung programm <id> <HH:MM> "<Punkt>"` und '
        '`!veranstaltung zeitfenster <id> "<Name>" <HH:MM>-<HH:MM>`'
    ]


def test_agenda_markdown_renders_as_paragraphs_and_lists(de: Translate) -> None:
    html = to_html(agenda_pages(EVENT, ITEMS, SLOTS, SESSIONS, de)[0])

    # Blank lines between blocks keep "**12:00** Mittagspause" out of the session list above it.
    assert "<li><strong>OZG-Umsetzung</strong> (Nr. 12)" in html
    assert "<p><strong>12:00</strong> Mittagspause</p>" in html
    assert html.count("<ul>") == 2


def test_user_text_is_escaped_everywhere(de: Translate) -> None:
    hostile = replace(
        OZG,
        title="<b>Fett</b> @room",
        description="<img src=x> [link](https://evil.example)",
        hosts=("<i>Mallory</i>",),
        location="<script>alert(1)</script>",
        theme="**laut**",
    )
    items = [ProgramItemView(time(9, 0), "@room <b>Pause</b>")]
    slots = [replace(ROUND_1, name="<u>Runde</u>")]
    event = replace(EVENT, title="Camp <b>@room</b>")

    agenda = agenda_pages(event, items, slots, [hostile], de)[0]
    details = session_details(hostile, slots[0], de)
    mine = my_sessions(
        event, slots, [hostile], [SignupView("u", 12, SignupState.CONFIRMED, None, datetime(2025, 5, 1))], de
    )

    assert "- **\\<b\\>Fett\\</b\\> @\u2060room** (Nr. 12)" in agenda
    assert "**09:00** @\u2060room \\<b\\>Pause\\</b\\>" in agenda
    for text in (agenda, details, mine):
        html = to_html(text)
        assert not re.search(r"<(b|i|u|script|img)\b", html), html
        assert "@room" not in html
        assert "<a " not in html
        assert "&lt;b&gt;" in html or "&lt;i&gt;" in html


# --- pagination -------------------------------------------------------------------------------------------


def _numbered_sessions(count: int, slot_id: int = 1) -> list[SessionView]:
    return [
        SessionView(100 + n, f"S{n}", "", (), None, 10, slot_id, None, "scheduled", 0, 0)
        for n in range(count)
    ]


def test_pagination_exact_pages(de: Translate) -> None:
    items = [
        ProgramItemView(time(9, 30), "A"),
        ProgramItemView(time(9, 55), "B"),
        ProgramItemView(time(12, 0), "C"),
    ]
    slot = SlotView(1, "Runde 1", time(11, 15), time(12, 0))

    pages = agenda_pages(EVENT, items, [slot], _numbered_sessions(4), de, max_lines=5)

    head = "## NExTcamp 2025 – Do, 15.05.2025 ({page}/4)\n\n"
    assert pages == [
        head.format(page=1) + "**09:30** A\n**09:55** B",
        head.format(page=2) + "**11:15–12:00 Runde 1**\n"
        "- **S0** (Nr. 100) – 0/10 Plätze\n"
        "- **S1** (Nr. 101) – 0/10 Plätze",
        head.format(page=3) + "**11:15–12:00 Runde 1** _(Fortsetzung)_\n"
        "- **S2** (Nr. 102) – 0/10 Plätze\n"
        "- **S3** (Nr. 103) – 0/10 Plätze",
        head.format(page=4) + "**12:00** C",
    ]


def test_short_agenda_is_one_page_without_page_numbers(de: Translate) -> None:
    pages = agenda_pages(EVENT, [], [ROUND_1], _numbered_sessions(30), de, max_lines=40)

    assert len(pages) == 1
    assert pages[0].splitlines()[0] == "## NExTcamp 2025 – Do, 15.05.2025"
    assert len(pages[0].splitlines()) == 33


def test_max_lines_too_small_is_rejected(de: Translate) -> None:
    with pytest.raises(ValueError, match="at least 4"):
        agenda_pages(EVENT, [], [], [], de, max_lines=3)


_SLOT_HEADER = re.compile(r"^\*\*\d\d:\d\d–\d\d:\d\d ")


@settings(max_examples=150, deadline=None)
@given(
    sizes=st.lists(st.integers(min_value=0, max_value=12), min_size=1, max_size=5),
    item_count=st.integers(min_value=0, max_value=8),
    max_lines=st.integers(min_value=4, max_value=25),
)
def test_pagination_invariants(sizes: list[int], item_count: int, max_lines: int) -> None:
    de = with_prefix(CATALOG.translator("de"), "!")
    slots = [SlotView(n + 1, f"Runde {n + 1}", time(10 + n, 0), time(10 + n, 45)) for n in range(len(sizes))]
    sessions = [
        SessionView(1000 * slot.id + k, f"T{slot.id}x{k}", "", (), None, 5, slot.id, None, "scheduled", 0, 0)
        for slot, size in zip(slots, sizes, strict=True)
        for k in range(size)
    ]
    items = [ProgramItemView(time(8, n), f"P{n}") for n in range(item_count)]

    pages = agenda_pages(EVENT, items, slots, sessions, de, max_lines=max_lines)

    listed: list[str] = []
    for page in pages:
        lines = page.splitlines()
        assert len(lines) <= max_lines
        assert lines[-1] != ""
        for index, line in enumerate(lines):
            if _SLOT_HEADER.match(line):
                # A slot header is always followed by its first session (or the "none yet" line).
                assert index + 1 < len(lines)
                assert lines[index + 1].startswith(("- ", "_"))
            if line.startswith("- "):
                listed.append(line.split("**")[1])
    assert listed == [session.title for session in sessions]
    assert len(pages) == 1 or all(f"({n}/{len(pages)})" in page for n, page in enumerate(pages, start=1))


# --- details and my sessions ------------------------------------------------------------------------------


def test_session_details_exact(de: Translate) -> None:
    assert session_details(OZG, ROUND_1, de) == (
        "**OZG\\-Umsetzung** (Nr. 12)\n"
        "Sessionrunde 1, 11:15–12:00\n"
        "Raum: Raum A\n"
        "Leitung: Anna\n"
        "Thema: Technologie\n"
        "12/20 Plätze · Warteliste: 3\n"
        "\n"
        "Wie weit sind wir?\n"
        "\n"
        "Anmelden: `!anmelden 12` · Abmelden: `!abmelden 12`"
    )


def test_session_details_of_proposal_and_cancelled_session(de: Translate) -> None:
    assert session_details(PROPOSAL, None, de) == (
        "**Idee** (Nr. 15)\nNoch keinem Zeitfenster zugeordnet.\nLeitung: Eva\n0/10 Plätze"
    )
    assert session_details(CANCELLED, ROUND_1, de) == (
        "**Abgesagt** (Nr. 14)\nDiese Session wurde abgesagt.\nLeitung: Dora"
    )


def test_my_sessions_in_time_order(de: Translate) -> None:
    signups = [
        SignupView("u", 13, SignupState.WAITLISTED, 2, datetime(2025, 5, 1)),
        SignupView("u", 12, SignupState.CONFIRMED, None, datetime(2025, 5, 1)),
    ]
    late = replace(PROPOSAL, id=16, title="Nachmittag", slot_id=2, status="scheduled")

    text = my_sessions(EVENT, SLOTS, [*SESSIONS, late], signups, de, hosted_session_ids={15, 16})

    assert text == (
        "**Deine Sessions – NExTcamp 2025, Do, 15.05.2025**\n"
        "\n"
        "- **11:15–12:00** OZG\\-Umsetzung (Nr. 12) – angemeldet · Raum: Raum A\n"
        "- **11:15–12:00** Agil führen (Nr. 13) – Warteliste, Platz 2 · Raum: <https://meet.example.org/agil>\n"
        "- **13:05–13:50** Nachmittag (Nr. 16) – du leitest diese Session\n"
        "- **ohne Zeitfenster** Idee (Nr. 15) – du leitest diese Session"
    )


def test_my_sessions_empty(en: Translate) -> None:
    assert my_sessions(EVENT, SLOTS, SESSIONS, [], en) == (
        "**Your sessions – NExTcamp 2025, Thu, 15 May 2025**\n\n"
        "You have not signed up for any session yet. `!agenda` shows the whole program, "
        "`!signup <no.>` signs you up."
    )


# --- iCal -------------------------------------------------------------------------------------------------

STAMP = datetime(2025, 5, 1, 12, 0, tzinfo=UTC)


def _events(ics: bytes) -> dict[str, icalendar.cal.Component]:
    calendar = icalendar.Calendar.from_ical(ics)
    return {str(component["UID"]): component for component in calendar.walk("VEVENT")}


def test_ics_parses_back_with_berlin_times(de: Translate) -> None:
    morning = SlotView(3, "Frühe Runde", time(9, 30), time(10, 15))
    early = replace(OZG, id=21, slot_id=3)

    ics = calendar_ics(EVENT, [*SLOTS, morning], [*SESSIONS, early], generated_at=STAMP, t=de)

    calendar = icalendar.Calendar.from_ical(ics)
    assert str(calendar["VERSION"]) == "2.0"
    assert str(calendar["PRODID"]) == "-//NExT community-bot//sessions//DE"
    assert [str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")] == ["Europe/Berlin"]
    events = _events(ics)
    # Cancelled (14) and unscheduled (15) sessions are not in the calendar.
    assert sorted(events) == [
        "session-12@community-bot",
        "session-13@community-bot",
        "session-21@community-bot",
    ]
    ozg = events["session-21@community-bot"]
    start, end = ozg.decoded("DTSTART"), ozg.decoded("DTEND")
    assert ozg["DTSTART"].params["TZID"] == "Europe/Berlin"
    assert str(start.tzinfo) == "Europe/Berlin"
    # 09:30 in Berlin in May (CEST, UTC+2) is 07:30 UTC.
    assert start.astimezone(UTC) == datetime(2025, 5, 15, 7, 30, tzinfo=UTC)
    assert end.astimezone(UTC) == datetime(2025, 5, 15, 8, 15, tzinfo=UTC)
    assert str(ozg["SUMMARY"]) == "OZG-Umsetzung"
    assert str(ozg["LOCATION"]) == "Raum A"
    assert str(ozg["DESCRIPTION"]) == "Leitung: Anna\n\nWie weit sind wir?"
    assert ozg.decoded("DTSTAMP") == STAMP
    agile = events["session-13@community-bot"]
    assert agile.decoded("DTSTART").astimezone(UTC) == datetime(2025, 5, 15, 9, 15, tzinfo=UTC)
    assert str(agile["LOCATION"]) == "https://meet.example.org/agil"


def test_ics_winter_event_uses_standard_time() -> None:
    winter = replace(EVENT, day=date(2025, 1, 15))

    events = _events(calendar_ics(winter, [ROUND_1], [OZG], generated_at=STAMP))

    start = events["session-12@community-bot"].decoded("DTSTART")
    # CET, UTC+1.
    assert start.astimezone(UTC) == datetime(2025, 1, 15, 10, 15, tzinfo=UTC)
    assert start.utcoffset() == timedelta(hours=1)


def test_ics_uid_is_stable_and_text_is_kept_verbatim() -> None:
    tricky = replace(OZG, title="Komma, Semikolon; <b>@room</b>", description="Zeile 1\nZeile 2")

    first = calendar_ics(EVENT, SLOTS, [tricky], generated_at=STAMP)
    second = calendar_ics(EVENT, SLOTS, [tricky], generated_at=STAMP)

    assert first == second
    entry = _events(first)["session-12@community-bot"]
    assert str(entry["SUMMARY"]) == "Komma, Semikolon; <b>@room</b>"
    assert str(entry["DESCRIPTION"]) == "Zeile 1\nZeile 2"

"""Results of sessions (pure part): what ``!ergebnis`` texts mean, the limits, how results are shown (session
details, the plenum summary, calendar descriptions, the digest section)."""

from __future__ import annotations

from datetime import date, time
from pathlib import Path

import icalendar
import pytest

from bot.format import to_html
from bot.i18n import Catalog, Translate
from commands.digest.results_section import SessionResults, results_blocks
from commands.sessions.ical import calendar_ics
from commands.sessions.results_format import (
    MAX_POINTS,
    MAX_RESULT_TEXT,
    ResultAction,
    ResultEntry,
    ResultKind,
    ResultVerb,
    check_result,
    links_in,
    parse_result_answer,
    parse_result_input,
    plenum_summary,
    result_kind,
    results_block,
    results_plain,
)
from commands.sessions.rules import EventView, SessionView, SlotView, with_prefix
from tests.catalog import says

CATALOG = Catalog.from_files([Path("commands/sessions/messages.toml"), Path("commands/digest/messages.toml")])
DE: Translate = with_prefix(CATALOG.translator("de"), "!")
EN: Translate = with_prefix(CATALOG.translator("en"), "!")

POINT = ResultEntry(ResultKind.POINT, "Wir gründen eine AG")
LINK = ResultEntry(ResultKind.LINK, "https://example.org/protokoll")
SLOT_1 = SlotView(1, "Zeitfenster 1", time(11, 15), time(12, 0))
SLOT_2 = SlotView(2, "Zeitfenster 2", time(13, 5), time(13, 50))


def session(
    session_id: int, slot_id: int | None, *, status: str = "scheduled", hosts: tuple[str, ...] = ("@h:x",)
) -> SessionView:
    return SessionView(session_id, f"Session {session_id}", "", hosts, None, 10, slot_id, None, status, 0, 0)


def check(action: ResultAction, existing: list[ResultEntry], **kwargs: object) -> str | None:
    options: dict[str, object] = {"session_id": 5, "status": "scheduled", "scheduled": True, **kwargs}
    problem = check_result(action, existing, **options)  # type: ignore[arg-type]
    return problem.key if problem else None


# --- parsing ----------------------------------------------------------------------------------------------


def test_a_bare_address_is_a_link_anything_else_a_key_point() -> None:
    assert result_kind("https://example.org/x") is ResultKind.LINK
    assert result_kind("  http://example.org  ") is ResultKind.LINK
    assert result_kind("Siehe https://example.org") is ResultKind.POINT
    assert result_kind("javascript:alert(1)") is ResultKind.POINT


@pytest.mark.parametrize(
    ("text", "verb", "index", "rest"),
    [
        ("Wir gründen eine AG", ResultVerb.ADD, None, "Wir gründen eine AG"),
        ("löschen", ResultVerb.CLEAR, None, ""),
        ("delete 2", ResultVerb.CLEAR, 2, ""),
        ("Löschen #3", ResultVerb.CLEAR, 3, ""),
        ("ersetzen 1 Neuer Text hier", ResultVerb.REPLACE, 1, "Neuer Text hier"),
        ("replace 2 https://example.org", ResultVerb.REPLACE, 2, "https://example.org"),
        # Words that merely start like an instruction are a key point.
        ("Löschen von Altakten ist geregelt", ResultVerb.ADD, None, "Löschen von Altakten ist geregelt"),
        ("ersetzen ohne Nummer", ResultVerb.ADD, None, "ersetzen ohne Nummer"),
    ],
)
def test_parse_result_input(text: str, verb: ResultVerb, index: int | None, rest: str) -> None:
    action = parse_result_input(text)
    assert (action.verb, action.index, action.text) == (verb, index, rest)


def test_an_answer_with_several_lines_is_one_entry_per_line_without_list_markers() -> None:
    actions = parse_result_answer("1. Erster Punkt\n\n- Zweiter Punkt\n• https://example.org/a\n")
    assert [a.text for a in actions] == ["Erster Punkt", "Zweiter Punkt", "https://example.org/a"]
    assert [a.kind for a in actions] == [ResultKind.POINT, ResultKind.POINT, ResultKind.LINK]
    assert parse_result_answer("löschen 2") == [ResultAction(ResultVerb.CLEAR, index=2)]


# --- limits and refusals ----------------------------------------------------------------------------------


def test_key_points_and_links_have_their_own_limits() -> None:
    three_points = [POINT] * MAX_POINTS
    add_point = parse_result_input("Noch ein Punkt")
    assert check(add_point, three_points) == "sessions_results_error_full"
    assert check(parse_result_input("https://example.org/4"), three_points) is None
    assert (
        check(parse_result_input("https://example.org/4"), [LINK] * 3) == "sessions_results_error_full_links"
    )
    # Replacing one of three key points is fine (the replaced one does not count).
    assert check(parse_result_input("ersetzen 2 Neu"), three_points) is None


def test_refusals_name_the_reason() -> None:
    add = parse_result_input("Punkt")
    assert check(add, [], scheduled=False, status="proposed") == "sessions_results_error_unscheduled"
    assert check(add, [], scheduled=False, status="cancelled") == "sessions_results_error_cancelled"
    assert check(parse_result_input("x" * (MAX_RESULT_TEXT + 1)), []) == "sessions_results_error_too_long"
    assert check(parse_result_input("x" * MAX_RESULT_TEXT), []) is None
    assert check(ResultAction(ResultVerb.ADD, text="  "), []) == "sessions_results_error_empty"
    assert check(parse_result_input("löschen 3"), [POINT]) == "sessions_results_error_unknown_entry"
    assert check(parse_result_input("löschen"), []) == "sessions_results_error_nothing"
    assert check(parse_result_input("löschen"), [POINT]) is None


@pytest.mark.parametrize("language", ["de", "en"])
def test_every_refusal_says_what_to_type_instead(language: str) -> None:
    t = with_prefix(CATALOG.translator(language), "!")
    params: dict[str, object] = {"session_id": 5, "max": 3, "length": 301, "index": 4, "count": 2}
    params |= {"repeat_id": 6, "slot": "9", "slots": "2 = Zeitfenster 2", "title": "X"}
    for key in (
        "sessions_results_error_not_host",
        "sessions_results_error_unscheduled",
        "sessions_results_error_too_long",
        "sessions_results_error_full",
        "sessions_results_error_full_links",
        "sessions_results_error_unknown_entry",
        "sessions_results_error_nothing",
        "sessions_results_error_empty",
        "sessions_results_error_cancelled",
        "sessions_results_error_unknown_event",
        "sessions_repeat_error_not_host",
        "sessions_repeat_error_unscheduled",
        "sessions_repeat_error_already",
        "sessions_repeat_error_slot",
        "sessions_repeat_error_no_slot",
        "sessions_repeat_error_answer",
    ):
        assert "`!" in t(key, **params), key


# --- showing ----------------------------------------------------------------------------------------------


def test_results_block_escapes_points_and_keeps_links_clickable() -> None:
    evil = ResultEntry(ResultKind.POINT, "<b>fett</b> @room [klick](https://evil.example)")
    html = to_html(results_block([evil, LINK], DE))
    assert "<b>fett" not in html
    assert 'href="https://evil.example"' not in html
    assert 'href="https://example.org/protokoll"' in html
    assert "@room" not in html  # neutralised with a word joiner
    assert results_block([], DE) == ""


def test_plenum_summary_per_time_slot_with_hosts_and_sessions_without_results() -> None:
    sessions = [
        session(3, 2),
        session(1, 1, hosts=("@anna:x",)),
        session(2, None, status="proposed"),
        session(4, 1, status="cancelled"),
    ]
    text = plenum_summary(
        "NExTcamp", [SLOT_1, SLOT_2], sessions, {1: [POINT, LINK]}, DE, name_of=lambda u: u[1:].split(":")[0]
    )
    assert says(text, "sessions_results_summary_title", title="NExTcamp")
    assert text.index("Zeitfenster 1") < text.index("Session 1") < text.index("Zeitfenster 2")
    assert "anna" in text
    assert "Wir gründen eine AG" in text
    assert "Session 2" not in text  # not scheduled
    assert "Session 4" not in text  # cancelled
    assert says(text, "sessions_results_summary_none", session_id=3)
    empty = plenum_summary("Leer", [SLOT_1], [], {}, EN)
    assert says(empty, "sessions_results_summary_empty", "en")


def test_plain_results_and_links() -> None:
    text = results_plain([POINT, ResultEntry(ResultKind.POINT, "Mehr auf https://example.org/b")], DE)
    assert text.splitlines()[1:] == ["- Wir gründen eine AG", "- Mehr auf https://example.org/b"]
    assert links_in([POINT, LINK, ResultEntry(ResultKind.POINT, "auch https://example.org/protokoll")]) == [
        "https://example.org/protokoll"
    ]


def test_ical_description_ends_with_the_results() -> None:
    event = EventView(1, "NExTcamp", date(2026, 5, 15), "Europe/Berlin", "published")
    ics = calendar_ics(event, [SLOT_1], [session(1, 1)], t=DE, results={1: [POINT, LINK]})
    entry = next(iter(icalendar.Calendar.from_ical(ics).walk("VEVENT")))
    description = str(entry.get("description"))
    assert description.endswith("- Wir gründen eine AG\n- https://example.org/protokoll")
    without = calendar_ics(event, [SLOT_1], [session(1, 1)], t=DE)
    assert b"Wir gr" not in without


def test_digest_section_only_with_results_and_with_links() -> None:
    assert results_blocks([], DE) == []
    item = SessionResults(7, "Offene *Daten*", "NExTcamp", ("Punkt <b>eins</b>",), ("https://example.org/p",))
    heading, body = results_blocks([item], DE)
    assert heading == "## " + DE("digest_results_heading")
    html = to_html(body)
    assert 'href="https://example.org/p"' in html
    assert "<b>eins" not in html
    assert "<em>" not in html


def test_results_change_the_feed_fingerprint_and_no_results_keep_the_old_one() -> None:
    import hashlib
    from datetime import UTC, datetime

    from commands.webviews.feed import Entry, fingerprint

    start, end = datetime(2026, 5, 15, 9, 15, tzinfo=UTC), datetime(2026, 5, 15, 10, tzinfo=UTC)
    plain = Entry(None, session(1, 1), start, end, "host")  # type: ignore[arg-type]
    old = "\x1f".join((start.isoformat(), end.isoformat(), "", "scheduled", "Session 1"))
    assert fingerprint(plain) == hashlib.sha256(old.encode()).hexdigest()
    with_results = Entry(None, session(1, 1), start, end, "host", results_plain([POINT], DE))  # type: ignore[arg-type]
    assert fingerprint(with_results) != fingerprint(plain)

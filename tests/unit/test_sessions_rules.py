"""Capacity / wait-list rules, input validation and program import of the sessions feature."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.i18n import Catalog, Translate
from commands.sessions.program_import import ImportedSlot, parse_program
from commands.sessions.rules import (
    Problem,
    ProgramItemView,
    SessionStatus,
    SessionView,
    SignupDecision,
    SignupState,
    SignupView,
    SlotView,
    decide_signup,
    find_slot_overlap,
    promote_after_withdrawal,
    promotions_for_capacity,
    render,
    renumber_waitlist,
    slots_overlap,
    validate_capacity,
    validate_event_date,
    validate_slot_times,
    validate_title,
    with_prefix,
)

CATALOG = Catalog.from_files([Path("commands/sessions/messages.toml")])
T0 = datetime(2025, 5, 15, 8, 0)


@pytest.fixture
def de() -> Translate:
    return with_prefix(CATALOG.translator("de"), "!")


def make_session(
    capacity: int | None = 3, *, status: str = SessionStatus.SCHEDULED, slot_id: int | None = 1
) -> SessionView:
    return SessionView(
        id=7,
        title="Agile Verwaltung",
        description="",
        hosts=("@host:example.org",),
        theme=None,
        capacity=capacity,
        slot_id=slot_id,
        location=None,
        status=status,
        confirmed=0,
        waitlisted=0,
    )


def apply(
    signups: list[SignupView],
    decision: SignupDecision,
    user_id: str,
    session_id: int = 7,
) -> list[SignupView]:
    """What the database layer does with an accepted decision (in-memory stand-in)."""
    assert decision.accepted
    assert decision.state is not None
    kept = [s for s in signups if s.user_id != user_id]
    created = T0 + timedelta(seconds=len(signups))
    return [*kept, SignupView(user_id, session_id, decision.state, decision.position, created)]


def sign_up_all(session: SessionView, users: list[str]) -> list[SignupView]:
    signups: list[SignupView] = []
    for user in users:
        decision = decide_signup(
            session, signups, user, is_host=False, other_signup_in_same_slot=None, switch=False
        )
        signups = apply(signups, decision, user)
    return signups


# --- capacity and wait list -------------------------------------------------------------------------------


def test_fill_to_capacity_then_waitlist_in_order() -> None:
    signups = sign_up_all(make_session(capacity=3), ["a", "b", "c", "d", "e", "f"])

    assert [(s.user_id, s.state, s.position) for s in signups] == [
        ("a", SignupState.CONFIRMED, None),
        ("b", SignupState.CONFIRMED, None),
        ("c", SignupState.CONFIRMED, None),
        ("d", SignupState.WAITLISTED, 1),
        ("e", SignupState.WAITLISTED, 2),
        ("f", SignupState.WAITLISTED, 3),
    ]


def test_waitlist_decision_reports_place_in_line(de: Translate) -> None:
    session = make_session(capacity=1)
    signups = sign_up_all(session, ["a", "b"])

    decision = decide_signup(
        session, signups, "c", is_host=False, other_signup_in_same_slot=None, switch=False
    )

    assert (decision.kind, decision.state, decision.position) == ("waitlisted", SignupState.WAITLISTED, 2)
    assert render(decision, de) == (
        "**Agile Verwaltung** (Nr. 7) ist voll. Du stehst auf Platz 2 der Warteliste; "
        "wird ein Platz frei, bekommst du eine Direktnachricht."
    )


def test_unlimited_capacity_always_confirms() -> None:
    signups = sign_up_all(make_session(capacity=None), [f"u{i}" for i in range(50)])

    assert {s.state for s in signups} == {SignupState.CONFIRMED}


def test_already_signed_up_is_not_duplicated(de: Translate) -> None:
    session = make_session(capacity=1)
    signups = sign_up_all(session, ["a", "b", "c"])

    again_confirmed = decide_signup(
        session, signups, "a", is_host=False, other_signup_in_same_slot=None, switch=False
    )
    again_waiting = decide_signup(
        session, signups, "c", is_host=False, other_signup_in_same_slot=None, switch=False
    )

    assert again_confirmed.kind == "already_signed_up"
    assert not again_confirmed.accepted
    assert again_waiting.kind == "already_signed_up"
    assert render(again_waiting, de) == (
        "Du stehst schon auf der Warteliste für **Agile Verwaltung** (Nr. 7), auf Platz 2."
    )


def test_queue_is_served_before_a_newcomer_when_a_seat_is_free() -> None:
    # A seat is free (capacity was raised) but people are still queued: the newcomer joins the queue.
    session = make_session(capacity=2)
    signups = [
        SignupView("a", 7, SignupState.CONFIRMED, None, T0),
        SignupView("b", 7, SignupState.WAITLISTED, 1, T0),
    ]

    decision = decide_signup(
        session, signups, "c", is_host=False, other_signup_in_same_slot=None, switch=False
    )

    assert (decision.kind, decision.position) == ("waitlisted", 2)


def test_promotion_takes_first_by_position_not_by_creation_time() -> None:
    signups = [
        SignupView("a", 7, SignupState.CONFIRMED, None, T0),
        SignupView("late-but-first", 7, SignupState.WAITLISTED, 1, T0 + timedelta(minutes=9)),
        SignupView("early-but-second", 7, SignupState.WAITLISTED, 2, T0 + timedelta(minutes=1)),
    ]

    assert promote_after_withdrawal(signups) == "late-but-first"


def test_promotion_tie_on_position_goes_to_earlier_signup() -> None:
    signups = [
        SignupView("later", 7, SignupState.WAITLISTED, 1, T0 + timedelta(seconds=2)),
        SignupView("earlier", 7, SignupState.WAITLISTED, 1, T0 + timedelta(seconds=1)),
    ]

    assert promote_after_withdrawal(signups) == "earlier"


def test_promotion_sequence_follows_the_queue() -> None:
    signups = sign_up_all(make_session(capacity=2), ["a", "b", "c", "d", "e"])
    promoted: list[str] = []
    for leaving in ["a", "b", "c"]:
        signups = [s for s in signups if s.user_id != leaving]
        winner = promote_after_withdrawal(signups, capacity=2)
        assert winner is not None
        promoted.append(winner)
        signups = [
            replace(s, state=SignupState.CONFIRMED, position=None) if s.user_id == winner else s
            for s in signups
        ]
        signups = [s for s in signups if s.state == SignupState.CONFIRMED] + renumber_waitlist(signups)

    assert promoted == ["c", "d", "e"]
    assert promote_after_withdrawal(signups, capacity=2) is None


def test_no_promotion_while_host_keeps_session_full() -> None:
    # Capacity 2, host took a third seat; one participant leaves: still 2 confirmed, so nobody moves up.
    signups = [
        SignupView("host", 7, SignupState.CONFIRMED, None, T0),
        SignupView("b", 7, SignupState.CONFIRMED, None, T0),
        SignupView("w", 7, SignupState.WAITLISTED, 1, T0),
    ]

    assert promote_after_withdrawal(signups, capacity=2) is None
    assert promote_after_withdrawal(signups) == "w"


def test_capacity_increase_promotes_the_first_waiting_members() -> None:
    signups = sign_up_all(make_session(capacity=2), ["a", "b", "c", "d", "e"])

    assert promotions_for_capacity(signups, 4) == ["c", "d"]
    assert promotions_for_capacity(signups, None) == ["c", "d", "e"]
    assert promotions_for_capacity(signups, 1) == []


def test_renumber_waitlist_closes_gaps() -> None:
    signups = [
        SignupView("a", 7, SignupState.CONFIRMED, None, T0),
        SignupView("x", 7, SignupState.WAITLISTED, 5, T0),
        SignupView("y", 7, SignupState.WAITLISTED, 2, T0),
        SignupView("z", 7, SignupState.WAITLISTED, 9, T0),
    ]

    assert [(s.user_id, s.position) for s in renumber_waitlist(signups)] == [("y", 1), ("x", 2), ("z", 3)]


def test_host_is_never_waitlisted(de: Translate) -> None:
    session = make_session(capacity=2)
    signups = sign_up_all(session, ["a", "b", "c"])

    decision = decide_signup(
        session, signups, "host", is_host=True, other_signup_in_same_slot=None, switch=False
    )

    assert (decision.kind, decision.state, decision.position) == ("confirmed", SignupState.CONFIRMED, None)
    assert render(decision, de) == "Du leitest **Agile Verwaltung** (Nr. 7) – dein Platz ist dir sicher."


def test_waitlisted_member_who_becomes_host_is_confirmed_in_place() -> None:
    session = make_session(capacity=1)
    signups = sign_up_all(session, ["a", "b"])

    decision = decide_signup(
        session, signups, "b", is_host=True, other_signup_in_same_slot=None, switch=False
    )

    assert (decision.kind, decision.replaces_existing) == ("confirmed", True)


def test_same_slot_conflict_needs_switch(de: Translate) -> None:
    session = make_session(capacity=5)
    elsewhere = SignupView("a", 8, SignupState.CONFIRMED, None, T0)

    refused = decide_signup(
        session, [], "a", is_host=False, other_signup_in_same_slot=elsewhere, switch=False
    )
    switched = decide_signup(
        session, [], "a", is_host=False, other_signup_in_same_slot=elsewhere, switch=True
    )

    assert (refused.kind, refused.accepted, refused.withdraw_from_session_id) == (
        "slot_conflict",
        False,
        None,
    )
    assert render(refused, de) == (
        "In diesem Zeitfenster bist du schon für Session Nr. 8 angemeldet – pro Zeitfenster geht eine "
        "Session. Zum Wechseln: `!anmelden 7 wechseln`"
    )
    assert (switched.kind, switched.withdraw_from_session_id) == ("confirmed", 8)
    assert render(switched, de) == (
        "Von Session Nr. 8 abgemeldet.\nDu bist für **Agile Verwaltung** (Nr. 7) angemeldet. "
        "Abmelden: `!abmelden 7`"
    )


def test_switch_into_a_full_session_waitlists() -> None:
    session = make_session(capacity=1)
    signups = sign_up_all(session, ["x"])
    elsewhere = SignupView("a", 8, SignupState.CONFIRMED, None, T0)

    decision = decide_signup(
        session, signups, "a", is_host=False, other_signup_in_same_slot=elsewhere, switch=True
    )

    assert (decision.kind, decision.position, decision.withdraw_from_session_id) == ("waitlisted", 1, 8)


@pytest.mark.parametrize(
    ("status", "slot_id", "event_status", "key"),
    [
        (SessionStatus.CANCELLED, 1, None, "sessions_signup_cancelled"),
        (SessionStatus.PROPOSED, None, None, "sessions_signup_not_scheduled"),
        (SessionStatus.SCHEDULED, None, None, "sessions_signup_not_scheduled"),
        (SessionStatus.SCHEDULED, 1, "draft", "sessions_signup_event_closed"),
        (SessionStatus.SCHEDULED, 1, "over", "sessions_signup_event_closed"),
    ],
)
def test_session_not_open(status: str, slot_id: int | None, event_status: str | None, key: str) -> None:
    session = make_session(status=status, slot_id=slot_id)

    decision = decide_signup(
        session,
        [],
        "a",
        is_host=True,
        other_signup_in_same_slot=None,
        switch=False,
        event_status=event_status,
    )

    assert (decision.kind, decision.key, decision.accepted) == ("not_open", key, False)


def test_no_sign_up_after_the_round() -> None:
    decision = decide_signup(
        make_session(), [], "a", is_host=True, other_signup_in_same_slot=None, switch=False, round_over=True
    )

    assert (decision.kind, decision.key, decision.accepted) == (
        "not_open",
        "sessions_signup_round_over",
        False,
    )


def test_decision_text_escapes_the_title(de: Translate) -> None:
    session = replace(make_session(), title="<b>@room</b>")

    decision = decide_signup(session, [], "a", is_host=False, other_signup_in_same_slot=None, switch=False)

    assert render(decision, de) == (
        "Du bist für **\\<b\\>@\u2060room\\</b\\>** (Nr. 7) angemeldet. Abmelden: `!abmelden 7`"
    )


# Model of concurrent sign-ups: the database serialises the transactions, so any interleaving is some order
# of sign-ups and withdrawals. Whatever the order, nobody is double-booked and capacity holds.
@settings(max_examples=200, deadline=None)
@given(
    capacity=st.integers(min_value=1, max_value=5),
    actions=st.lists(st.tuples(st.booleans(), st.integers(min_value=0, max_value=9)), max_size=60),
)
def test_any_order_of_signups_and_withdrawals_keeps_invariants(
    capacity: int, actions: list[tuple[bool, int]]
) -> None:
    session = make_session(capacity=capacity)
    signups: list[SignupView] = []
    for joining, number in actions:
        user = f"u{number}"
        if joining:
            decision = decide_signup(
                session, signups, user, is_host=False, other_signup_in_same_slot=None, switch=False
            )
            if decision.accepted:
                signups = apply(signups, decision, user)
            continue
        leaving = next((s for s in signups if s.user_id == user), None)
        if leaving is None:
            continue
        signups = [s for s in signups if s.user_id != user]
        if leaving.state == SignupState.CONFIRMED:
            winner = promote_after_withdrawal(signups, capacity=capacity)
            signups = [
                replace(s, state=SignupState.CONFIRMED, position=None) if s.user_id == winner else s
                for s in signups
            ]
        signups = [s for s in signups if s.state == SignupState.CONFIRMED] + renumber_waitlist(signups)

    confirmed = [s for s in signups if s.state == SignupState.CONFIRMED]
    waiting = [s for s in signups if s.state == SignupState.WAITLISTED]
    assert len({s.user_id for s in signups}) == len(signups)
    assert len(confirmed) <= capacity
    assert not waiting or len(confirmed) == capacity
    assert sorted(s.position or 0 for s in waiting) == list(range(1, len(waiting) + 1))


# --- validation -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("capacity", [0, -1])
def test_capacity_must_be_positive(capacity: int, de: Translate) -> None:
    problem = validate_capacity(capacity)

    assert problem == Problem("sessions_error_capacity", {"capacity": capacity})
    assert render(problem, de) == (
        f"Die Kapazität muss mindestens 1 sein (angegeben: {capacity}). "
        "Beispiel: `!session kapazität <Nr.> 20`"
    )
    assert validate_capacity(1) is None


def test_title_length_limit(de: Translate) -> None:
    assert validate_title("x" * 200) is None
    problem = validate_title("x" * 201)
    assert problem == Problem("sessions_error_title_too_long", {"length": 201, "max": 200})
    assert render(problem, de) == (
        "Der Titel ist 201 Zeichen lang, erlaubt sind höchstens 200. Details passen in die Beschreibung."
    )
    assert validate_title("   ") == Problem("sessions_error_title_empty")


def test_event_date_in_the_past(de: Translate) -> None:
    today = date(2025, 5, 15)

    assert validate_event_date(today, today) is None
    problem = validate_event_date(date(2025, 5, 14), today)
    assert problem is not None
    assert render(problem, de) == (
        "Der 14.05.2025 liegt in der Vergangenheit. Bitte ein Datum ab heute angeben, "
        'z. B. `!veranstaltung neu "Barcamp" 15.05.2025`'
    )


def test_end_must_be_after_start(de: Translate) -> None:
    assert validate_slot_times(time(11, 15), time(12, 0)) is None
    assert validate_slot_times(time(11, 15), time(11, 15)) is not None
    problem = validate_slot_times(time(12, 0), time(11, 15))
    assert problem is not None
    assert render(problem, de) == (
        "Das Ende (11:15) muss nach dem Beginn (12:00) liegen. Beispiel: `11:15-12:00`"
    )


def test_slots_overlap_uses_half_open_intervals() -> None:
    round1 = SlotView(1, "Sessionrunde 1", time(11, 15), time(12, 0))
    touching = SlotView(2, "Mittagspause", time(12, 0), time(12, 45))
    overlapping = SlotView(3, "Runde 1b", time(11, 45), time(12, 30))
    inside = SlotView(4, "Kurz", time(11, 30), time(11, 40))

    assert not slots_overlap(round1, touching)
    assert slots_overlap(round1, overlapping)
    assert slots_overlap(overlapping, round1)
    assert slots_overlap(round1, inside)
    assert slots_overlap(inside, round1)


def test_find_slot_overlap_names_the_other_slot(de: Translate) -> None:
    existing = [
        SlotView(1, "Sessionrunde 1", time(11, 15), time(12, 0)),
        SlotView(2, "Sessionrunde 2", time(13, 5), time(13, 50)),
    ]
    new = SlotView(0, "Runde <2>", time(13, 30), time(14, 0))

    problem = find_slot_overlap(new, existing)

    assert problem is not None
    assert render(problem, de) == (
        "Runde \\<2\\> überschneidet sich mit Sessionrunde 2 (13:05–13:50). Bitte eine freie Zeit wählen."
    )
    # Editing a slot does not collide with itself.
    assert find_slot_overlap(replace(existing[1], end=time(14, 0)), existing) is None


# --- program import ---------------------------------------------------------------------------------------

REAL_PROGRAM_TOML = """\
[[programm]]
zeit = "09:30"
punkt = "Begrüßung und Vorstellung des Ablaufs"

[[programm]]
zeit = "09:55"
punkt = "Networking"

[[runde]]
name = "Sessionrunde 1"
von = "11:15"
bis = "12:00"

[[programm]]
zeit = "12:00"
punkt = "Mittagspause"

[[runde]]
name = "Sessionrunde 2"
von = "13:05"
bis = "13:50"
"""


def test_import_toml_german_keys() -> None:
    result = parse_program(REAL_PROGRAM_TOML.encode(), "programm.toml")

    assert result.problems == ()
    assert result.items == (
        ProgramItemView(time(9, 30), "Begrüßung und Vorstellung des Ablaufs"),
        ProgramItemView(time(9, 55), "Networking"),
        ProgramItemView(time(12, 0), "Mittagspause"),
    )
    assert result.slots == (
        ImportedSlot("Sessionrunde 1", time(11, 15), time(12, 0), 10),
        ImportedSlot("Sessionrunde 2", time(13, 5), time(13, 50), 19),
    )


def test_import_toml_english_keys_and_native_times() -> None:
    text = """\
[[program]]
time = 09:30:00
item = "Welcome"

[[round]]
title = "Round 1"
start = "9:45"
end = "10.30"
"""
    result = parse_program(text.encode(), "program.toml")

    assert result.ok
    assert result.items == (ProgramItemView(time(9, 30), "Welcome"),)
    assert result.slots == (ImportedSlot("Round 1", time(9, 45), time(10, 30), 6),)


def test_import_csv_program_items_windows_1252_semicolons() -> None:
    text = "Uhrzeit;Programmpunkt\r\n09:30;Begrüßung\r\n12:00;Mittagspause\r\n"

    result = parse_program(text.encode("cp1252"), "Programm.CSV")

    assert result.problems == ()
    assert result.items == (
        ProgramItemView(time(9, 30), "Begrüßung"),
        ProgramItemView(time(12, 0), "Mittagspause"),
    )
    assert result.slots == ()


def test_import_csv_slots_and_combined_header() -> None:
    slots_only = "von,bis,runde\n11:15,12:00,Sessionrunde 1\n13:05,13:50,Sessionrunde 2\n"
    combined = 'zeit,punkt,von,bis,runde\n09:30,"Begrüßung, Ablauf",,,\n,,11:15,12:00,Sessionrunde 1\n'

    first = parse_program(slots_only.encode(), "runden.csv")
    second = parse_program(combined.encode(), "programm.csv")

    assert first.problems == ()
    assert [(s.name, s.start, s.end, s.line) for s in first.slots] == [
        ("Sessionrunde 1", time(11, 15), time(12, 0), 2),
        ("Sessionrunde 2", time(13, 5), time(13, 50), 3),
    ]
    assert second.problems == ()
    assert second.items == (ProgramItemView(time(9, 30), "Begrüßung, Ablauf"),)
    assert second.slots == (ImportedSlot("Sessionrunde 1", time(11, 15), time(12, 0), 3),)


def test_import_toml_errors_carry_line_numbers(de: Translate) -> None:
    text = """\
[[programm]]
zeit = "9:75"
punkt = "Begrüßung"

[[runde]]
name = "Sessionrunde 1"
von = "12:00"
bis = "11:15"

[[programm]]
zeit = "12:00"
"""
    result = parse_program(text.encode(), "programm.toml")

    assert not result.ok
    assert [render(problem, de) for problem in result.problems] == [
        "Zeile 2: „9\\:75“ ist keine Uhrzeit. Erwartet wird HH:MM, z. B. 09:30.",
        "Zeile 8: Das Ende (11:15) liegt nicht nach dem Beginn (12:00).",
        "Zeile 10: punkt fehlt.",
    ]


def test_import_toml_syntax_error(de: Translate) -> None:
    result = parse_program(b'[[programm]]\nzeit = "09:30\n', "programm.toml")

    assert len(result.problems) == 1
    problem = result.problems[0]
    assert (problem.key, problem.line) == ("sessions_import_toml_syntax", 2)
    assert render(problem, de).startswith("Zeile 2: Die TOML-Datei ist fehlerhaft (")


def test_import_unknown_section_and_overlapping_slots(de: Translate) -> None:
    text = """\
[[pause]]
zeit = "10:00"

[[runde]]
name = "A"
von = "11:00"
bis = "12:00"

[[runde]]
name = "B"
von = "11:30"
bis = "12:30"
"""
    result = parse_program(text.encode(), "programm.toml")

    assert [render(problem, de) for problem in result.problems] == [
        "Zeile 1: Unbekannter Abschnitt pause. Erlaubt sind [[programm]] und [[zeitfenster]].",
        "Zeile 10: B überschneidet sich mit A (11:00–12:00).",
    ]


def test_import_csv_errors(de: Translate) -> None:
    bad_header = parse_program(b"wann,was\n09:30,Start\n", "programm.csv")
    bad_rows = parse_program(b"zeit,punkt\n09:30,Start\nmittags,Essen\n13:00,\n", "programm.csv")

    assert [render(problem, de) for problem in bad_header.problems] == [
        "Zeile 1: Die erste Zeile muss die Spalten zeit,punkt oder von,bis,zeitfenster nennen "
        "(gefunden: wann,was)."
    ]
    assert [render(problem, de) for problem in bad_rows.problems] == [
        "Zeile 3: „mittags“ ist keine Uhrzeit. Erwartet wird HH:MM, z. B. 09:30.",
        "Zeile 4: punkt fehlt.",
    ]


def test_import_unknown_format_and_empty_file(de: Translate) -> None:
    unknown = parse_program(b"\x89PNG\r\n", "bild.png")
    empty = parse_program(b"# nur ein Kommentar\n", "programm.toml")

    assert [p.key for p in unknown.problems] == ["sessions_import_unknown_format"]
    assert render(unknown.problems[0], de) == (
        "Die Datei bild\\.png kann ich nicht lesen. Bitte eine .toml- oder .csv-Datei anhängen."
    )
    assert [p.key for p in empty.problems] == ["sessions_import_empty"]


def test_import_escapes_user_text_in_errors(de: Translate) -> None:
    result = parse_program(b'[[programm]]\nzeit = "<b>@room"\npunkt = "x"\n', "p.toml")

    assert [render(problem, de) for problem in result.problems] == [
        "Zeile 2: „\\<b\\>@\u2060room“ ist keine Uhrzeit. Erwartet wird HH:MM, z. B. 09:30."
    ]

"""Networking helpers: round options, warning time, matcher history, contacts, conversation starters."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from commands.networking.logic import (
    BLOCK_OFFSET,
    OptionError,
    PastMeeting,
    StartOptions,
    build_history,
    contacts_of,
    load_starters,
    new_contacts,
    ordered_pair,
    parse_start_options,
    pick_starter,
    rooms_overlap,
    warning_offset,
)
from commands.networking.matching import Participant, plan_round, repeated_pairs

T0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", StartOptions()),
        ("7m", StartOptions(timedelta(minutes=7))),
        ("20s", StartOptions(timedelta(seconds=20))),
        ("5 Minuten", StartOptions(timedelta(minutes=5))),
        ("gruppen 3", StartOptions(None, 3)),
        ("7m gruppen 4", StartOptions(timedelta(minutes=7), 4)),
        ("groups 2 10m", StartOptions(timedelta(minutes=10), 2)),
        ("Gruppen 3", StartOptions(None, 3)),
        ("3er", StartOptions(None, 3)),
        ("groups=4", StartOptions(None, 4)),
    ],
)
def test_start_options(text: str, expected: StartOptions) -> None:
    assert parse_start_options(text) == expected


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("gruppen 5", "networking_error_group_size"),
        ("gruppen", "networking_error_group_size"),
        ("gruppen drei", "networking_error_group_size"),
        ("bald", "networking_error_option"),
        ("3s", "networking_error_duration"),
        ("5h", "networking_error_duration"),
    ],
)
def test_start_options_errors(text: str, key: str) -> None:
    with pytest.raises(OptionError) as caught:
        parse_start_options(text)
    assert caught.value.key == key
    assert caught.value.value


def test_warning_one_minute_before_the_end_or_at_half_time() -> None:
    assert warning_offset(timedelta(minutes=7)) == timedelta(minutes=6)
    assert warning_offset(timedelta(minutes=2)) == timedelta(minutes=1)
    assert warning_offset(timedelta(seconds=90)) == timedelta(seconds=45)
    assert warning_offset(timedelta(seconds=16)) == timedelta(seconds=8)


def test_history_marks_rounds_of_the_running_block_as_most_recent() -> None:
    meetings = [
        PastMeeting("@a:x", "@b:x", T0, block_id=1, round_number=1),
        PastMeeting("@c:x", "@d:x", T0, block_id=1, round_number=1),
        PastMeeting("@a:x", "@c:x", T0 + timedelta(days=30)),  # a partner request, later than the block
        PastMeeting("@a:x", "@d:x", T0 + timedelta(days=40), block_id=2, round_number=1),
        PastMeeting("@b:x", "@c:x", T0 + timedelta(days=40), block_id=2, round_number=1),
    ]
    history = build_history(meetings, block_id=2)
    assert history[frozenset(("@a:x", "@d:x"))] == history[frozenset(("@b:x", "@c:x"))] == BLOCK_OFFSET + 1
    assert history[frozenset(("@a:x", "@b:x"))] == history[frozenset(("@c:x", "@d:x"))]
    assert history[frozenset(("@a:x", "@c:x"))] > history[frozenset(("@a:x", "@b:x"))]
    assert max(history.values()) == BLOCK_OFFSET + 1
    # Without a block everything is a timestamp; a pair that met twice keeps the latest meeting.
    plain = build_history([*meetings, PastMeeting("@b:x", "@a:x", T0 + timedelta(days=50))])
    assert plain[frozenset(("@a:x", "@b:x"))] == int((T0 + timedelta(days=50)).timestamp())


def test_rounds_of_a_block_fed_back_through_the_history_never_repeat() -> None:
    people = [Participant(f"@p{i}:x", f"org{i % 3}", ("bund", "land", "kommune")[i % 3]) for i in range(6)]
    earlier = [PastMeeting("@p0:x", "@p1:x", T0 - timedelta(days=100))]
    played: list[PastMeeting] = []
    seen: set[frozenset[str]] = {frozenset(("@p0:x", "@p1:x"))}
    for number in range(1, 6):
        history = build_history([*earlier, *played], block_id=7)
        groups = plan_round(people, history, seed=number)
        if number < 5:  # five rounds of pairs would need all 15 pairs; one met before
            assert not repeated_pairs(groups, history)
        for group in groups:
            first, second = ordered_pair(group[0], group[1])
            seen.add(frozenset(group))
            played.append(PastMeeting(first, second, T0, block_id=7, round_number=number))
    assert len(seen) >= 13


def test_new_contacts_counts_distinct_first_meetings() -> None:
    block = [("@a:x", "@b:x"), ("@b:x", "@a:x"), ("@a:x", "@c:x"), ("@c:x", "@d:x")]
    earlier = [("@c:x", "@d:x")]
    assert new_contacts(block, earlier) == 2


def test_contacts_most_recent_first_with_counts() -> None:
    meetings = [
        PastMeeting("@a:x", "@b:x", T0),
        PastMeeting("@a:x", "@b:x", T0 + timedelta(days=2)),
        PastMeeting("@a:x", "@c:x", T0 + timedelta(days=1)),
        PastMeeting("@b:x", "@c:x", T0 + timedelta(days=5)),
    ]
    contacts = contacts_of("@a:x", meetings)
    assert [(c.user_id, c.times) for c in contacts] == [("@b:x", 2), ("@c:x", 1)]
    assert contacts[0].last_met == T0 + timedelta(days=2)
    assert contacts_of("@z:x", meetings) == []


def test_rooms_overlap_keeps_order() -> None:
    assert rooms_overlap(["!a", "!b", "!c"], ["!c", "!a"]) == ["!a", "!c"]
    assert rooms_overlap(["!a"], ["!b"]) == []


def test_shipped_starters_in_both_languages() -> None:
    starters = load_starters()
    assert len(starters["de"]) >= 10
    assert len(starters["en"]) == len(starters["de"])
    rng = random.Random(1)
    assert pick_starter(starters, "en", rng) in starters["en"]
    assert pick_starter(starters, "fr", rng) in starters["de"]  # unknown language: German
    assert pick_starter({}, "de") == ""


def test_operator_starters_from_toml_or_text(tmp_path: Path) -> None:
    toml_file = tmp_path / "starters.toml"
    toml_file.write_text('de = ["Was machst du am liebsten?"]\n', encoding="utf-8")
    custom = load_starters(toml_file)
    assert custom["de"] == ["Was machst du am liebsten?"]
    assert custom["en"] == load_starters()["en"]  # not covered by the file: shipped list
    text_file = tmp_path / "starters.txt"
    text_file.write_text("# comment\nErste Frage?\n\nZweite Frage?\n", encoding="utf-8")
    plain = load_starters(text_file)
    assert plain["de"] == plain["en"] == ["Erste Frage?", "Zweite Frage?"]

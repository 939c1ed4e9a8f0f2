"""!wer-kennt's matching (pure): German compounds, plurals, umlaut spellings, synonyms; the ranking."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from commands.whoknows.feature import shipped_synonyms
from commands.whoknows.limits import already_asked, retry_at
from commands.whoknows.matching import Profile, Strength, Synonyms, key, rank, shipped_pairs, strength

SYNONYMS = Synonyms(shipped_synonyms())


def between(question: str, topic: str, synonyms: Synonyms = SYNONYMS) -> Strength:
    return strength(key(question), key(topic), synonyms)


OZG_VARIANTS = [
    "OZG-Leistung",
    "OZG-Leistungen",
    "OZG",
    "Onlinezugangsgesetz",
    "ozg leistungen",
    "OZG‑Leistung",
]


@pytest.mark.parametrize("question", OZG_VARIANTS)
@pytest.mark.parametrize("topic", OZG_VARIANTS)
def test_the_ozg_variants_all_match_each_other(question: str, topic: str) -> None:
    assert between(question, topic) >= Strength.WORDS


@pytest.mark.parametrize(
    ("question", "topic", "expected"),
    [
        # case, hyphens, plural and inflection endings
        ("OZG-Leistungen", "ozg leistung", Strength.EXACT),
        ("E-Akte", "e-akten", Strength.EXACT),
        ("Digitalisierung", "DIGITALISIERUNG", Strength.EXACT),
        ("Vergabeverfahren", "Vergabeverfahrens", Strength.EXACT),
        ("Bürgerdienste", "Bürgerdienst", Strength.EXACT),
        # umlaut spellings and ß
        ("Behörde", "Behoerden", Strength.EXACT),
        ("Straßenbau", "Strassenbau", Strength.EXACT),
        ("Künstliche Intelligenz", "kuenstliche Intelligenz", Strength.EXACT),
        ("Gemeindeübergreifend", "gemeindeuebergreifend", Strength.EXACT),
        # synonyms (shipped)
        ("OZG", "Onlinezugangsgesetz", Strength.SYNONYM),
        ("KI", "Künstliche Intelligenz", Strength.SYNONYM),
        ("AI", "KI", Strength.SYNONYM),
        ("E-Akte", "elektronische Akten", Strength.SYNONYM),
        ("eAkte", "E-Akte", Strength.EXACT),
        ("DSGVO", "Datenschutz-Grundverordnung", Strength.SYNONYM),
        ("Barrierefreiheit", "BITV", Strength.SYNONYM),
        # all words of the one among the other's, a word may stand for its synonym
        ("OZG", "OZG-Umsetzung in Kommunen", Strength.WORDS),
        ("KI", "Künstliche Intelligenz in der Verwaltung", Strength.WORDS),
        ("Onlinezugangsgesetz", "OZG-Leistungen", Strength.WORDS),
        ("Open Source", "OSS Strategie", Strength.WORDS),
        ("Akte", "E-Akte", Strength.WORDS),
        # compound parts
        ("Datenschutz", "Datenschutzbeauftragte", Strength.PART),
        ("Gesetz", "Onlinezugangsgesetz", Strength.PART),
        ("Zugang", "Onlinezugangsgesetz", Strength.PART),
        ("Straße", "Strassenbau", Strength.PART),
        ("Verwaltungsdigitalisierung", "Digitalisierung", Strength.PART),
        ("Beschaffungsstelle", "Vergabe", Strength.PART),
        # no match
        ("Haushalt", "OZG", Strength.NONE),
        ("KI", "Kita-Gebühren", Strength.NONE),
        ("Akt", "Fakten", Strength.NONE),
        ("Recht", "Rechnungswesen", Strength.NONE),
        ("in der", "Verwaltung", Strength.NONE),
    ],
)
def test_strength(question: str, topic: str, expected: Strength) -> None:
    assert between(question, topic) == expected


def test_stop_words_alone_are_still_a_key_and_nothing_is_empty() -> None:
    assert key("die") == ("die",)
    assert key("E-Akte in der Verwaltung") == key("e akte verwaltung")
    assert key("  --  ") == ()
    assert between("", "OZG") == Strength.NONE


def test_moderator_synonyms_join_groups() -> None:
    synonyms = Synonyms([("Bauleitplanung", "B-Plan")])
    assert between("B-Pläne", "Bauleitplanung", synonyms) == Strength.SYNONYM
    synonyms.add("Bebauungsplan", "B-Plan")
    assert between("Bebauungspläne", "Bauleitplanung", synonyms) == Strength.SYNONYM
    # Two groups that get linked become one.
    synonyms.add("OZG", "Onlinezugangsgesetz")
    synonyms.add("Bauleitplanung", "OZG")
    assert between("Onlinezugangsgesetz", "Bebauungsplan", synonyms) == Strength.SYNONYM
    assert between("OZG", "Bebauungsplan", Synonyms()) == Strength.NONE


def test_shipped_synonyms_file_is_well_formed() -> None:
    assert ("OZG", "Onlinezugangsgesetz") in shipped_synonyms()
    with pytest.raises(ValueError, match="list of words"):
        shipped_pairs({"groups": [["OZG", 3]]})
    with pytest.raises(ValueError, match="groups"):
        shipped_pairs({"groups": "OZG"})


def profile(user_id: str, organisation: str | None, *topics: str) -> Profile:
    return Profile(f"@{user_id}:example.org", organisation, topics)


def test_ranking_by_strength_then_other_organisation_then_number_of_topics() -> None:
    people = [
        profile("anna", "Stadt Köln", "Onlinezugangsgesetz"),  # synonym, same organisation as the asker
        profile("bernd", "Land NRW", "OZG"),  # exact
        profile("carla", "Stadt Köln", "OZG"),  # exact, same organisation
        profile("dora", "Kreis Lippe", "Onlinezugangsgesetz", "OZG-Umsetzung"),  # synonym, two topics
        profile("emil", "Bund", "Haushalt"),  # nothing
        profile("fritz", "OZG-Taskforce Hessen", "Personal"),  # organisation only (words)
        profile("gabi", "Bundesamt", "Onlinezugangsgesetz"),  # synonym, one topic
    ]
    hits = rank("OZG", "Stadt Koeln", people, SYNONYMS, limit=10)
    assert [hit.user_id.split(":")[0] for hit in hits] == [
        "@bernd",
        "@carla",
        "@dora",
        "@gabi",
        "@anna",
        "@fritz",
    ]
    assert hits[1].same_organisation
    assert not hits[0].same_organisation
    assert hits[2].topics == ("Onlinezugangsgesetz", "OZG-Umsetzung")
    assert hits[-1].topics == ()
    assert hits[-1].organisation_matches
    assert len(rank("OZG", None, people, SYNONYMS, limit=2)) == 2


NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def test_retry_at_is_when_the_oldest_use_leaves_the_window() -> None:
    hour = timedelta(hours=1)
    times = [NOW - timedelta(minutes=m) for m in (50, 30, 10)]
    assert retry_at(times[:2], NOW, window=hour, limit=3) is None
    assert retry_at(times, NOW, window=hour, limit=3) == NOW + timedelta(minutes=10)
    assert retry_at(times, NOW, window=hour, limit=2) == NOW + timedelta(minutes=30)
    assert retry_at([NOW - timedelta(minutes=61), *times[1:]], NOW, window=hour, limit=3) is None


def test_asked_before_is_per_person_and_topic_within_the_period() -> None:
    period = timedelta(days=90)
    earlier = [("@anna:x", "ozgleistung", NOW - timedelta(days=10))]
    assert already_asked(earlier, "@anna:x", "ozgleistung", NOW, period=period)
    assert not already_asked(earlier, "@anna:x", "eakt", NOW, period=period)
    assert not already_asked(earlier, "@bernd:x", "ozgleistung", NOW, period=period)
    assert not already_asked(earlier, "@anna:x", "ozgleistung", NOW + timedelta(days=81), period=period)

"""Unit tests for the pure digest composition (commands/digest/compose.py)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.format import to_html
from bot.i18n import Catalog, Translate, with_defaults
from commands.digest.compose import (
    DigestData,
    NewsItem,
    UpcomingEvent,
    UpcomingSession,
    compose_digest,
    digest_html_document,
    digest_title,
    month_bounds,
    month_name,
    next_month,
    previous_month,
)

BERLIN = ZoneInfo("Europe/Berlin")
CATALOG_PATH = Path(__file__).resolve().parents[2] / "commands" / "digest" / "messages.toml"
CATALOG = Catalog.from_files([CATALOG_PATH])


def translator(language: str) -> Translate:
    return with_defaults(CATALOG.translator(language), p="!")


def fake_format_datetime(moment: datetime, language: str) -> str:
    # Shows that the language is passed through, without depending on timephrases.
    return f"{language}:{moment:%d.%m.%Y %H:%M}"


def berlin(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BERLIN)


def empty_data(**changes: object) -> DigestData:
    data = DigestData(
        month=date(2026, 11, 1),
        scope_name="NExT Netzwerk",
        upcoming_events=[],
        upcoming=[],
        held_events=0,
        held_sessions=0,
        attendance=0,
        networking_rounds=0,
        new_contacts=0,
        bingo_games=0,
        bingo_winners=[],
        new_members=0,
        news=[],
    )
    return dataclasses.replace(data, **changes)  # type: ignore[arg-type]


def full_data() -> DigestData:
    return empty_data(
        scope_name="Community KI & Ethik",
        upcoming_events=[
            UpcomingEvent(event_id=4, title="NExT-to-meet-you", start=berlin(2026, 12, 10, 14)),
            UpcomingEvent(event_id=3, title="NExTcamp 2026", start=berlin(2026, 12, 7, 9)),
        ],
        upcoming=[
            UpcomingSession(
                session_id=14,
                event_id=3,
                event_title="NExTcamp 2026",
                title="Agiles Arbeiten",
                start=berlin(2026, 12, 7, 13),
                free_seats=0,
                capacity=None,
            ),
            UpcomingSession(
                session_id=13,
                event_id=3,
                event_title="NExTcamp 2026",
                title="KI-Verordnung umsetzen",
                start=berlin(2026, 12, 7, 11, 15),
                free_seats=0,
                capacity=20,
            ),
            UpcomingSession(
                session_id=12,
                event_id=3,
                event_title="NExTcamp 2026",
                title="Open Source in der Verwaltung",
                start=berlin(2026, 12, 7, 11, 15),
                free_seats=1,
                capacity=1500,
            ),
        ],
        held_events=2,
        held_sessions=5,
        attendance=1234,
        networking_rounds=3,
        new_contacts=1,
        bingo_games=1,
        bingo_winners=["Anna", "Bert", "Clara"],
        new_members=1,
        news=[
            NewsItem(
                news_id=9,
                author="Bert",
                text="Neue Community: women@NExT",
                approved_at=berlin(2026, 11, 20, 8),
            ),
            NewsItem(
                news_id=7,
                author="Dora D.",
                text="Die Ergebnisse der Session zu Open Source sind online",
                approved_at=berlin(2026, 11, 3, 17),
            ),
        ],
    )


EXPECTED_FULL_DE = """\
# NExT-Monatsrückblick November 2026: Community KI \\& Ethik

Hallo zusammen! Hier ist euer Überblick: was im Dezember 2026 ansteht, was im November 2026 los war und \
was es Neues gibt.

## Demnächst im Dezember 2026

**NExTcamp 2026** · de:07.12.2026 09:00

- Open Source in der Verwaltung · de:07.12.2026 11:15 · 1 von 1.500 Plätzen frei · \
anmelden mit `!anmelden 12`
- KI\\-Verordnung umsetzen · de:07.12.2026 11:15 · ausgebucht · auf die Warteliste mit `!anmelden 13`
- Agiles Arbeiten · de:07.12.2026 13:00 · offen für alle · anmelden mit `!anmelden 14`

**NExT\\-to\\-meet\\-you** · de:10.12.2026 14:00

## Der November 2026 in Zahlen

- **2** Veranstaltungen mit **5** Sessions und **1.234** Teilnahmen
- **3** Netzwerkrunden mit **1** neuen Kontakt
- **1** Runde Verwaltungsbingo, gewonnen von Anna, Bert und Clara
- **1** neues Mitglied in den Räumen

## Neuigkeiten

- Die Ergebnisse der Session zu Open Source sind online — _Dora D\\._
- Neue Community\\: women@NExT — _Bert_

## Mitmachen

Ihr habt ein Thema, über das ihr mit anderen sprechen möchtet? Schlagt eine Session vor mit \
`!session vorschlagen`. Noch in keiner Community? Im Raumverzeichnis findet ihr die Communities des \
Netzwerks: Tretet einfach bei und vernetzt euch mit Kolleginnen und Kollegen aus Bund, Ländern, Kommunen \
und Wissenschaft.
"""

EXPECTED_FULL_EN = """\
# NExT digest November 2026: Community KI \\& Ethik

Hello everyone! Here is your overview: what is coming up in December 2026, what happened in November 2026, \
and what is new.

## Coming up in December 2026

**NExTcamp 2026** · en:07.12.2026 09:00

- Open Source in der Verwaltung · en:07.12.2026 11:15 · 1 of 1,500 seats free · sign up with `!signup 12`
- KI\\-Verordnung umsetzen · en:07.12.2026 11:15 · fully booked · join the waiting list with `!signup 13`
- Agiles Arbeiten · en:07.12.2026 13:00 · open to all · sign up with `!signup 14`

**NExT\\-to\\-meet\\-you** · en:10.12.2026 14:00

## November 2026 in numbers

- **2** events with **5** sessions and **1,234** attendees
- **3** networking rounds with **1** new contact
- **1** game of admin bingo, won by Anna, Bert and Clara
- **1** new member in the rooms

## News

- Die Ergebnisse der Session zu Open Source sind online — _Dora D\\._
- Neue Community\\: women@NExT — _Bert_

## Get involved

Is there a topic you would like to discuss with others? Propose a session with `!session propose`. \
Not in a community yet? The room directory lists the network's communities: join one and connect with \
colleagues from federal, state and local government and from research.
"""

EXPECTED_EMPTY_DE = """\
# NExT-Monatsrückblick November 2026: NExT Netzwerk

Hallo zusammen! Hier ist euer Überblick: was im Dezember 2026 ansteht, was im November 2026 los war und \
was es Neues gibt.

## Demnächst im Dezember 2026

Für Dezember 2026 steht noch nichts im Kalender.

## Der November 2026 in Zahlen

Im November 2026 gab es hier nichts zu zählen.

## Neuigkeiten

Diesmal gibt es keine Neuigkeiten. Teilt eure mit `!neuigkeit <Text>`.

## Mitmachen

Ihr habt ein Thema, über das ihr mit anderen sprechen möchtet? Schlagt eine Session vor mit \
`!session vorschlagen`. Noch in keiner Community? Im Raumverzeichnis findet ihr die Communities des \
Netzwerks: Tretet einfach bei und vernetzt euch mit Kolleginnen und Kollegen aus Bund, Ländern, Kommunen \
und Wissenschaft.
"""

EXPECTED_EMPTY_EN_MIDDLE = """\
## Coming up in December 2026

Nothing is scheduled for December 2026 yet.

## November 2026 in numbers

Nothing to count here in November 2026.

## News

No news this time. Share yours with `!news <text>`.
"""


def test_full_digest_german_exact() -> None:
    markdown = compose_digest(full_data(), translator("de"), format_datetime=fake_format_datetime)
    assert markdown == EXPECTED_FULL_DE


def test_full_digest_english_exact() -> None:
    markdown = compose_digest(full_data(), translator("en"), format_datetime=fake_format_datetime)
    assert markdown == EXPECTED_FULL_EN


def test_empty_digest_german_exact() -> None:
    markdown = compose_digest(empty_data(), translator("de"), format_datetime=fake_format_datetime)
    assert markdown == EXPECTED_EMPTY_DE


def test_empty_digest_english_keeps_every_section() -> None:
    markdown = compose_digest(empty_data(), translator("en"), format_datetime=fake_format_datetime)
    assert EXPECTED_EMPTY_EN_MIDDLE in markdown
    assert markdown.startswith("# NExT digest November 2026: NExT Netzwerk\n\n")
    assert "## Get involved\n\n" in markdown


def test_partial_numbers_show_only_what_exists() -> None:
    data = empty_data(bingo_games=2, new_members=37)
    markdown = compose_digest(data, translator("de"), format_datetime=fake_format_datetime)
    expected = (
        "## Der November 2026 in Zahlen\n\n"
        "- **2** Runden Verwaltungsbingo\n"
        "- **37** neue Mitglieder in den Räumen\n\n"
        "## Neuigkeiten"
    )
    assert expected in markdown


def test_late_note_follows_the_title_only_when_late() -> None:
    on_time = compose_digest(empty_data(), translator("de"), format_datetime=fake_format_datetime)
    late = compose_digest(empty_data(), translator("de"), format_datetime=fake_format_datetime, late=True)
    note = "_Dieser Monatsrückblick kommt verspätet: Der Bot war zum geplanten Zeitpunkt nicht erreichbar._"
    assert note not in on_time
    assert late == on_time.replace(
        "# NExT-Monatsrückblick November 2026: NExT Netzwerk\n\n",
        f"# NExT-Monatsrückblick November 2026: NExT Netzwerk\n\n{note}\n\n",
    )
    late_en = compose_digest(empty_data(), translator("en"), format_datetime=fake_format_datetime, late=True)
    assert "\n\n_This digest is late: the bot was not running at the scheduled time._\n\n" in late_en


HOSTILE = "<script>alert(1)</script> @room [klick](https://evil.example) **fett**"


def hostile_data() -> DigestData:
    return empty_data(
        scope_name="@room <b>Raum</b>",
        upcoming_events=[UpcomingEvent(event_id=1, title=HOSTILE, start=berlin(2026, 12, 1, 9))],
        upcoming=[
            UpcomingSession(
                session_id=2,
                event_id=1,
                event_title=HOSTILE,
                title=HOSTILE,
                start=berlin(2026, 12, 1, 10),
                free_seats=3,
                capacity=5,
            )
        ],
        bingo_games=1,
        bingo_winners=[HOSTILE],
        news=[NewsItem(news_id=1, author=HOSTILE, text=HOSTILE, approved_at=berlin(2026, 11, 2))],
    )


@pytest.mark.parametrize("language", ["de", "en"])
def test_user_text_is_escaped(language: str) -> None:
    markdown = compose_digest(hostile_data(), translator(language), format_datetime=fake_format_datetime)
    rendered = to_html(markdown)
    assert "<script" not in rendered
    assert "<b>" not in rendered
    assert "<a " not in rendered
    # The only bold text is the event title's own wrapper and the bingo count: user ** stays literal.
    assert rendered.count("<strong>") == 2
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in rendered
    assert "**fett**" in rendered
    # The @room keyword is broken by a word joiner everywhere it was typed (scope, event, session, winner,
    # news text, news author).
    assert "@room" not in markdown
    assert markdown.count("@\u2060room") == 6


def test_escaped_news_text_exact_line() -> None:
    item = NewsItem(news_id=1, author="Eve", text="<script>x</script> @room", approved_at=berlin(2026, 11, 2))
    data = empty_data(news=[item])
    markdown = compose_digest(data, translator("de"), format_datetime=fake_format_datetime)
    assert "\n- \\<script\\>x\\</script\\> @\u2060room — _Eve_\n" in markdown


def test_multiline_news_stays_one_list_item() -> None:
    text = "Erste Zeile\n\n    eingerückt\nletzte Zeile"
    data = empty_data(news=[NewsItem(news_id=1, author="Eve", text=text, approved_at=berlin(2026, 11, 2))])
    markdown = compose_digest(data, translator("de"), format_datetime=fake_format_datetime)
    assert "\n- Erste Zeile  \n  eingerückt  \n  letzte Zeile — _Eve_\n" in markdown
    rendered = to_html(markdown)
    assert "<li>Erste Zeile<br />\neingerückt<br />\nletzte Zeile — <em>Eve</em></li>" in rendered
    assert "<pre>" not in rendered


def test_many_bingo_winners_are_capped() -> None:
    winners = [f"Person {number}" for number in range(1, 13)]
    data = empty_data(bingo_games=12, bingo_winners=winners)
    markdown = compose_digest(data, translator("de"), format_datetime=fake_format_datetime)
    listed = ", ".join(f"Person {number}" for number in range(1, 11))
    assert f"- **12** Runden Verwaltungsbingo, gewonnen von {listed} und 2 weitere Personen\n" in markdown
    one_more = compose_digest(
        empty_data(bingo_games=11, bingo_winners=winners[:11]),
        translator("en"),
        format_datetime=fake_format_datetime,
    )
    assert f"won by {listed} and 1 more person\n" in one_more


def test_single_winner_has_no_conjunction() -> None:
    data = empty_data(bingo_games=1, bingo_winners=["Anna"])
    markdown = compose_digest(data, translator("de"), format_datetime=fake_format_datetime)
    assert "- **1** Runde Verwaltungsbingo, gewonnen von Anna\n" in markdown


def test_session_of_an_event_not_listed_is_grouped_under_its_event_title() -> None:
    session = UpcomingSession(
        session_id=5,
        event_id=99,
        event_title="Werkstatt Digitale Projekte",
        title="Abschluss",
        start=berlin(2026, 12, 2, 16),
        free_seats=4,
        capacity=10,
    )
    data = empty_data(upcoming=[session])
    markdown = compose_digest(data, translator("de"), format_datetime=fake_format_datetime)
    expected = (
        "## Demnächst im Dezember 2026\n\n"
        "**Werkstatt Digitale Projekte** · de:02.12.2026 16:00\n\n"
        "- Abschluss · de:02.12.2026 16:00 · 4 von 10 Plätzen frei · anmelden mit `!anmelden 5`\n\n"
        "## Der November 2026 in Zahlen"
    )
    assert expected in markdown


def test_digest_month_must_be_first_of_month() -> None:
    with pytest.raises(ValueError, match="first day"):
        empty_data(month=date(2026, 11, 2))


def test_month_name_and_title() -> None:
    assert month_name(date(2026, 3, 1), translator("de")) == "März 2026"
    assert month_name(date(2026, 3, 1), translator("en")) == "March 2026"
    # The plain title is not Markdown: no escaping, suitable for <title> and file names.
    title = digest_title(full_data(), translator("de"))
    assert title == "NExT-Monatsrückblick November 2026: Community KI & Ethik"


def test_catalog_languages_have_the_same_keys() -> None:
    assert CATALOG.missing_keys() == {"de": set(), "en": set()}
    assert all(key.startswith("digest_") for table in CATALOG.messages.values() for key in table)


def test_html_document_is_standalone_and_escapes_the_title() -> None:
    markdown = compose_digest(hostile_data(), translator("en"), format_datetime=fake_format_datetime)
    document = digest_html_document(markdown, "Digest <script>", language="en")
    assert document.startswith('<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n')
    assert "<title>Digest &lt;script&gt;</title>" in document
    assert "<style>body{" in document
    assert f"<body>\n{to_html(markdown)}\n</body>\n</html>\n" in document
    assert "<script" not in document


def test_html_document_exact_for_small_markdown() -> None:
    document = digest_html_document("# Hallo\n\n- **1** Punkt\n", "Digest & Co")
    body = "<body>\n<h1>Hallo</h1>\n<ul>\n<li><strong>1</strong> Punkt</li>\n</ul>\n</body>\n</html>\n"
    assert '<html lang="de">' in document
    assert "<title>Digest &amp; Co</title>" in document
    assert document.endswith(body)


def utc_length(bounds: tuple[datetime, datetime]) -> timedelta:
    # Subtracting two datetimes of the same zone ignores DST; compare instants instead.
    start, end = bounds
    return end.astimezone(UTC) - start.astimezone(UTC)


def test_month_bounds_across_dst_start() -> None:
    start, end = month_bounds(date(2026, 3, 1), BERLIN)
    assert (start.isoformat(), end.isoformat()) == ("2026-03-01T00:00:00+01:00", "2026-04-01T00:00:00+02:00")
    assert utc_length((start, end)) == timedelta(days=31, hours=-1)


def test_month_bounds_across_dst_end() -> None:
    start, end = month_bounds(date(2026, 10, 1), BERLIN)
    assert (start.isoformat(), end.isoformat()) == ("2026-10-01T00:00:00+02:00", "2026-11-01T00:00:00+01:00")
    assert utc_length((start, end)) == timedelta(days=31, hours=1)


def test_month_bounds_across_year_end_and_any_day_of_month() -> None:
    start, end = month_bounds(date(2025, 12, 24), BERLIN)
    assert (start.isoformat(), end.isoformat()) == ("2025-12-01T00:00:00+01:00", "2026-01-01T00:00:00+01:00")
    start, end = month_bounds(date(2026, 1, 1), ZoneInfo("UTC"))
    assert (start.isoformat(), end.isoformat()) == ("2026-01-01T00:00:00+00:00", "2026-02-01T00:00:00+00:00")


def test_month_bounds_when_midnight_does_not_exist() -> None:
    # Paraguay moved clocks from 00:00 to 01:00 on 1 October 2017: the month starts at 01:00.
    asuncion = ZoneInfo("America/Asuncion")
    september = month_bounds(date(2017, 9, 1), asuncion)
    october = month_bounds(date(2017, 10, 1), asuncion)
    assert october[0].isoformat() == "2017-10-01T01:00:00-03:00"
    assert september[1] == october[0]
    assert utc_length(september) == timedelta(days=30)


def test_previous_and_next_month_across_year_ends() -> None:
    assert previous_month(date(2026, 1, 15)) == date(2025, 12, 1)
    assert previous_month(date(2026, 3, 31)) == date(2026, 2, 1)
    assert next_month(date(2025, 12, 31)) == date(2026, 1, 1)
    assert next_month(date(2026, 1, 31)) == date(2026, 2, 1)


ZONES = [ZoneInfo(name) for name in ("Europe/Berlin", "UTC", "America/Asuncion", "Australia/Lord_Howe")]


@given(
    st.dates(min_value=date(1990, 1, 1), max_value=date(2090, 12, 31)),
    st.sampled_from(ZONES),
)
def test_month_bounds_tile_the_timeline(day: date, zone: ZoneInfo) -> None:
    start, end = month_bounds(day, zone)
    assert start < end
    assert start.date() == day.replace(day=1)
    assert month_bounds(next_month(day), zone)[0] == end
    assert previous_month(next_month(day)) == day.replace(day=1)
    assert timedelta(days=28) - timedelta(hours=2) <= utc_length((start, end))
    assert utc_length((start, end)) <= timedelta(days=31, hours=2)

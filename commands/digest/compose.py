"""Pure composition of the monthly digest: data in, Markdown (and a standalone HTML document) out.

A digest *reviews* one month (``DigestData.month``): its numbers and its approved news. Its "coming up"
section lists the events and sessions of the month after. Posted in early December, the digest is the
"November 2026" digest. Nothing here touches Matrix or the database; the command layer gathers the data.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, tzinfo

from bot.format import esc, to_html
from bot.i18n import Translate
from commands.digest.results_section import SessionResults, results_blocks

# Network-wide digests can have many bingo winners; the newsletter names the first few only.
MAX_LISTED_WINNERS = 10

FormatDatetime = Callable[[datetime, str], str]
"""``format_datetime(dt, language) -> str``, e.g. ``timephrases.format_datetime``."""


@dataclass(frozen=True)
class UpcomingEvent:
    event_id: int
    title: str
    start: datetime


@dataclass(frozen=True)
class UpcomingSession:
    """A session with its seats. ``capacity`` None means no limit; then ``free_seats`` is ignored."""

    session_id: int
    event_id: int
    event_title: str
    title: str
    start: datetime
    free_seats: int
    capacity: int | None


@dataclass(frozen=True)
class NewsItem:
    news_id: int
    author: str
    text: str
    approved_at: datetime


@dataclass(frozen=True)
class DigestData:
    """Everything one digest shows. ``month`` is the first day of the reviewed month."""

    month: date
    scope_name: str
    upcoming_events: Sequence[UpcomingEvent]
    upcoming: Sequence[UpcomingSession]
    held_events: int
    held_sessions: int
    attendance: int
    networking_rounds: int
    new_contacts: int
    bingo_games: int
    bingo_winners: Sequence[str]
    new_members: int
    news: Sequence[NewsItem]
    coffee_pairings: int = 0
    coffee_meetings: int = 0
    session_results: Sequence[SessionResults] = ()

    def __post_init__(self) -> None:
        if self.month.day != 1:
            raise ValueError(f"DigestData.month must be the first day of a month, got {self.month}")


def previous_month(day: date) -> date:
    """First day of the month before the month of ``day``."""
    if day.month == 1:
        return date(day.year - 1, 12, 1)
    return date(day.year, day.month - 1, 1)


def next_month(day: date) -> date:
    """First day of the month after the month of ``day``."""
    if day.month == 12:
        return date(day.year + 1, 1, 1)
    return date(day.year, day.month + 1, 1)


def _start_of_day(day: date, tz: tzinfo) -> datetime:
    local = datetime.combine(day, time(0), tzinfo=tz)
    # Where midnight is skipped by a DST jump, the round trip through UTC yields the first real instant.
    return local.astimezone(UTC).astimezone(tz)


def month_bounds(month: date, tz: tzinfo) -> tuple[datetime, datetime]:
    """Half-open ``[start, end)`` of the month containing ``month``: local midnights in ``tz``, aware."""
    first = month.replace(day=1)
    return _start_of_day(first, tz), _start_of_day(next_month(first), tz)


def month_name(month: date, t: Translate) -> str:
    """Month and year in the translator's language, e.g. "November 2026"."""
    return t("digest_month_label", month_name=t(f"digest_month_{month.month}"), year=month.year)


def digest_title(data: DigestData, t: Translate) -> str:
    """Plain-text title (not Markdown), e.g. for the HTML document's <title> or a file name."""
    return t("digest_title", month=month_name(data.month, t), scope=data.scope_name)


def compose_digest(
    data: DigestData, t: Translate, *, format_datetime: FormatDatetime, late: bool = False
) -> str:
    """The digest as Markdown; every user-supplied text is escaped."""
    month = month_name(data.month, t)
    following = month_name(next_month(data.month), t)
    blocks: list[str] = ["# " + t("digest_title", month=month, scope=esc(data.scope_name))]
    if late:
        blocks.append(t("digest_late_note"))
    blocks.append(t("digest_greeting", month=month, next_month=following))
    blocks.append("## " + t("digest_upcoming_heading", next_month=following))
    blocks.extend(_upcoming_blocks(data, t, format_datetime, following))
    blocks.append("## " + t("digest_numbers_heading", month=month))
    numbers = _number_lines(data, t)
    blocks.append(_bullets(numbers) if numbers else t("digest_numbers_empty", month=month))
    blocks.extend(results_blocks(data.session_results, t))
    blocks.append("## " + t("digest_news_heading"))
    blocks.append(_news_block(data.news, t))
    blocks.append("## " + t("digest_closing_heading"))
    blocks.append(t("digest_closing", command=t("digest_command_propose")))
    return "\n\n".join(blocks) + "\n"


_HTML_STYLE = (
    "body{font-family:Arial,Helvetica,sans-serif;line-height:1.5;color:#1a1a1a;max-width:42em;"
    "margin:0 auto;padding:1em}"
    "h1{font-size:1.6em}h2{font-size:1.3em;margin-top:1.5em}"
    "code{background:#f0f0f0;padding:0 .2em;border-radius:3px}"
)


def digest_html_document(markdown: str, title: str, *, language: str = "de") -> str:
    """A standalone HTML page of the digest for the newsletter editors; ``title`` is plain text."""
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{html.escape(language)}">\n'
        "<head>\n"
        '<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n"
        f"<style>{_HTML_STYLE}</style>\n"
        "</head>\n"
        "<body>\n"
        f"{to_html(markdown)}\n"
        "</body>\n"
        "</html>\n"
    )


@dataclass
class _EventGroup:
    title: str
    start: datetime
    sessions: list[UpcomingSession]


def _group_upcoming(data: DigestData) -> list[_EventGroup]:
    groups: dict[int, _EventGroup] = {
        event.event_id: _EventGroup(event.title, event.start, []) for event in data.upcoming_events
    }
    for session in sorted(data.upcoming, key=lambda s: (s.start, s.session_id)):
        # A session whose event began earlier still belongs under its event's title.
        group = groups.setdefault(session.event_id, _EventGroup(session.event_title, session.start, []))
        group.sessions.append(session)
    return sorted(groups.values(), key=lambda g: (g.start, g.title))


def _upcoming_blocks(
    data: DigestData, t: Translate, format_datetime: FormatDatetime, following: str
) -> list[str]:
    groups = _group_upcoming(data)
    if not groups:
        return [t("digest_upcoming_empty", next_month=following)]
    blocks: list[str] = []
    for group in groups:
        blocks.append(
            t("digest_upcoming_event", title=esc(group.title), start=format_datetime(group.start, t.language))
        )
        if group.sessions:
            blocks.append(_bullets([_session_line(s, t, format_datetime) for s in group.sessions]))
    return blocks


def _session_line(session: UpcomingSession, t: Translate, format_datetime: FormatDatetime) -> str:
    command = t("digest_command_signup")
    if session.capacity is None:
        seats, signup_key = t("digest_seats_unlimited"), "digest_signup"
    elif session.free_seats <= 0:
        seats, signup_key = t("digest_seats_full"), "digest_signup_waitlist"
    else:
        seats = t(
            "digest_seats_free",
            free=_number(session.free_seats, t),
            capacity=_number(session.capacity, t),
        )
        signup_key = "digest_signup"
    return t(
        "digest_upcoming_session",
        title=esc(session.title),
        start=format_datetime(session.start, t.language),
        seats=seats,
        signup=t(signup_key, command=command, session_id=session.session_id),
    )


def _number_lines(data: DigestData, t: Translate) -> list[str]:
    lines: list[str] = []
    if data.held_events or data.held_sessions:
        lines.append(
            t(
                "digest_numbers_events",
                events=_count(t, "digest_count_events", data.held_events),
                sessions=_count(t, "digest_count_sessions", data.held_sessions),
                attendance=_count(t, "digest_count_attendance", data.attendance),
            )
        )
    if data.networking_rounds or data.new_contacts:
        lines.append(
            t(
                "digest_numbers_networking",
                rounds=_count(t, "digest_count_rounds", data.networking_rounds),
                contacts=_count(t, "digest_count_contacts", data.new_contacts),
            )
        )
    if data.coffee_pairings:
        lines.append(
            t(
                "digest_numbers_coffee",
                pairings=_count(t, "digest_count_coffee_pairings", data.coffee_pairings),
                meetings=_count(t, "digest_count_coffee_meetings", data.coffee_meetings),
            )
        )
    if data.bingo_games:
        games = _count(t, "digest_count_bingo_games", data.bingo_games)
        if data.bingo_winners:
            lines.append(
                t("digest_numbers_bingo_winners", games=games, winners=_winner_list(data.bingo_winners, t))
            )
        else:
            lines.append(t("digest_numbers_bingo", games=games))
    if data.new_members:
        lines.append(t("digest_numbers_members", members=_count(t, "digest_count_members", data.new_members)))
    return lines


def _winner_list(winners: Sequence[str], t: Translate) -> str:
    names = [esc(name) for name in winners[:MAX_LISTED_WINNERS]]
    hidden = len(winners) - len(names)
    if hidden:
        names.append(_count(t, "digest_more", hidden))
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + f" {t('digest_list_and')} " + names[-1]


def _news_block(news: Sequence[NewsItem], t: Translate) -> str:
    if not news:
        return t("digest_news_empty", command=t("digest_command_news"))
    items = sorted(news, key=lambda item: (item.approved_at, item.news_id))
    lines = [t("digest_news_item", text=_news_text(item.text), author=esc(item.author)) for item in items]
    return _bullets(lines)


def _news_text(text: str) -> str:
    # Blank lines and indentation would end the list item or start a code block: keep one line per line.
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return esc("\n".join(lines))


def _bullets(lines: Sequence[str]) -> str:
    # Continuation lines (hard breaks inside user text) are indented so they stay inside their item.
    return "\n".join("- " + line.replace("\n", "\n  ") for line in lines)


def _count(t: Translate, key: str, count: int) -> str:
    form = "one" if count == 1 else "other"
    return t(f"{key}_{form}", count=_number(count, t))


def _number(value: int, t: Translate) -> str:
    return f"{value:,}".replace(",", t("digest_thousands_separator"))

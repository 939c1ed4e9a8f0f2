"""The digest's "Ergebnisse der Sessions" section: pure composition (data in, Markdown blocks out).

Lists the sessions whose results came in during the reviewed month, with their key points and links (as
autolinks: clickable, nothing else). The data comes from :mod:`commands.digest.gather_results`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from bot.format import esc, neutralize
from bot.i18n import Translate

_SAFE_URL = re.compile(r"https?://[^\s<>\"'\\`]+", re.IGNORECASE)


@dataclass(frozen=True)
class SessionResults:
    session_id: int
    title: str
    event_title: str
    points: tuple[str, ...]
    links: tuple[str, ...]


def link_markdown(url: str) -> str:
    """A plain http(s) address as an autolink; anything else as escaped text."""
    return f"<{neutralize(url)}>" if _SAFE_URL.fullmatch(url) else esc(url)


def results_blocks(items: Sequence[SessionResults], t: Translate) -> list[str]:
    """The section (heading and one bullet per session), or nothing when no results came in."""
    if not items:
        return []
    lines = []
    for item in sorted(items, key=lambda i: (i.event_title, i.session_id)):
        lines.append(
            "- "
            + t(
                "digest_results_session",
                title=esc(item.title),
                event=esc(item.event_title),
                session_id=item.session_id,
            )
        )
        lines.extend("  - " + esc(" ".join(point.split())) for point in item.points)
        if item.links:
            lines.append(
                "  - " + t("digest_results_links", links=", ".join(link_markdown(u) for u in item.links))
            )
    return ["## " + t("digest_results_heading"), "\n".join(lines)]

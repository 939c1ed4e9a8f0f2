"""Message text as the member meant it, and user input quoted back in replies."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

from bot.framework import Command, fold


class _PillText(HTMLParser):
    """Formatted body → text, with user pills replaced by their Matrix IDs and replies' fallbacks dropped."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._pill_depth = 0
        self._skip_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        # A reply's fallback and quoted text ("> !hilfe") are someone else's words, never a command.
        if tag in ("mx-reply", "blockquote"):
            self._skip_depth += 1
            return
        if tag == "br":
            self.parts.append("\n")
        href = dict(attrs).get("href") or ""
        match = re.match(r"https://matrix\.to/#/(@[^/?\s]+)", href)
        if tag == "a" and match:
            self.parts.append(match.group(1).replace("%3A", ":").replace("%40", "@"))
            self._pill_depth += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("mx-reply", "blockquote"):
            self._skip_depth = max(0, self._skip_depth - 1)
        elif tag == "a" and self._pill_depth:
            self._pill_depth -= 1
        elif tag == "p":
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._pill_depth and not self._skip_depth:
            self.parts.append(data)


def command_text(event: Any) -> str:
    """The text of a message as the member meant it (pills as user IDs, no reply fallback)."""
    formatted = getattr(event, "formatted_body", None)
    if formatted and getattr(event, "format", None) == "org.matrix.custom.html":
        parser = _PillText()
        parser.feed(formatted)
        return "".join(parser.parts).strip()
    body: str = getattr(event, "body", "") or ""
    # Strip a plain-text reply fallback ("> <@user> quoted" lines followed by a blank line).
    lines = body.split("\n")
    while lines and lines[0].startswith(">"):
        lines.pop(0)
    return "\n".join(lines).strip()


TRAILING_PUNCTUATION = ".,!?;:…"


def _without_trailing_punctuation(word: str, commands: dict[str, Command]) -> str:
    if fold(word) in commands:
        return word
    return word.rstrip(TRAILING_PUNCTUATION) or word


def _esc(value: str) -> str:
    """User input quoted in a reply: shortened and escaped."""
    from bot.format import esc, shorten

    return esc(shorten(value))


def _escaped(params: dict[str, Any]) -> dict[str, Any]:
    """Error parameters often echo user input: shorten and escape strings, keep numbers."""
    return {key: _esc(value) if isinstance(value, str) else value for key, value in params.items()}

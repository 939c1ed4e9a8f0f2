"""Markdown → Matrix HTML, and the escaping that keeps user text inert.

Messages are composed as Markdown from catalog templates (trusted) and parameters (untrusted). Every
untrusted parameter goes through :func:`esc` first: Markdown punctuation is backslash-escaped so it cannot
create links or formatting, and raw HTML is disabled in the renderer so ``<b>`` arrives as ``&lt;b&gt;``.
"""

from __future__ import annotations

import re
from functools import lru_cache

from markdown_it import MarkdownIt

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!<>|~&\"'=:])")
_UNESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")
# A zero-width word joiner after "@" keeps "@room" readable but makes it no longer the keyword that legacy
# push rules match on. m.mentions (always set by the sender) is the primary protection.
_ROOM_MENTION = re.compile(r"@(room)\b", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

_renderer = MarkdownIt("commonmark", {"html": False, "linkify": False, "breaks": True}).enable("table")


def neutralize(text: str) -> str:
    """User text without control characters and without a working @room keyword."""
    return _ROOM_MENTION.sub("@\u2060\\1", _CONTROL.sub("", text))


QUOTE_LIMIT = 80


def shorten(text: str, limit: int = QUOTE_LIMIT) -> str:
    """User input quoted back in a reply, cut to ``limit`` characters with an ellipsis: a 33,000-character
    "command" must not come back twice in an answer the homeserver refuses as too large."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def esc(text: object) -> str:
    """Escape untrusted text for inclusion in a Markdown template."""
    escaped = _MD_SPECIAL.sub(r"\\\1", neutralize(str(text)))
    # Leading/trailing blank lines or indentation could start code blocks: keep user text on its lines.
    return escaped.replace("\n", "  \n")


# Rendering is the costliest step of a reply (≈ 5 ms for the help text on a busy 2-core machine), and replies
# repeat (help, agenda, confirmations): the same Markdown always gives the same HTML.
@lru_cache(maxsize=256)
def to_html(markdown: str) -> str:
    return str(_renderer.render(markdown)).strip()


def to_plain(markdown: str) -> str:
    """The plain-text fallback: the Markdown source without backslash escapes."""
    return _UNESCAPE.sub(r"\1", markdown.replace("  \n", "\n"))

"""What the bot says, rendered from the message catalog: tests compare against a key and its arguments, not
against literal prose, so rewording a message in messages.toml does not break them."""

from __future__ import annotations

import string
from functools import cache
from typing import Any

from bot.app import build_catalog
from bot.features import discover_features
from bot.format import esc
from bot.i18n import Catalog
from bot.sender import message_content, pill

__all__ = ["body", "esc", "markdown", "parts", "pill"]


@cache
def catalog() -> Catalog:
    return build_catalog(discover_features())


def markdown(key: str, language: str = "de", /, **params: Any) -> str:
    """The Markdown the bot composes for ``key``. Pass member text through ``esc`` where the bot does."""
    return catalog().translator(language)(key, **{"p": "!", **params})


def body(key: str, language: str = "de", /, **params: Any) -> str:
    """The plain ``body`` of the message for ``key`` (what a Matrix client without HTML shows)."""
    return str(message_content(markdown(key, language, **params))["body"])


def parts(key: str, language: str = "de") -> list[str]:
    """The literal stretches of a message between its placeholders: what stays the same for any arguments
    (for messages whose arguments a test cannot know, such as a time)."""
    template = catalog().template(key, language)
    plain = str(message_content(template)["body"])
    return [literal.strip() for literal, *_ in string.Formatter().parse(plain) if literal.strip()]


def says(body: str, key: str, language: str = "de") -> bool:
    """Whether ``body`` is the message ``key``: every literal stretch of its template is there, in order."""
    position = 0
    for part in parts(key, language):
        found = body.find(part, position)
        if found < 0:
            return False
        position = found + len(part)
    return True

"""What the bot says, rendered from the message catalog: tests compare against a key and its arguments, not
against literal prose, so rewording a message in messages.toml does not break them."""

from __future__ import annotations

import re
import string
from functools import cache
from typing import Any

from bot.app import build_catalog
from bot.features import discover_features
from bot.format import esc
from bot.i18n import Catalog
from bot.sender import message_content, pill

__all__ = ["body", "esc", "markdown", "number_in", "parts", "pill", "says", "stable"]


@cache
def catalog() -> Catalog:
    return build_catalog(discover_features())


def markdown(key: str, language: str = "de", /, **params: Any) -> str:
    """The Markdown the bot composes for ``key``. Pass member text through ``esc`` where the bot does."""
    return catalog().translator(language)(key, **{"p": "!", **params})


def body(key: str, language: str = "de", /, **params: Any) -> str:
    """The plain ``body`` of the message for ``key`` (what a Matrix client without HTML shows)."""
    return str(message_content(markdown(key, language, **params))["body"])


class _Unknown:
    """An argument the test does not know: it stays a placeholder, whatever its format spec."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __format__(self, spec: str) -> str:
        return "{" + self.name + "}"

    def __getattr__(self, attribute: str) -> _Unknown:  # {day.day}
        return self


class _KnownArguments(dict[str, Any]):
    def __missing__(self, name: str) -> _Unknown:
        return _Unknown(name)


def parts(key: str, language: str = "de", /, **known: Any) -> list[str]:
    """The literal stretches of a message between the placeholders whose arguments the test does not know
    (a time, a generated group list); the ``known`` ones are filled in as the bot fills them."""
    template = catalog().template(key, language)
    filled = template.format_map(_KnownArguments({"p": "!", **known}))
    plain = str(message_content(filled)["body"])
    return [literal.strip() for literal, *_ in string.Formatter().parse(plain) if literal.strip()]


def says(body: str, key: str, language: str = "de", /, **known: Any) -> bool:
    """Whether ``body`` is the message ``key`` (with the ``known`` arguments): every literal stretch of its
    template is there, in order."""
    position = 0
    for part in parts(key, language, **known):
        found = body.find(part, position)
        if found < 0:
            return False
        position = found + len(part)
    return True


def stable(key: str, language: str = "de", /, **known: Any) -> str:
    """The longest literal stretch of a message: to wait for it (``next_message(contains=…)``)."""
    return max(parts(key, language, **known), key=len)


def number_in(body: str, key: str, name: str, language: str = "de", /, **known: Any) -> int:
    """The number the bot gave the argument ``name`` in ``body``, the message ``key`` (the id of what it just
    created, a place on a list): found between the template's literal stretches, not by a pattern of its
    wording. Other arguments the test does not know match anything."""
    template = catalog().template(key, language)
    filled = template.format_map(_KnownArguments({"p": "!", **known}))
    plain = str(message_content(filled)["body"])
    pattern, named = "", False
    for literal, field, _spec, _conversion in string.Formatter().parse(plain):
        pattern += re.escape(literal)
        if field == name:
            pattern += "(?P=number)" if named else r"(?P<number>\d+)"
            named = True
        elif field is not None:
            pattern += ".*?"
    found = re.search(pattern, body, re.DOTALL) if named else None
    assert found, f"{key} with {name} not in {body!r}"
    return int(found.group("number"))

"""Message catalogs.

Every feature keeps its user-facing strings in a ``messages.toml`` next to its code, with one table per
language (``[de]``, ``[en]``). Keys are flat and prefixed with the feature name (``bingo_card_title``), values
are :py:meth:`str.format` templates with named parameters. German is the fallback language.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

SUPPORTED_LANGUAGES: tuple[str, ...] = ("de", "en")
FALLBACK_LANGUAGE = "de"


class Translate(Protocol):
    """``t("key", **params) -> str`` bound to one language."""

    language: str

    def __call__(self, key: str, /, **params: Any) -> str: ...


class _SafeParams(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


@dataclass
class Translator:
    catalog: Catalog
    language: str

    def __call__(self, key: str, /, **params: Any) -> str:
        template = self.catalog.template(key, self.language)
        return template.format_map(_SafeParams(params))


@dataclass
class Catalog:
    """All messages of all features, per language."""

    messages: dict[str, dict[str, str]] = field(default_factory=dict)

    @classmethod
    def from_files(cls, paths: Iterable[Path]) -> Catalog:
        catalog = cls()
        for path in paths:
            with path.open("rb") as handle:
                catalog.add(tomllib.load(handle), source=str(path))
        return catalog

    def add(self, data: Mapping[str, Any], source: str = "<memory>") -> None:
        for language, table in data.items():
            if not isinstance(table, Mapping):
                raise ValueError(f"{source}: top-level entries must be language tables, got {language!r}")
            target = self.messages.setdefault(language, {})
            for key, value in table.items():
                if not isinstance(value, str):
                    raise ValueError(f"{source}: {language}.{key} must be a string")
                if key in target:
                    raise ValueError(f"{source}: duplicate message key {key!r} for language {language!r}")
                target[key] = value

    def template(self, key: str, language: str) -> str:
        for lang in (language, FALLBACK_LANGUAGE):
            found = self.messages.get(lang, {}).get(key)
            if found is not None:
                return found
        raise KeyError(f"missing message {key!r}")

    def has(self, key: str, language: str) -> bool:
        return key in self.messages.get(language, {})

    def translator(self, language: str) -> Translate:
        lang = language if language in SUPPORTED_LANGUAGES else FALLBACK_LANGUAGE
        return Translator(self, lang)

    def missing_keys(self) -> dict[str, set[str]]:
        """Keys present in one language but not in another (used by a unit test)."""
        all_keys = set().union(*(set(table) for table in self.messages.values())) if self.messages else set()
        return {lang: all_keys - set(self.messages.get(lang, {})) for lang in SUPPORTED_LANGUAGES}


@dataclass
class WithDefaults:
    """A translator that fills some parameters itself (``p``, the command prefix, for pure composers)."""

    inner: Translate
    defaults: dict[str, Any]
    language: str = ""

    def __post_init__(self) -> None:
        self.language = self.inner.language

    def __call__(self, key: str, /, **params: Any) -> str:
        return self.inner(key, **{**self.defaults, **params})


def with_defaults(t: Translate, **defaults: Any) -> Translate:
    return WithDefaults(t, defaults)


def plural(t: Translate, key: str, count: int, /, **params: Any) -> str:
    """``key_one`` for a count of 1, else ``key_other``, with ``count`` filled in (German and English need
    no more forms: "1 Person", "0 Personen", "2 Personen")."""
    return t(f"{key}_one" if count == 1 else f"{key}_other", count=count, **params)


def normalize_language(value: str | None, default: str = FALLBACK_LANGUAGE) -> str:
    if value is None:
        return default
    value = value.strip().lower()[:2]
    return value if value in SUPPORTED_LANGUAGES else default

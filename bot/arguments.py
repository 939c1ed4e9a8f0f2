"""What a command's arguments are made of: tokens (quotes of every typographic style group words), the
argument types that read them, and the errors a member can fix."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, time, timedelta
from typing import TYPE_CHECKING, Any

import timephrases

if TYPE_CHECKING:
    from bot.context import CommandContext


_FOLD = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})


def fold(word: str) -> str:
    """Case- and umlaut-insensitive key: ``Löschen``, ``loeschen`` and ``löschen`` match."""
    return unicodedata.normalize("NFC", word).casefold().translate(_FOLD)


class CommandError(Exception):
    """A problem the member can fix: replied as the catalog message ``key`` (plus the usage if asked)."""

    def __init__(self, key: str, /, *, show_usage: bool = False, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.params = params
        self.show_usage = show_usage


class ArgError(CommandError):
    def __init__(self, key: str = "core_arg_invalid", /, **params: Any) -> None:
        super().__init__(key, show_usage=True, **params)


# --- tokens ------------------------------------------------------------------------------------------------

# Double quotes of several typographic styles group words; single quotes do not ("geht's" stays a word).
# ‚…‘ and ‹…› open with characters that never end a word, so they are safe to group too.
_QUOTES = {'"': '"', "„": "“", "“": "”", "”": "”", "«": "»", "»": "«", "‚": "‘", "‹": "›"}
# How numbers appear in the bot's own texts: "Nr. 12", "#12", "<12>", "12."
_NUMBER_WORDS = frozenset({"nr", "nr.", "no", "no.", "nummer", "number"})


@dataclass(frozen=True)
class Token:
    text: str
    start: int  # offset of the token (including an opening quote) in the argument string
    quoted: bool = False


def tokenize(text: str) -> list[Token]:
    """Split on whitespace; double quotes (also „German“ and «French» ones) group words."""
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        start = i
        opener = text[i]
        if opener in _QUOTES:
            end = text.find(_QUOTES[opener], i + 1)
            if end != -1:
                tokens.append(Token(text[i + 1 : end], start, quoted=True))
                i = end + 1
                continue
        while i < n and not text[i].isspace():
            i += 1
        tokens.append(Token(text[start:i], start))
    return tokens


# --- argument types -----------------------------------------------------------------------------------------


@dataclass
class ParseState:
    """What argument parsers may consult: the raw string, the remaining tokens and the invocation."""

    raw: str
    tokens: list[Token]
    ctx: CommandContext


class ArgType:
    """Consumes tokens from the front of ``state.tokens`` and returns the parsed value."""

    def parse(self, state: ParseState) -> Any:
        raise NotImplementedError

    @staticmethod
    def take(state: ParseState) -> Token:
        if not state.tokens:
            raise ArgError("core_arg_missing")
        return state.tokens.pop(0)


class Word(ArgType):
    def parse(self, state: ParseState) -> str:
        return self.take(state).text


class Quoted(ArgType):
    """One token: a single word or a quoted phrase."""

    def __init__(self, max_length: int | None = None) -> None:
        self.max_length = max_length

    def parse(self, state: ParseState) -> str:
        value = self.take(state).text.strip()
        if not value:
            raise ArgError("core_arg_missing")
        if self.max_length is not None and len(value) > self.max_length:
            raise ArgError("core_arg_too_long", max=self.max_length, length=len(value))
        return value


class Text(ArgType):
    """The rest of the line as typed (one surrounding pair of quotes removed)."""

    def __init__(self, max_length: int = 2000, allow_empty: bool = False) -> None:
        self.max_length = max_length
        self.allow_empty = allow_empty

    def parse(self, state: ParseState) -> str:
        if not state.tokens:
            if self.allow_empty:
                return ""
            raise ArgError("core_arg_missing")
        first = state.tokens[0]
        value = first.text if len(state.tokens) == 1 and first.quoted else state.raw[first.start :].strip()
        state.tokens.clear()
        if not value.strip():  # `" "` is no text either
            if self.allow_empty:
                return ""
            raise ArgError("core_arg_missing")
        if len(value) > self.max_length:
            raise ArgError("core_arg_too_long", max=self.max_length, length=len(value))
        return value


class Int(ArgType):
    def __init__(self, minimum: int | None = None, maximum: int | None = None) -> None:
        self.minimum, self.maximum = minimum, maximum

    def parse(self, state: ParseState) -> int:
        if len(state.tokens) > 1 and fold(state.tokens[0].text) in _NUMBER_WORDS:
            state.tokens.pop(0)
        token = self.take(state).text.strip("#<>").rstrip(".")
        if token[:3].casefold() == "nr." and token[3:].isdigit():
            token = token[3:]
        if not re.fullmatch(r"[+-]?\d{1,9}", token):
            raise ArgError("core_arg_not_a_number", value=token)
        value = int(token)
        if self.minimum is not None and value < self.minimum:
            raise ArgError("core_arg_too_small", value=value, minimum=self.minimum)
        if self.maximum is not None and value > self.maximum:
            raise ArgError("core_arg_too_large", value=value, maximum=self.maximum)
        return value


class Choice(ArgType):
    """One of several words; each canonical value may have aliases (German and English)."""

    def __init__(self, choices: Mapping[str, Sequence[str]]) -> None:
        self.lookup = {fold(alias): key for key, aliases in choices.items() for alias in (key, *aliases)}
        self.canonical = list(choices)

    def parse(self, state: ParseState) -> str:
        token = self.take(state).text
        try:
            return self.lookup[fold(token)]
        except KeyError:
            raise ArgError("core_arg_choice", value=token, choices=", ".join(self.canonical)) from None


_USER_ID = re.compile(r"@[a-z0-9._=\-/+]+:[a-zA-Z0-9.\-]+(:\d+)?")


class UserArg(ArgType):
    """A member: a Matrix pill or a typed ``@user:server``."""

    def parse(self, state: ParseState) -> str:
        token = self.take(state).text.strip("<>,;")
        if _USER_ID.fullmatch(token):
            return token
        raise ArgError("core_arg_not_a_user", value=token)


class TimePhraseArg(ArgType):
    """One word read by a ``timephrases`` parser; the parser's None becomes the error ``error_key``."""

    error_key = "core_arg_invalid"

    def read(self, token: str, state: ParseState) -> Any:
        raise NotImplementedError

    def parse(self, state: ParseState) -> Any:
        token = self.take(state).text
        value = self.read(token, state)
        if value is None:
            raise ArgError(self.error_key, value=token)
        return value


class DurationArg(TimePhraseArg):
    error_key = "core_arg_not_a_duration"

    def read(self, token: str, state: ParseState) -> timedelta | None:
        return timephrases.parse_duration(token)


class DateArg(TimePhraseArg):
    error_key = "core_arg_not_a_date"

    def read(self, token: str, state: ParseState) -> date | None:
        return timephrases.parse_date(token, now=state.ctx.now_local(), tz=state.ctx.tz)


class ClockArg(TimePhraseArg):
    error_key = "core_arg_not_a_time"

    def read(self, token: str, state: ParseState) -> time | None:
        return timephrases.parse_clock(token)


class ClockRangeArg(ArgType):
    """``11:15-12:00`` (also with an en dash or spaces around the dash)."""

    def parse(self, state: ParseState) -> tuple[time, time]:
        token = self.take(state).text
        if token.endswith(("-", "–")) and state.tokens:
            token += state.tokens.pop(0).text
        if state.tokens and state.tokens[0].text in ("-", "–"):
            state.tokens.pop(0)
            token += "-" + self.take(state).text
        parts = re.split(r"\s*[-–]\s*", token)
        if len(parts) != 2:
            raise ArgError("core_arg_not_a_time_range", value=token)
        start, end = timephrases.parse_clock(parts[0]), timephrases.parse_clock(parts[1])
        if start is None or end is None:
            raise ArgError("core_arg_not_a_time_range", value=token)
        return start, end


@dataclass
class Arg:
    name: str
    type: ArgType
    required: bool = True
    default: Any = None

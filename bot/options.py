"""Options of a command and the parser that reads a whole argument string into handler keyword arguments.

An option is written with or without dashes: ``plätze 20``, ``--plätze 20``, ``—plätze 20`` (phone keyboards
turn ``--`` into a dash), ``-plätze=20``; a yes/no option is just its word (``wechseln``). With a dash an
option may stand anywhere. Without one it is only recognised where it cannot be part of a free-text argument
(docs/wording.md, "Options"): before or between the command's other arguments, and after them up to where the
free text starts — never inside the free text. A yes/no word is also recognised as the last word of the line.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.arguments import ArgError, ArgType, ParseState, Token, fold, tokenize

if TYPE_CHECKING:
    from bot.context import CommandContext
    from bot.framework import Command


# Phone keyboards turn "--" into a dash; people also type one hyphen. All of these start an option.
_FLAG_START = re.compile(r"^(?:--|[—–−]|-)(?=[^\W\d])")

# A wrong option value is refused with the option's own message, which says what to type instead.
_OPTION_KEYS = {
    "core_arg_missing": "core_arg_option_missing",
    "core_arg_not_a_number": "core_arg_option_not_a_number",
    "core_arg_too_small": "core_arg_option_too_small",
    "core_arg_too_large": "core_arg_option_too_large",
    "core_arg_too_long": "core_arg_option_too_long",
}


@dataclass
class Flag:
    """An option with a value (``plätze 20``) or a yes/no option (``wechseln``, ``type=None``); several
    spellings (German and English). ``example`` is a value that works: refusals of a wrong value show it."""

    name: str
    spellings: Sequence[str]
    type: ArgType | None = None
    example: str = ""

    def __post_init__(self) -> None:
        if self.type is not None and not self.example:
            raise ValueError(f"option {self.name!r} takes a value, so it needs an example value")

    def spelled(self, word: str) -> bool:
        return fold(word) in {fold(spelling) for spelling in self.spellings}


def _read_value(flag: Flag, typed: str, state: ParseState) -> Any:
    """The option's value from the front of ``state.tokens``; a wrong one is refused with an example."""
    assert flag.type is not None
    try:
        return flag.type.parse(state)
    except ArgError as error:
        key = _OPTION_KEYS.get(error.key, "core_arg_option_invalid")
        params = {**error.params, "option": typed, "example": f"{typed} {flag.example}"}
        raise ArgError(key, **params) from None


def _take_dashed(
    command: Command, raw: str, tokens: list[Token], values: dict[str, Any], ctx: CommandContext
) -> str:
    """Take the options written with a dash (and a yes/no word at the very end) out of ``tokens``; returns
    the argument string rebuilt from what is left, so that free text does not contain them."""
    remaining: list[Token] = []
    index = 0
    while index < len(tokens):
        token = tokens[index]
        index += 1
        flag_start = None if token.quoted else _FLAG_START.match(token.text)
        bare = (
            not token.quoted
            and index == len(tokens)
            and index > 1
            and any(f.type is None and f.spelled(token.text) for f in command.flags)
        )
        if not (flag_start or bare):
            remaining.append(token)
            continue
        # A yes/no option may also come without dashes as the last word (`!anmelden 12 wechseln`).
        typed = token.text[flag_start.end() :] if flag_start else token.text
        typed, inline = typed.split("=", 1) if "=" in typed else (typed, None)
        found = next((f for f in command.flags if f.spelled(typed)), None)
        if found is None and not token.text.startswith("--"):
            remaining.append(token)  # "-Beta" or "—Untertitel" in free text: a word, not an option
            continue
        if found is None:
            raise ArgError("core_arg_unknown_flag", value=token.text)
        if found.type is None:
            values[found.name] = True
            continue
        pending = [Token(inline, token.start)] if inline else tokens[index : index + 1]
        if not inline:
            index += 1
        values[found.name] = _read_value(found, typed, ParseState(raw, list(pending), ctx))
    if not remaining:
        return ""
    return " ".join(f'"{t.text}"' if t.quoted else t.text for t in remaining)


def _take_dashless(command: Command, state: ParseState, values: dict[str, Any]) -> None:
    """Options without dashes at the front of ``state.tokens``: an option's word followed by its value.

    Only options not given yet count, so a member who wrote ``--thema KI`` can still start a text with
    "Thema"; a quoted word is never an option."""
    while len(state.tokens) >= 2 and not state.tokens[0].quoted:
        word = state.tokens[0].text
        found = next(
            (f for f in command.flags if f.type is not None and values[f.name] is None and f.spelled(word)),
            None,
        )
        if found is None:
            return
        state.tokens.pop(0)
        values[found.name] = _read_value(found, word, state)


def parse_arguments(command: Command, raw: str, ctx: CommandContext) -> dict[str, Any]:
    """Turn the argument string into keyword arguments for the handler, or raise :class:`ArgError`."""
    tokens = tokenize(raw)
    values: dict[str, Any] = {flag.name: False if flag.type is None else None for flag in command.flags}
    if command.flags:
        raw = _take_dashed(command, raw, tokens, values, ctx)
        tokens = tokenize(raw)
    state = ParseState(raw, tokens, ctx)
    for arg in command.args:
        _take_dashless(command, state, values)
        # Only blank words left (`!hilfe " "`): an optional argument is simply not given.
        if not arg.required and all(not token.text.strip() for token in state.tokens):
            state.tokens.clear()
        if not state.tokens and not arg.required:
            values[arg.name] = arg.default
            continue
        values[arg.name] = arg.type.parse(state)
    _take_dashless(command, state, values)
    if state.tokens:
        raise ArgError("core_arg_unexpected", value=state.tokens[0].text)
    return values

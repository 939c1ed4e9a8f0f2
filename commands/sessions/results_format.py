"""Pure logic of session results: what an ``!ergebnis`` text means, the limits, and the texts that show
results (under ``!session``, in the plenum summary ``!ergebnisse``, in calendar descriptions).

A session's results are up to three key points and up to three links, numbered together in the order they
came in (1, 2, …), so ``!ergebnis <Nr.> löschen 2`` and ``… ersetzen 2 <Text>`` name one entry.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from bot.format import esc, neutralize
from bot.i18n import Translate

from .agenda import location_markdown
from .rules import Problem, SessionStatus, SessionView, SlotView

MAX_POINTS = 3
MAX_LINKS = 3
MAX_RESULT_TEXT = 300

_URL = re.compile(r"https?://[^\s<>\"']+", re.IGNORECASE)
_CLEAR_WORDS = {"löschen", "loeschen", "delete", "clear", "entfernen", "remove"}
_REPLACE_WORDS = {"ersetzen", "replace", "ändern", "aendern", "change"}


class ResultKind(StrEnum):
    POINT = "point"
    LINK = "link"


class ResultVerb(StrEnum):
    ADD = "add"
    CLEAR = "clear"  # every entry, or the one at ``index``
    REPLACE = "replace"


@dataclass(frozen=True)
class ResultEntry:
    kind: str  # ResultKind
    text: str


@dataclass(frozen=True)
class ResultAction:
    verb: ResultVerb
    text: str = ""
    index: int | None = None  # 1-based, for CLEAR (one entry) and REPLACE

    @property
    def kind(self) -> ResultKind:
        return result_kind(self.text)


def result_kind(text: str) -> ResultKind:
    """A text that is nothing but one http(s) address is a link; anything else a key point."""
    return ResultKind.LINK if _URL.fullmatch(text.strip()) else ResultKind.POINT


def parse_result_input(text: str) -> ResultAction:
    """``<Text>`` adds; ``löschen [<Eintrag>]`` clears all or one; ``ersetzen <Eintrag> <Text>`` replaces."""
    stripped = " ".join(line.strip() for line in text.strip().splitlines() if line.strip())
    words = stripped.split(None, 2)
    first = words[0].casefold() if words else ""
    if first in _CLEAR_WORDS and len(words) <= 2:
        if len(words) == 1:
            return ResultAction(ResultVerb.CLEAR)
        if words[1].lstrip("#").isdigit():
            return ResultAction(ResultVerb.CLEAR, index=int(words[1].lstrip("#")))
    if first in _REPLACE_WORDS and len(words) == 3 and words[1].lstrip("#").isdigit():
        return ResultAction(ResultVerb.REPLACE, text=words[2], index=int(words[1].lstrip("#")))
    return ResultAction(ResultVerb.ADD, text=stripped)


_LIST_MARKER = re.compile(r"^\s*(?:[-*•–]|\d{1,2}[.)])\s+")


def parse_result_answer(text: str) -> list[ResultAction]:
    """A whole answer: one entry per line (list markers dropped), or one clear/replace instruction."""
    lines = [_LIST_MARKER.sub("", line).strip() for line in text.strip().splitlines()]
    lines = [line for line in lines if line]
    if len(lines) <= 1:
        return [parse_result_input(lines[0] if lines else "")]
    return [ResultAction(ResultVerb.ADD, text=line) for line in lines]


def check_result(
    action: ResultAction, existing: Sequence[ResultEntry], *, session_id: int, status: str, scheduled: bool
) -> Problem | None:
    """Why ``action`` cannot be applied to a session with ``existing`` results (None: it can)."""
    if status == SessionStatus.CANCELLED:
        return Problem("sessions_results_error_cancelled", {"session_id": session_id})
    if not scheduled:
        return Problem("sessions_results_error_unscheduled", {"session_id": session_id})
    if action.verb in (ResultVerb.ADD, ResultVerb.REPLACE):
        if not action.text.strip():
            return Problem("sessions_results_error_empty", {"session_id": session_id})
        if len(action.text) > MAX_RESULT_TEXT:
            return Problem(
                "sessions_results_error_too_long",
                {"session_id": session_id, "max": MAX_RESULT_TEXT, "length": len(action.text)},
            )
    if action.index is not None and not 1 <= action.index <= len(existing):
        return Problem(
            "sessions_results_error_unknown_entry",
            {"session_id": session_id, "index": action.index, "count": len(existing)},
        )
    if action.verb is ResultVerb.CLEAR and not existing:
        return Problem("sessions_results_error_nothing", {"session_id": session_id})
    kinds = [e.kind for e in existing]
    if action.verb is ResultVerb.REPLACE and action.index is not None:
        kinds.pop(action.index - 1)
    if action.verb in (ResultVerb.ADD, ResultVerb.REPLACE):
        limit = MAX_LINKS if action.kind is ResultKind.LINK else MAX_POINTS
        if kinds.count(action.kind) >= limit:
            key = "sessions_results_error_full"
            if action.kind is ResultKind.LINK:
                key = "sessions_results_error_full_links"
            return Problem(key, {"session_id": session_id, "max": limit})
    return None


# --- showing results --------------------------------------------------------------------------------------


def result_lines(entries: Sequence[ResultEntry], t: Translate) -> list[str]:
    """Numbered Markdown lines: key points escaped, links as autolinks (clickable, nothing else)."""
    lines = []
    for number, entry in enumerate(entries, start=1):
        if entry.kind == ResultKind.LINK:
            lines.append(t("sessions_results_link_line", number=number, link=location_markdown(entry.text)))
        else:
            lines.append(t("sessions_results_point_line", number=number, text=esc(entry.text)))
    return lines


def results_block(entries: Sequence[ResultEntry], t: Translate) -> str:
    """The results part of ``!session <Nr.>`` (empty when there are none)."""
    if not entries:
        return ""
    return t("sessions_results_heading") + "\n" + "\n".join(result_lines(entries, t))


def results_plain(entries: Sequence[ResultEntry], t: Translate) -> str:
    """Results for a calendar description (plain text, no Markdown)."""
    if not entries:
        return ""
    lines = [t("sessions_results_ical_heading")]
    lines.extend(f"- {neutralize(entry.text)}" for entry in entries)
    return "\n".join(lines)


def links_in(entries: Sequence[ResultEntry]) -> list[str]:
    """Every http(s) address of the results: the link entries and links inside key points."""
    found: list[str] = []
    for entry in entries:
        for url in _URL.findall(entry.text):
            if url not in found:
                found.append(url)
    return found


def plenum_summary(
    title: str,
    slots: Sequence[SlotView],
    sessions: Sequence[SessionView],
    results: Mapping[int, Sequence[ResultEntry]],
    t: Translate,
    *,
    name_of: Callable[[str], str] = lambda user_id: user_id,
) -> str:
    """``!ergebnisse``: per time slot, each held session with its hosts, key points and links."""
    lines = [t("sessions_results_summary_title", title=esc(title))]
    held = [s for s in sessions if s.status == SessionStatus.SCHEDULED and s.slot_id is not None]
    for slot in slots:
        in_slot = sorted((s for s in held if s.slot_id == slot.id), key=lambda s: s.id)
        if not in_slot:
            continue
        lines.append("")
        lines.append(t("sessions_results_summary_slot", name=esc(slot.name), start=slot.start, end=slot.end))
        for session in in_slot:
            hosts = ", ".join(esc(name_of(host)) for host in session.hosts)
            line = t("sessions_results_summary_session", title=esc(session.title), session_id=session.id)
            lines.append(line + (" – " + hosts if hosts else ""))
            entries = results.get(session.id, ())
            if entries:
                lines.extend("  " + line for line in result_lines(entries, t))
            else:
                lines.append("  " + t("sessions_results_summary_none", session_id=session.id))
    if len(lines) == 1:
        lines.append(t("sessions_results_summary_empty"))
    return "\n".join(lines)

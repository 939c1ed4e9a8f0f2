"""Import an event's program (program items and session rounds) from an attached TOML or CSV file.

TOML — one array table per entry; German or English keys::

    [[programm]]              # or [[program]]
    zeit = "09:30"            # or time = ...  (a TOML local time 09:30:00 works too)
    punkt = "Begrüßung"       # or item = / label = ...

    [[runde]]                 # or [[round]] / [[slot]]
    name = "Sessionrunde 1"   # or titel = / title = ...
    von = "11:15"             # or start = / from = ...
    bis = "12:00"             # or end = / to = ...

CSV — UTF-8 (Windows-1252 from Excel is accepted too), separated by ``,`` ``;`` or tab, with a header line.
Program items use the columns ``zeit,punkt`` (``time,item``; ``uhrzeit,programmpunkt`` also work), session
rounds ``von,bis,runde`` (``start,end,name``)::

    zeit,punkt                von;bis;runde
    09:30,Begrüßung           11:15;12:00;Sessionrunde 1
    12:00,Mittagspause        13:05;13:50;Sessionrunde 2

A header may name both sets of columns; each row then fills one set (or both). Times are ``HH:MM`` (``H:MM``
and ``HH.MM`` are accepted). Every problem is reported with its line number, not only the first one.
"""

from __future__ import annotations

import csv
import io
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import time
from typing import Final

from .rules import MAX_TITLE_LENGTH, Problem, ProgramItemView, SlotView, slots_overlap

MAX_ENTRIES: Final = 300

_ITEM_TABLES: Final = frozenset({"programm", "program", "programmpunkt", "item"})
_SLOT_TABLES: Final = frozenset({"zeitfenster", "runde", "round", "slot", "sessionrunde"})
_ITEM_TIME: Final = ("zeit", "uhrzeit", "time")
_ITEM_LABEL: Final = ("punkt", "programmpunkt", "programmpunkte", "item", "label")
_SLOT_NAME: Final = ("name", "zeitfenster", "runde", "titel", "title", "round", "slot", "sessionrunde")
_SLOT_START: Final = ("von", "beginn", "start", "from")
_SLOT_END: Final = ("bis", "ende", "end", "to")
# CSV header names; "name"/"titel" are only slot names there.
_CSV_COLUMNS: Final = {
    "time": _ITEM_TIME,
    "label": _ITEM_LABEL,
    "name": ("zeitfenster", "runde", "name", "round", "slot", "sessionrunde"),
    "start": _SLOT_START,
    "end": _SLOT_END,
}

_TIME_TEXT = re.compile(r"(\d{1,2})[:.](\d{2})(?::00)?")
_TOML_LINE = re.compile(r"at line (\d+)")
_TOML_HEADER = re.compile(r"^\s*\[\[?\s*\"?([^\]\"]+?)\"?\s*\]")


@dataclass(frozen=True)
class ImportedSlot:
    """A session round read from the file (no database id yet)."""

    name: str
    start: time
    end: time
    line: int | None = None

    def as_view(self, slot_id: int) -> SlotView:
        return SlotView(id=slot_id, name=self.name, start=self.start, end=self.end)


@dataclass(frozen=True)
class ProgramImport:
    items: tuple[ProgramItemView, ...]
    slots: tuple[ImportedSlot, ...]
    problems: tuple[Problem, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def parse_program(data: bytes, filename: str) -> ProgramImport:
    """Parse an attached program file; the format follows the file name (content decides otherwise)."""
    try:
        text = _decode(data)
    except UnicodeDecodeError:
        return _failed(Problem("sessions_import_encoding"))
    lower = filename.lower()
    if lower.endswith(".toml"):
        return parse_program_toml(text)
    if lower.endswith((".csv", ".tsv", ".txt")):
        return parse_program_csv(text)
    if re.search(r"^\s*\[\[", text, re.MULTILINE):
        return parse_program_toml(text)
    if _csv_header_kinds(_first_row(text)):
        return parse_program_csv(text)
    return _failed(Problem("sessions_import_unknown_format", {"filename": filename}))


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # German Excel saves "CSV (Trennzeichen-getrennt)" in Windows-1252.
        return data.decode("cp1252")


def _failed(problem: Problem) -> ProgramImport:
    return ProgramImport((), (), (problem,))


class _Collector:
    """Gathers entries and problems, then checks the whole program."""

    def __init__(self) -> None:
        self.items: list[tuple[ProgramItemView, int | None]] = []
        self.slots: list[ImportedSlot] = []
        self.problems: list[Problem] = []

    def problem(self, key: str, line: int | None, **params: object) -> None:
        self.problems.append(Problem(key, params, line))

    def text(self, value: object, field: str, line: int | None) -> str | None:
        if value is None or (isinstance(value, str) and not value.strip()):
            self.problem("sessions_import_missing_field", line, field=field)
            return None
        if not isinstance(value, str):
            self.problem("sessions_import_bad_text", line, field=field)
            return None
        stripped = " ".join(value.split())
        if len(stripped) > MAX_TITLE_LENGTH:
            self.problem("sessions_import_text_too_long", line, length=len(stripped), max=MAX_TITLE_LENGTH)
            return None
        return stripped

    def time(self, value: object, field: str, line: int | None) -> time | None:
        if value is None or (isinstance(value, str) and not value.strip()):
            self.problem("sessions_import_missing_field", line, field=field)
            return None
        parsed = parse_time(value)
        if parsed is None:
            self.problem("sessions_import_bad_time", line, value=str(value))
        return parsed

    def add_item(
        self, when: object, label: object, lines: Mapping[str, int | None], fields: tuple[str, ...]
    ) -> None:
        parsed_time = self.time(when, fields[0], lines[fields[0]])
        parsed_label = self.text(label, fields[1], lines[fields[1]])
        if parsed_time is not None and parsed_label is not None:
            self.items.append((ProgramItemView(parsed_time, parsed_label), lines[fields[0]]))

    def add_slot(
        self,
        name: object,
        start: object,
        end: object,
        lines: Mapping[str, int | None],
        fields: tuple[str, ...],
    ) -> None:
        parsed_name = self.text(name, fields[0], lines[fields[0]])
        parsed_start = self.time(start, fields[1], lines[fields[1]])
        parsed_end = self.time(end, fields[2], lines[fields[2]])
        if parsed_name is None or parsed_start is None or parsed_end is None:
            return
        if parsed_end <= parsed_start:
            self.problem(
                "sessions_import_end_before_start", lines[fields[2]], start=parsed_start, end=parsed_end
            )
            return
        self.slots.append(ImportedSlot(parsed_name, parsed_start, parsed_end, lines[fields[0]]))

    def result(self) -> ProgramImport:
        if len(self.items) + len(self.slots) > MAX_ENTRIES:
            return _failed(Problem("sessions_import_too_many", {"max": MAX_ENTRIES}))
        ordered = sorted(self.slots, key=lambda s: (s.start, s.end, s.line or 0))
        for index, slot in enumerate(ordered):
            for earlier in ordered[:index]:
                if slots_overlap(slot.as_view(0), earlier.as_view(1)):
                    self.problem(
                        "sessions_import_overlap",
                        slot.line,
                        name=slot.name,
                        other=earlier.name,
                        other_start=earlier.start,
                        other_end=earlier.end,
                    )
                    break
        if not self.problems and not self.items and not self.slots:
            self.problem("sessions_import_empty", None)
        items = tuple(
            item for item, _ in sorted(self.items, key=lambda entry: (entry[0].time, entry[1] or 0))
        )
        problems = tuple(sorted(self.problems, key=lambda p: p.line or 0))
        return ProgramImport(items, tuple(ordered), problems)


def parse_time(value: object) -> time | None:
    """``time`` from "09:30", "9:30", "09.30", "09:30:00" or a TOML local time; None otherwise."""
    if isinstance(value, time):
        if value.tzinfo is None and value.second == 0 and value.microsecond == 0:
            return value
        return None
    if not isinstance(value, str):
        return None
    match = _TIME_TEXT.fullmatch(value.strip())
    if match is None:
        return None
    hour, minute = int(match.group(1)), int(match.group(2))
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


# --- TOML -------------------------------------------------------------------------------------------------


def parse_program_toml(text: str) -> ProgramImport:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        found = _TOML_LINE.search(str(error))
        line = int(found.group(1)) if found else None
        return _failed(Problem("sessions_import_toml_syntax", {"detail": str(error)}, line))

    lines = text.splitlines()
    collector = _Collector()
    for table, entries in data.items():
        name = table.strip().casefold()
        header_lines = _header_lines(lines, table)
        if name not in _ITEM_TABLES | _SLOT_TABLES:
            collector.problem("sessions_import_unknown_table", _key_line(lines, table), name=table)
            continue
        if not isinstance(entries, list):
            entries = [entries]
        for index, entry in enumerate(entries):
            start_line = header_lines[index] if index < len(header_lines) else _key_line(lines, table)
            if not isinstance(entry, dict):
                collector.problem("sessions_import_not_a_table", start_line, name=table)
                continue
            _toml_entry(collector, lines, name in _ITEM_TABLES, entry, start_line)
    return collector.result()


def _toml_entry(
    collector: _Collector, lines: list[str], is_item: bool, entry: dict[str, object], start_line: int | None
) -> None:
    keys = {key.casefold(): key for key in entry}

    def pick(aliases: tuple[str, ...]) -> tuple[str, object]:
        for alias in aliases:
            if alias in keys:
                return keys[alias], entry[keys[alias]]
        return aliases[0], None

    if is_item:
        (time_key, when), (label_key, label) = pick(_ITEM_TIME), pick(_ITEM_LABEL)
        fields: tuple[str, ...] = (time_key, label_key)
        values: tuple[object, ...] = (when, label)
    else:
        picked = (pick(_SLOT_NAME), pick(_SLOT_START), pick(_SLOT_END))
        fields = tuple(key for key, _ in picked)
        values = tuple(value for _, value in picked)
    field_lines = {key: _field_line(lines, start_line, key) for key in fields}
    if is_item:
        collector.add_item(values[0], values[1], field_lines, fields)
    else:
        collector.add_slot(values[0], values[1], values[2], field_lines, fields)


def _header_lines(lines: list[str], table: str) -> list[int]:
    """1-based line numbers of the ``[[table]]`` headers, in order (one per array entry)."""
    found = []
    for number, line in enumerate(lines, start=1):
        match = _TOML_HEADER.match(line)
        if match and line.lstrip().startswith("[[") and match.group(1).strip() == table:
            found.append(number)
    return found


def _key_line(lines: list[str], key: str) -> int | None:
    pattern = re.compile(rf"^\s*(\[\[?\s*)?\"?{re.escape(key)}\"?\s*(=|\])")
    return next((number for number, line in enumerate(lines, start=1) if pattern.match(line)), None)


def _field_line(lines: list[str], start_line: int | None, key: str) -> int | None:
    """The line of ``key = ...`` inside the entry starting at ``start_line``; the entry's line otherwise."""
    if start_line is None:
        return None
    pattern = re.compile(rf"^\s*\"?{re.escape(key)}\"?\s*=")
    for number in range(start_line + 1, len(lines) + 1):
        line = lines[number - 1]
        if _TOML_HEADER.match(line):
            break
        if pattern.match(line):
            return number
    return start_line


# --- CSV --------------------------------------------------------------------------------------------------


def _first_row(text: str) -> list[str]:
    first = next((line for line in text.splitlines() if line.strip()), "")
    return next(csv.reader([first], delimiter=_delimiter(first)), [])


def _delimiter(header_line: str) -> str:
    counts = {candidate: header_line.count(candidate) for candidate in (";", "\t", ",")}
    best = max(counts, key=lambda candidate: counts[candidate])
    return best if counts[best] else ","


def _csv_header_kinds(header: list[str]) -> dict[str, int]:
    """Column index per role (time, label, name, start, end) found in the header."""
    normalized = [cell.strip().casefold() for cell in header]
    roles: dict[str, int] = {}
    for role, aliases in _CSV_COLUMNS.items():
        for index, cell in enumerate(normalized):
            if cell in aliases:
                roles[role] = index
                break
    has_items = "time" in roles and "label" in roles
    has_slots = {"name", "start", "end"} <= roles.keys()
    return roles if has_items or has_slots else {}


def parse_program_csv(text: str) -> ProgramImport:
    all_lines = text.splitlines()
    # Leading blank lines are skipped; their count keeps the reported line numbers right.
    skipped = next((index for index, line in enumerate(all_lines) if line.strip()), len(all_lines))
    body = "\n".join(all_lines[skipped:])
    header_line = all_lines[skipped] if skipped < len(all_lines) else ""
    reader = csv.reader(io.StringIO(body), delimiter=_delimiter(header_line))
    header = next(reader, [])
    roles = _csv_header_kinds(header)
    if not roles:
        found = ",".join(cell.strip() for cell in header) or "-"
        return _failed(Problem("sessions_import_csv_header", {"found": found}, skipped + 1))
    names = {role: header[index].strip() for role, index in roles.items()}

    collector = _Collector()
    for row in reader:
        line = skipped + reader.line_num

        def cell(role: str, row: list[str] = row) -> str:
            index = roles.get(role)
            return row[index].strip() if index is not None and index < len(row) else ""

        item_cells = [cell("time"), cell("label")] if "time" in roles and "label" in roles else []
        slot_cells = (
            [cell("name"), cell("start"), cell("end")] if {"name", "start", "end"} <= roles.keys() else []
        )
        if any(item_cells):
            fields = (names["time"], names["label"])
            collector.add_item(item_cells[0], item_cells[1], dict.fromkeys(fields, line), fields)
        if any(slot_cells):
            slot_fields = (names["name"], names["start"], names["end"])
            name, start, end = slot_cells
            collector.add_slot(name, start, end, dict.fromkeys(slot_fields, line), slot_fields)
    return collector.result()

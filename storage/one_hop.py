"""The statements around every command, run with their commit in one round trip to SQLite's thread.

Through SQLAlchemy's async engine a transaction costs one round trip between the event loop and the SQLite
worker thread per statement and one more for the commit (storage/sqlite_driver.py already made it one per
statement instead of four). On a busy two-core machine a round trip is 0.2–2 ms, mostly waiting to be
scheduled, against microseconds for the statements themselves; the claim of a command (insert + read the
member's settings + commit) sat on every command's path to its reply. Here such a unit is compiled once by
SQLAlchemy (same SQL, same type conversions as the ORM path) and run as one call in the thread, with its
commit. Callers write such a unit once, as :class:`Prepared` statements with their values, and run it with
``Database.run_together``: on SQLite through our driver in one round trip, elsewhere (PostgreSQL,
``Database.one_hop`` None) as a transaction of the engine. See docs/decisions.md ("One round trip for the
claim and the outbox").
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy.dialects.sqlite.aiosqlite import SQLiteDialect_aiosqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.expression import Executable

T = TypeVar("T")
Work = Callable[[sqlite3.Connection], T]


@dataclass(frozen=True)
class CompiledStatement:
    """A statement compiled for SQLite: its SQL and how to turn named values into its parameters (values the
    statement carries itself, such as ``status == "scheduled"``, are used unless given)."""

    sql: str
    names: tuple[str, ...]
    processors: tuple[Callable[[Any], Any] | None, ...]
    carried: Mapping[str, Any]
    # How each column a statement returns (SELECT, RETURNING) becomes its Python value (dates, times, JSON),
    # as SQLAlchemy converts it; empty for statements that return nothing.
    converters: tuple[Callable[[Any], Any] | None, ...] = ()

    @classmethod
    def of(
        cls, statement: Executable, dialect: Dialect, column_keys: Sequence[str] | None = None
    ) -> CompiledStatement:
        compiled: Any = statement.compile(  # type: ignore[attr-defined]
            dialect=dialect, column_keys=list(column_keys) if column_keys is not None else None
        )
        names = tuple(compiled.positiontup or ())
        binds = [compiled.binds[name] for name in names]
        processors = tuple(bind.type.dialect_impl(dialect).bind_processor(dialect) for bind in binds)
        carried = {name: bind.value for name, bind in zip(names, binds, strict=True) if not bind.required}
        returned = getattr(statement, "exported_columns", ())
        converters = tuple(
            column.type.dialect_impl(dialect).result_processor(dialect, None) for column in returned
        )
        return cls(compiled.string, names, processors, carried, converters)

    def parameters(self, values: Mapping[str, Any]) -> list[Any]:
        """Positional parameters, converted as SQLAlchemy converts them (datetimes, JSON, booleans)."""
        given = {**self.carried, **values}
        return [
            processor(given[name]) if processor is not None else given[name]
            for name, processor in zip(self.names, self.processors, strict=True)
        ]

    def run(self, connection: sqlite3.Connection, values: Mapping[str, Any]) -> sqlite3.Cursor:
        return connection.execute(self.sql, self.parameters(values))

    def converted(self, row: Sequence[Any]) -> tuple[Any, ...]:
        """A returned row with Python values."""
        if not any(self.converters):
            return tuple(row)
        return tuple(
            value if convert is None else convert(value)
            for convert, value in zip(self.converters, row, strict=True)
        )

    def rows(self, connection: sqlite3.Connection, values: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """Run a SELECT; its rows with Python values."""
        return [self.converted(row) for row in self.run(connection, values).fetchall()]


SQLITE = SQLiteDialect_aiosqlite()


@dataclass(frozen=True)
class Prepared:
    """A statement of a hot path with the columns it is given (all of them: Python-side defaults are not
    applied on the one-round-trip path), and its SQLite form, compiled once."""

    statement: Executable
    sqlite: CompiledStatement

    @classmethod
    def of(cls, statement: Executable, column_keys: Sequence[str] | None = None) -> Prepared:
        return cls(statement, CompiledStatement.of(statement, SQLITE, column_keys))


def as_transaction(work: Work[T]) -> Callable[[sqlite3.Connection], T]:
    """``work`` followed by its commit, or rolled back when it raises (runs in the SQLite thread)."""

    def run(connection: sqlite3.Connection) -> T:
        try:
            result = work(connection)
        except BaseException:
            if connection.in_transaction:
                connection.rollback()
            raise
        if connection.in_transaction:
            connection.commit()
        return result

    return run

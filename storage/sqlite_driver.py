"""aiosqlite with one thread hop per statement.

SQLAlchemy's aiosqlite adapter awaits aiosqlite four times per SELECT (open cursor, execute, fetchall, close),
and every await is a round trip between the event loop and aiosqlite's worker thread: ≈ 0.7 ms per statement
on a busy two-core machine, against ≈ 0.1 ms for the statement itself. The connection below keeps aiosqlite
(its thread, its queue, its error types) and changes one thing: a cursor runs execute, fetchall and close as
one call in the worker thread and keeps the rows, so the adapter's later awaits return at once.
See docs/decisions.md ("One thread hop per SQLite statement").
"""

from __future__ import annotations

import sqlite3
from collections import deque
from collections.abc import Callable, Generator, Iterable, Sequence
from typing import Any, TypeVar

import aiosqlite

T = TypeVar("T")
Description = tuple[tuple[Any, ...], ...] | None
Parameters = Sequence[Any] | dict[str, Any]


class _Outcome:
    """What a statement left on its sqlite3 cursor, collected in the worker thread."""

    __slots__ = ("description", "lastrowid", "rowcount", "rows")

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self.description: Description = cursor.description
        self.rows: list[Any] = cursor.fetchall() if cursor.description else []
        self.rowcount = cursor.rowcount
        self.lastrowid = cursor.lastrowid


def _run(raw: sqlite3.Connection, call: Callable[[sqlite3.Cursor], object]) -> _Outcome:
    cursor = raw.cursor()
    try:
        call(cursor)
        return _Outcome(cursor)
    finally:
        cursor.close()


class PrefetchingCursor:
    """The part of aiosqlite's cursor that SQLAlchemy uses; results are fetched in the same hop as execute."""

    def __init__(self, connection: PrefetchingConnection) -> None:
        self._connection = connection
        self._rows: deque[Any] = deque()
        self.description: Description = None
        self.rowcount = -1
        self.lastrowid: int | None = None
        self.arraysize = 1

    async def _run(self, call: Callable[[sqlite3.Cursor], object]) -> PrefetchingCursor:
        outcome = await self._connection.run_in_thread(call)
        self.description, self._rows = outcome.description, deque(outcome.rows)
        self.rowcount, self.lastrowid = outcome.rowcount, outcome.lastrowid
        return self

    async def execute(self, sql: str, parameters: Parameters | None = None) -> PrefetchingCursor:
        return await self._run(lambda cursor: cursor.execute(sql, () if parameters is None else parameters))

    async def executemany(self, sql: str, parameters: Iterable[Parameters]) -> PrefetchingCursor:
        return await self._run(lambda cursor: cursor.executemany(sql, parameters))

    async def fetchone(self) -> Any:
        return self._rows.popleft() if self._rows else None

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        count = self.arraysize if size is None else size
        return [self._rows.popleft() for _ in range(min(count, len(self._rows)))]

    async def fetchall(self) -> list[Any]:
        taken, self._rows = list(self._rows), deque()
        return taken

    async def close(self) -> None:
        self._rows = deque()  # the sqlite3 cursor was closed in the worker thread already

    async def __aenter__(self) -> PrefetchingCursor:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()


class _OpenedCursor:
    """`connection.cursor()`: awaited by some SQLAlchemy versions, entered with `async with` by others."""

    def __init__(self, cursor: PrefetchingCursor) -> None:
        self._cursor = cursor

    def __await__(self) -> Generator[Any, None, PrefetchingCursor]:
        return self._cursor.__aenter__().__await__()

    async def __aenter__(self) -> PrefetchingCursor:
        return self._cursor

    async def __aexit__(self, *_: object) -> None:
        await self._cursor.close()


class PrefetchingConnection:
    """An aiosqlite connection whose cursors need one hop per statement; everything else is aiosqlite's."""

    def __init__(self, inner: aiosqlite.Connection) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def _idle(self) -> bool:
        """No transaction open, so commit and rollback have nothing to do (SQLAlchemy calls both around every
        unit of work, read-only ones too, and the pool rolls back once more on return)."""
        try:
            return not self._inner._conn.in_transaction
        except (sqlite3.ProgrammingError, ValueError):  # other thread (in-memory databases), or closed
            return False

    async def commit(self) -> None:
        if not self._idle():
            await self._inner.commit()

    async def rollback(self) -> None:
        if not self._idle():
            await self._inner.rollback()

    def cursor(self) -> _OpenedCursor:
        return _OpenedCursor(PrefetchingCursor(self))

    async def call_in_thread(self, call: Callable[[sqlite3.Connection], T]) -> T:
        """``call(raw connection)`` in the worker thread, one hop (storage/one_hop.py)."""
        result: T = await self._inner._execute(call, self._inner._conn)  # type: ignore[no-untyped-call]
        return result

    async def run_in_thread(self, call: Callable[[sqlite3.Cursor], object]) -> _Outcome:
        # aiosqlite's own queue into its worker thread (SQLAlchemy's adapter uses the same internals).
        outcome: _Outcome = await self._inner._execute(  # type: ignore[no-untyped-call]
            _run, self._inner._conn, call
        )
        return outcome


async def connect(database: str, **kwargs: Any) -> PrefetchingConnection:
    inner = aiosqlite.connect(database, **kwargs)
    # As SQLAlchemy does for aiosqlite: a connection nobody closed must not keep the process alive.
    thread = getattr(inner, "_thread", None)
    if thread is not None:
        thread.daemon = True
    return PrefetchingConnection(await inner)

"""Shared state lives on the application context, not in module globals: per-thing locks and background
tasks that outlive a handler."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from tests.inprocess import make_app


async def test_one_lock_per_key_and_per_app(tmp_path: Path) -> None:
    app, other = make_app(tmp_path / "a"), make_app(tmp_path / "b")
    assert app.locks.for_key("sessions-event", 1) is app.locks.for_key("sessions-event", 1)
    assert app.locks.for_key("sessions-event", 1) is not app.locks.for_key("sessions-event", 2)
    assert app.locks.for_key("sessions-event", 1) is not other.locks.for_key("sessions-event", 1)


async def test_a_failing_background_task_is_logged(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    app = make_app(tmp_path)
    done = asyncio.Event()

    async def fail() -> None:
        done.set()
        raise RuntimeError("intro room vanished")

    with caplog.at_level(logging.ERROR, logger="bot.app"):
        app.in_background(fail(), name="intro !room")
        await done.wait()
        await asyncio.sleep(0)
        await asyncio.sleep(0)
    assert "background task intro !room failed" in caplog.text
    assert "intro room vanished" in caplog.text


async def test_background_tasks_are_kept_until_done(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    release = asyncio.Event()
    finished: list[str] = []

    async def work() -> None:
        await release.wait()
        finished.append("intro sent")

    app.in_background(work())
    await asyncio.sleep(0)
    assert len(app._background) == 1
    release.set()
    for _ in range(3):
        await asyncio.sleep(0)
    assert finished == ["intro sent"]
    assert not app._background

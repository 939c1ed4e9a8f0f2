"""The sync loop hands events to registered handlers; the router registers itself; bot/matrix never calls
it."""

from __future__ import annotations

import ast
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from bot.app import App
from bot.matrix import MatrixBot, RoomEvents
from tests.inprocess import make_app


def test_the_app_registers_the_router_for_every_kind_of_event(tmp_path: Path) -> None:
    app = App(make_app(tmp_path).settings)
    for kind in RoomEvents:
        handlers = app.matrix.handlers(kind)
        assert handlers, kind
        assert all(getattr(handler, "__self__", None) is app.router for handler in handlers), kind


async def test_events_go_to_every_handler_of_their_kind_in_order(tmp_path: Path) -> None:
    matrix = MatrixBot(App(make_app(tmp_path).settings))  # one nobody registered with
    seen: list[tuple[str, Any]] = []

    async def first(room: Any, event: Any) -> None:
        seen.append(("first", event))

    async def second(room: Any, event: Any) -> None:
        seen.append(("second", event))

    matrix.add_event_handler(RoomEvents.REDACTION, first)
    matrix.add_event_handler(RoomEvents.REDACTION, second)
    await matrix._hand_on(RoomEvents.REDACTION, SimpleNamespace(room_id="!r:x"), "$event")
    assert seen[-2:] == [("first", "$event"), ("second", "$event")]


def test_the_sync_loop_names_no_router() -> None:
    package = Path(MatrixBot.__module__.replace(".", "/"))  # bot/matrix/: every module of the Matrix wire
    modules = sorted(package.glob("*.py"))
    assert len(modules) > 1
    for module in modules:
        tree = ast.parse(module.read_text())
        names = {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
        assert "router" not in names, module

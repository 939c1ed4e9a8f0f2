"""Reaction keys compare without the emoji variation selector (clients send ✔️ and ✔ alike)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from bot.context import ReactionContext, bare_key


def reaction(key: str) -> ReactionContext:
    app: Any = SimpleNamespace()
    return ReactionContext(
        app=app,
        room_id="!r",
        sender="@a:x",
        key=bare_key(key),
        added=True,
        kind="k",
        ref_id=1,
        target_event_id="$t",
        language="de",
    )


def test_keys_match_with_and_without_the_variation_selector() -> None:
    assert bare_key("✔\ufe0f") == "✔"
    assert reaction("✔\ufe0f").is_one_of(("✔",))
    assert reaction("✔").is_one_of(("✔\ufe0f", "👍"))
    assert not reaction("👎").is_one_of(("✔\ufe0f", "👍"))

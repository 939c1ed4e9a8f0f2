"""Members by the name their client shows: the display name from the room member state that nio keeps for
every joined room (no request to the homeserver), the Matrix ID only when no shared room knows a name.

Lists that members read (leaderboards, hosts, contacts, digests) show names; a pill keeps them clickable.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from bot.sender import pill

if TYPE_CHECKING:
    from bot.app import App


def display_name(app: App, user_id: str, room_id: str | None = None) -> str | None:
    """The member's display name, preferably as set in ``room_id`` (names may differ per room). Where others
    in that room go by the same name, the Matrix ID follows ("Anna (@anna:example.org)"), as Element shows it:
    two "Anna" in a list of contacts could not be told apart."""
    # An app without a Matrix client (the CLI, unit tests' fakes) knows no names.
    rooms = getattr(getattr(getattr(app, "matrix", None), "client", None), "rooms", None) or {}
    first = [rooms[room_id]] if room_id and room_id in rooms else []
    for room in (*first, *rooms.values()):
        user = room.users.get(user_id)
        name = getattr(user, "display_name", None) if user is not None else None
        if name:
            return f"{name} ({user_id})" if _shared_by_others(room, str(name)) else str(name)
    return None


def _shared_by_others(room: Any, name: str) -> bool:
    """nio's index of the room's display names (name → user ids) lists someone else with this one."""
    return len(getattr(room, "names", {}).get(name, ())) > 1


def name_or_localpart(app: App, user_id: str, room_id: str | None = None) -> str:
    """The display name, or the Matrix ID's name part ("anna" of @anna:example.org) where none is known."""
    return display_name(app, user_id, room_id) or user_id.split(":", 1)[0].lstrip("@")


def named_pill(app: App, user_id: str, room_id: str | None = None) -> str:
    """A pill whose text is the display name (the plain body shows the name, clients show the pill)."""
    return pill(user_id, display_name(app, user_id, room_id))


def display_names(app: App, user_ids: Iterable[str], room_id: str | None = None) -> tuple[str, ...]:
    """Display names in the order given; the Matrix ID where no name is known."""
    return tuple(display_name(app, user_id, room_id) or user_id for user_id in user_ids)

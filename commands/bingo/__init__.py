"""Verwaltungsbingo: a people-bingo in a room. Fields only count once the named person confirmed them.

``!bingo start [3|4|5] [30m]`` (moderator) starts a game, ``!bingo karte`` shows my card (table and PNG),
``!bingo B2 @anna:example.org`` asks Anna to confirm that she fits field B2 (✅ on the request or
``!bingo bestätigen <nr>``), ``!bingo stand`` shows the leaderboard, ``!bingo stopp`` ends the game early.
The end time and the expiry of requests run on the scheduler; games, cards and claims live in the database,
so a restart loses nothing.

The parts: ``feature`` (the declaration), ``*_commands`` and ``reactions`` (thin handlers), ``service`` (a
request decided, a game finished), ``queries`` (reading), ``pools`` (prompt pools), ``jobs`` (scheduled
work), ``texts`` (options and small texts), ``game``/``render`` (pure logic and the card's picture),
``privacy``.
"""

# Imported for their registrations, in the order the commands appear in the help (hence no sorting).
from . import game_commands  # noqa: F401

# isort: split
from . import claim_commands  # noqa: F401

# isort: split
from . import prompt_commands  # noqa: F401

# isort: split
from . import jobs, privacy, reactions  # noqa: F401
from .feature import feature

__all__ = ["feature"]

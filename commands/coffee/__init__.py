"""NExT-Kaffee (issue 18.1): regular pairing across communities.

Members opt in once (``!kaffee mitmachen``), with a rhythm, pauses and a private block list. Each run (the
``[coffee]`` schedule, or ``!kaffee jetzt`` by an admin) pairs the members who are due with the pure
:mod:`commands.coffee.pairing`, creates a private chat per pair or trio with an introduction, and asks a week
later whether they met. Exactly once per run: a ``coffee_runs`` row per scheduled time is the claim.

The parts: ``feature`` (the declaration), ``member_commands`` (thin handlers), ``service`` (opt-in, pause,
block list), ``runs`` (claim and pair), ``introductions``, ``follow_up`` (asking, answers, leaving the chat),
``jobs`` (schedule and catch-up), ``rules`` and ``pairing`` (pure logic), ``privacy``.
"""

from . import jobs, member_commands, privacy, reactions  # noqa: F401
from .feature import coffee_settings, feature

__all__ = ["coffee_settings", "feature"]

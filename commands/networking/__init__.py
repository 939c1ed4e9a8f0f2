"""Networking: ``!partner`` requests and moderator-timed speed-dating rounds (``!runde …``), ``!kontakte``.

Who meets whom is decided by :mod:`commands.networking.matching` (pure logic); ``service`` stores requests,
blocks, rounds and meetings, ``introductions`` introduces the people (a private room per group, or a threaded
message) and ``jobs`` keeps the time with scheduler jobs that survive restarts (the rows carry the state, the
jobs only ids). The ``*_commands`` modules are the thin handlers.
"""

# Imported for their registrations, in the order the commands appear in the help (hence no sorting).
from . import partner_commands  # noqa: F401

# isort: split
from . import round_commands  # noqa: F401

# isort: split
from . import contact_commands, jobs, privacy  # noqa: F401
from .feature import feature

__all__ = ["feature"]

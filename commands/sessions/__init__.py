"""Sessions: barcamp events with program, session rounds, proposals, sign-ups with wait lists, agenda, iCal.

Moderators create an event in the community room (``!veranstaltung neu``), add program items and session
rounds, open proposals, schedule sessions into rounds and publish the agenda. Members propose sessions,
sign up (``!anmelden``, or ✅ on a session's announcement), withdraw, list their sessions and download
an .ics file. Reminders go out by direct message before each session; each round's start is announced in the
event room. See docs/sessions.md.

The parts: ``feature`` (the declaration), ``*_commands`` and ``reactions`` (thin handlers), ``service`` and
``planning`` (transactions and multi-step rules), ``queries`` (reading), ``jobs`` (scheduled work),
``rules``/``agenda``/``ical``/``program_import`` (pure logic and formatting), ``privacy``.
"""

# Imported for their registrations, in the order the commands appear in the help (hence no sorting).
from . import event_commands  # noqa: F401

# isort: split
from . import session_commands  # noqa: F401

# isort: split
from . import member_commands, reactions  # noqa: F401

# isort: split
from . import (  # noqa: F401
    interest_commands,
    interest_privacy,
    location_commands,
    plan_commands,
    repeat_commands,
    result_commands,
)

# isort: split
from . import jobs, privacy, results_jobs, results_privacy  # noqa: F401
from .feature import feature

__all__ = ["feature"]

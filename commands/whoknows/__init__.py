"""Who knows about …? (issue 18 §2): ``!wer-kennt <Thema>`` finds members who chose to be findable
(``!profil auffindbar ja``) and whose topics or organisation match, German compounds and synonyms included;
``!vorstellen <Nr.>`` asks the found person first and creates a chat for both only on their yes.

``matching`` (pure) normalises and ranks, ``limits`` (pure) decides the rate limits, ``service`` stores
findability, synonyms and searches, ``introductions`` asks and introduces, ``jobs`` ends unanswered requests.
"""

from . import whoknows_commands  # noqa: F401

# isort: split
from . import jobs, privacy  # noqa: F401
from .feature import feature

__all__ = ["feature"]

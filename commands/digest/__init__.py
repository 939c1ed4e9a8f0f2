"""Monthly newsletter digest: member news, upcoming sessions and last month in numbers.

- Member news: ``!neuigkeit <Text>`` (members) waits for a moderator's ``!neuigkeit ok|ablehnen|bearbeiten``.
- The digest of a month (``gather.py`` reads the numbers, ``compose.py`` writes the Markdown) is posted as a
  formatted message plus Markdown and HTML files for the e-mail newsletter, by the monthly job
  (``[digest] schedule`` / ``rooms`` / ``scope``) or by ``!digest jetzt``; ``!digest vorschau`` sends a
  preview to the moderator's direct chat.
- Exactly once per (month, room): a ``digest_posts`` row with a unique constraint is inserted in the same
  transaction as the outbox rows of the message and its files. The start hook posts a digest that became due
  while the bot was down (marked as late).

The parts: ``feature`` (the declaration), ``news_commands`` and ``digest_commands`` (thin handlers),
``publishing`` (compose and post exactly once), ``jobs`` (the monthly schedule), ``gather``/``compose``/
``timing`` (pure logic), ``privacy``.
"""

# Imported for their registrations, in the order the commands appear in the help (hence no sorting).
from . import news_commands  # noqa: F401

# isort: split
from . import digest_commands  # noqa: F401

# isort: split
from . import jobs, privacy  # noqa: F401
from .feature import digest_settings, feature

__all__ = ["digest_settings", "feature"]

"""community-bot: the Matrix side of the NExT community bot (client, router, sender, scheduler, i18n)."""

__version__ = "0.1.0"

"""What matrix-nio lacks for Element's encrypted rooms: cross-signing, secret storage, device trust."""

from bot.crypto.devices import BotClient, DeviceTrust
from bot.crypto.identity import CrossSigning, CrossSigningError, IdentityStatus

__all__ = ["BotClient", "CrossSigning", "CrossSigningError", "DeviceTrust", "IdentityStatus"]

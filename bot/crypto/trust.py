"""Which devices are cross-signed by their owner — Element's "secure" devices (MSC4153).

A device is secure when its device keys carry a valid signature of the owner's self-signing key, and that
self-signing key carries a valid signature of the owner's master key. Users without a cross-signing identity
have no secure devices. Whether the bot itself trusts the owner's identity (verification) is a separate
question that Element does not ask for key sharing either."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.crypto.keys import JsonDict, single_ed25519_key, verify_signature


def self_signing_public_key(
    user_id: str, master_key: JsonDict | None, self_signing_key: JsonDict | None
) -> str | None:
    """The user's self-signing public key, if it is signed by the user's master key."""
    master = single_ed25519_key(master_key, user_id, "master")
    ssk = single_ed25519_key(self_signing_key, user_id, "self_signing")
    if master is None or ssk is None or self_signing_key is None:
        return None
    return ssk if verify_signature(self_signing_key, user_id, master) else None


def cross_signed_devices(
    user_id: str,
    master_key: JsonDict | None,
    self_signing_key: JsonDict | None,
    device_keys: Mapping[str, Any],
) -> set[str]:
    """The ids of ``user_id``'s devices (``device_keys`` as /keys/query returns them) cross-signed."""
    ssk = self_signing_public_key(user_id, master_key, self_signing_key)
    if ssk is None:
        return set()
    return {
        device_id
        for device_id, keys in device_keys.items()
        if isinstance(keys, dict)
        and keys.get("user_id") == user_id
        and keys.get("device_id") == device_id
        and verify_signature(keys, user_id, ssk)
    }

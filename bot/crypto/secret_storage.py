"""Secret storage (SSSS, "Secrets" module of the spec) with a recovery key, as Element sets it up.

Secrets (here: the cross-signing private keys) live encrypted in the account data of the bot's account,
under ``m.secret_storage.v1.aes-hmac-sha2``: HKDF-SHA-256 derives an AES-256-CTR key and an HMAC-SHA-256
key from the 32-byte storage key and the secret's name. The storage key is shown to people as the recovery
key: base58 of 0x8B 0x01, the key and a parity byte, in groups of four. All primitives come from
``cryptography``; base58 from the ``base58`` package."""

from __future__ import annotations

import base64
import hmac
import os
import secrets
import string
from dataclasses import dataclass
from typing import Any

import base58
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as crypto_hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from bot.crypto.keys import decode_base64

ALGORITHM = "m.secret_storage.v1.aes-hmac-sha2"
DEFAULT_KEY_TYPE = "m.secret_storage.default_key"
KEY_TYPE_PREFIX = "m.secret_storage.key."
RECOVERY_KEY_PREFIX = bytes([0x8B, 0x01])
KEY_LENGTH = 32


class RecoveryKeyError(ValueError):
    """The text is not a recovery key (typo, wrong length, wrong parity) or does not open the storage."""


def _b64(data: bytes) -> str:
    # matrix-js-sdk writes these fields padded; readers accept both (decode_base64).
    return base64.b64encode(data).decode("ascii")


def _derive(key: bytes, name: str) -> tuple[bytes, bytes]:
    material = HKDF(algorithm=hashes.SHA256(), length=64, salt=bytes(32), info=name.encode()).derive(key)
    return material[:32], material[32:]


def _mac(hmac_key: bytes, ciphertext: bytes) -> bytes:
    mac = crypto_hmac.HMAC(hmac_key, hashes.SHA256())
    mac.update(ciphertext)
    return mac.finalize()


def encrypt_secret(key: bytes, name: str, plaintext: str, *, iv: bytes | None = None) -> dict[str, str]:
    aes_key, hmac_key = _derive(key, name)
    if iv is None:
        fresh = bytearray(os.urandom(16))
        fresh[8] &= (
            0x7F  # the spec clears bit 63: the 64-bit counter half never wraps (Android compatibility)
        )
        iv = bytes(fresh)
    encryptor = Cipher(algorithms.AES(aes_key), modes.CTR(iv)).encryptor()
    ciphertext = encryptor.update(plaintext.encode()) + encryptor.finalize()
    return {"iv": _b64(iv), "ciphertext": _b64(ciphertext), "mac": _b64(_mac(hmac_key, ciphertext))}


def decrypt_secret(key: bytes, name: str, encrypted: dict[str, Any]) -> str:
    aes_key, hmac_key = _derive(key, name)
    try:
        iv, ciphertext = decode_base64(encrypted["iv"]), decode_base64(encrypted["ciphertext"])
        mac = decode_base64(encrypted["mac"])
    except (KeyError, TypeError, ValueError) as exc:
        raise RecoveryKeyError(f"secret {name} is malformed") from exc
    if not hmac.compare_digest(mac, _mac(hmac_key, ciphertext)):
        raise RecoveryKeyError(f"the recovery key does not open the secret {name}")
    decryptor = Cipher(algorithms.AES(aes_key), modes.CTR(iv)).decryptor()
    return (decryptor.update(ciphertext) + decryptor.finalize()).decode()


def key_description(key: bytes, *, name: str) -> dict[str, str]:
    """The account data describing a storage key: the MAC of 32 zero bytes lets clients check a key."""
    check = encrypt_secret(key, "", "\0" * 32)
    return {"algorithm": ALGORITHM, "iv": check["iv"], "mac": check["mac"], "name": name}


def key_matches(key: bytes, description: dict[str, Any]) -> bool:
    if description.get("algorithm") != ALGORITHM or "iv" not in description or "mac" not in description:
        return False
    try:
        check = encrypt_secret(key, "", "\0" * 32, iv=decode_base64(description["iv"]))
        expected = decode_base64(description["mac"])
    except ValueError:
        return False
    return hmac.compare_digest(decode_base64(check["mac"]), expected)


def new_key_id() -> str:
    return "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(32))


def new_storage_key() -> bytes:
    return secrets.token_bytes(KEY_LENGTH)


def encode_recovery_key(key: bytes) -> str:
    data = RECOVERY_KEY_PREFIX + key
    parity = 0
    for byte in data:
        parity ^= byte
    encoded = base58.b58encode(data + bytes([parity])).decode("ascii")
    return " ".join(encoded[i : i + 4] for i in range(0, len(encoded), 4))


def decode_recovery_key(text: str) -> bytes:
    compact = "".join(text.split())
    try:
        data = base58.b58decode(compact)
    except ValueError as exc:
        raise RecoveryKeyError("the recovery key contains characters that base58 does not use") from exc
    if len(data) != len(RECOVERY_KEY_PREFIX) + KEY_LENGTH + 1 or not data.startswith(RECOVERY_KEY_PREFIX):
        raise RecoveryKeyError("this is not a recovery key (wrong length or prefix)")
    parity = 0
    for byte in data:
        parity ^= byte
    if parity != 0:
        raise RecoveryKeyError("the recovery key has a typo (its check byte does not match)")
    return data[len(RECOVERY_KEY_PREFIX) : -1]


@dataclass(frozen=True)
class StorageKey:
    key_id: str
    key: bytes

    @property
    def recovery_key(self) -> str:
        return encode_recovery_key(self.key)

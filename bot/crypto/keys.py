"""Ed25519 keys and signed JSON as the Matrix spec defines them ("Signing JSON", "Cross-signing").

Signatures are computed by ``cryptography`` over canonical JSON (``canonicaljson``, the encoder Synapse
uses) of the object without ``signatures`` and ``unsigned``; nothing here is hand-written crypto."""

from __future__ import annotations

import base64
import copy
from dataclasses import dataclass
from typing import Any

from canonicaljson import encode_canonical_json
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

JsonDict = dict[str, Any]


def encode_base64(data: bytes) -> str:
    """Unpadded standard base64, the encoding of keys and signatures on the Matrix wire."""
    return base64.b64encode(data).decode("ascii").rstrip("=")


def decode_base64(text: str) -> bytes:
    """Standard or URL-safe base64, padded or not (clients differ)."""
    text = text.strip().replace("-", "+").replace("_", "/")
    return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)


def signable_bytes(obj: JsonDict) -> bytes:
    return bytes(encode_canonical_json({k: v for k, v in obj.items() if k not in ("signatures", "unsigned")}))


@dataclass(frozen=True)
class SigningKey:
    """A cross-signing private key; ``seed`` is the 32-byte ed25519 private key Element stores too."""

    seed: bytes

    @classmethod
    def generate(cls) -> SigningKey:
        key = Ed25519PrivateKey.generate()
        return cls(key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption()))

    @classmethod
    def from_base64(cls, text: str) -> SigningKey:
        seed = decode_base64(text)
        if len(seed) != 32:
            raise ValueError("an ed25519 private key has 32 bytes")
        return cls(seed)

    @property
    def public_key(self) -> str:
        public = Ed25519PrivateKey.from_private_bytes(self.seed).public_key()
        return encode_base64(public.public_bytes(Encoding.Raw, PublicFormat.Raw))

    @property
    def key_id(self) -> str:
        return f"ed25519:{self.public_key}"

    def to_base64(self) -> str:
        return encode_base64(self.seed)

    def sign(self, obj: JsonDict) -> str:
        return encode_base64(Ed25519PrivateKey.from_private_bytes(self.seed).sign(signable_bytes(obj)))

    def sign_json(self, obj: JsonDict, user_id: str) -> JsonDict:
        """A copy of ``obj`` that carries this key's signature (beside any it already had)."""
        signed = copy.deepcopy({k: v for k, v in obj.items() if k != "unsigned"})
        signature = self.sign(obj)
        signed.setdefault("signatures", {}).setdefault(user_id, {})[self.key_id] = signature
        return signed

    def cross_signing_key(self, user_id: str, usage: str) -> JsonDict:
        return {"user_id": user_id, "usage": [usage], "keys": {self.key_id: self.public_key}}


def verify_signature(obj: JsonDict, user_id: str, public_key: str) -> bool:
    """Whether ``obj`` carries a valid signature of ``user_id`` by the ed25519 key ``public_key``."""
    signature = obj.get("signatures", {}).get(user_id, {}).get(f"ed25519:{public_key}")
    if not isinstance(signature, str):
        return False
    try:
        key = Ed25519PublicKey.from_public_bytes(decode_base64(public_key))
        key.verify(decode_base64(signature), signable_bytes(obj))
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def single_ed25519_key(obj: JsonDict | None, user_id: str, usage: str) -> str | None:
    """The public key of a cross-signing key object, if it is well-formed for ``user_id`` and ``usage``."""
    if not isinstance(obj, dict) or obj.get("user_id") != user_id or usage not in (obj.get("usage") or []):
        return None
    keys = obj.get("keys")
    if not isinstance(keys, dict) or len(keys) != 1:
        return None
    ((key_id, public),) = keys.items()
    if not isinstance(public, str) or key_id != f"ed25519:{public}":
        return None
    return public

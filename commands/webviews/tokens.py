"""Secret link tokens: 160 random bits, URL-safe; the database keeps only their SHA-256."""

from __future__ import annotations

import hashlib
import re
import secrets

TOKEN_BYTES = 20  # ≥ 128 bits
_SHAPE = re.compile(r"[A-Za-z0-9_-]{22,64}")


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def well_formed(token: str) -> bool:
    return _SHAPE.fullmatch(token) is not None

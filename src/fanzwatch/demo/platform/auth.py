"""Passwords (scrypt) and bearer tokens (random, stored as a SHA-256 hash).

A token is 32 random bytes, shown to the client once; the database keeps only its hash,
so a leaked database cannot be replayed as logins. Each token belongs to one session row
of the shared schema (BI reads session lengths from it) and to one platform: a fanz-1
token is refused on fanz-2.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass

import anyio.to_thread

_R, _P, _DKLEN = 8, 1, 32


def _scrypt(password: str, salt: bytes, n: int) -> bytes:
    return hashlib.scrypt(password.encode(), salt=salt, n=n, r=_R, p=_P, dklen=_DKLEN, maxmem=128 * n * _R * 2)


async def hash_password(password: str, *, cost: int) -> str:
    """``scrypt$N$r$p$salt$hash`` (base64), computed off the event loop."""
    salt = secrets.token_bytes(16)
    digest = await anyio.to_thread.run_sync(_scrypt, password, salt, cost)
    b64 = base64.b64encode
    return f"scrypt${cost}${_R}${_P}${b64(salt).decode()}${b64(digest).decode()}"


async def verify_password(password: str, stored: str) -> bool:
    try:
        kind, n, r, p, salt, digest = stored.split("$")
        if (kind, int(r), int(p)) != ("scrypt", _R, _P):
            return False
        expected = base64.b64decode(digest)
        actual = await anyio.to_thread.run_sync(_scrypt, password, base64.b64decode(salt), int(n))
    except ValueError:
        return False
    return hmac.compare_digest(actual, expected)


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class CurrentUser:
    """Who made the request (from the bearer token)."""

    user_id: int
    platform: str
    role: str
    creator_tier: str | None
    session_id: int

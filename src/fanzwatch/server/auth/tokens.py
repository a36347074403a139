"""Role tokens, compared in constant time, and the signed FanzDash session cookie.

A session cookie holds ``<role>.<expiry>.<signature>``: an HMAC-SHA256 keyed by the
role's token, so it reveals no token, cannot be forged or promoted to another role,
and every cookie of a role dies when that role's token is rotated. No server-side
session state: every worker process agrees on it.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass, field

from .roles import Role


def _session_key(token: bytes) -> bytes:
    return hashlib.sha256(b"fanzwatch-session\x00" + token).digest()


@dataclass(frozen=True)
class RoleTokens:
    """The tokens of each role (several per role allowed: the legacy ones count as admin)."""

    tokens: tuple[tuple[Role, bytes], ...] = ()
    _keys: dict[Role, bytes] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        keys: dict[Role, bytes] = {}
        for role, token in self.tokens:
            keys.setdefault(role, _session_key(token))
        object.__setattr__(self, "_keys", keys)

    @classmethod
    def of(cls, pairs: Iterable[tuple[Role, str]]) -> RoleTokens:
        return cls(tuple((role, token.encode()) for role, token in pairs))

    def __bool__(self) -> bool:
        return bool(self.tokens)

    def __repr__(self) -> str:  # never print a token
        return f"RoleTokens(roles={sorted({r.label for r, _ in self.tokens})})"

    def match(self, candidate: str) -> Role | None:
        """The highest role whose token equals ``candidate``; every token is compared (no early exit)."""
        given = candidate.encode()
        found: Role | None = None
        for role, token in self.tokens:
            if hmac.compare_digest(given, token) and (found is None or role > found):
                found = role
        return found

    # -- sessions ------------------------------------------------------------------------

    def issue_session(self, role: Role, *, expires_at: int) -> str:
        payload = f"{role.label}.{expires_at}"
        return f"{payload}.{self._sign(role, payload)}"

    def verify_session(self, value: str, *, now: float) -> Role | None:
        """The role of a valid, unexpired session cookie value, else ``None``."""
        label, _, rest = value.partition(".")
        expiry, _, signature = rest.partition(".")
        try:
            role = Role.parse(label)
            expires_at = int(expiry)
        except ValueError:
            return None
        if role not in self._keys or not signature:
            return None
        if not hmac.compare_digest(signature, self._sign(role, f"{label}.{expiry}")):
            return None
        return role if expires_at > now else None

    def _sign(self, role: Role, payload: str) -> str:
        return hmac.new(self._keys[role], payload.encode(), hashlib.sha256).hexdigest()

    def csrf_key(self) -> bytes | None:
        """A key every worker derives alike (from the tokens), for FanzDash's CSRF tokens."""
        if not self.tokens:
            return None
        digest = hashlib.sha256(b"fanzdash-csrf")
        for _, token in self.tokens:
            digest.update(hashlib.sha256(token).digest())
        return digest.digest()

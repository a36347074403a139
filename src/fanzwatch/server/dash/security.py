"""FanzDash's part of authentication: sign-in, the caller's role on pages, and CSRF.

Access itself is decided by the server's route policy (``fanzwatch.server.auth``) before
any page handler runs: pages need the viewer role, silences (and incident actions) the
responder role, remediation controls admin. Here FanzDash only

- signs in: ``POST /dash/login`` with a role token sets an HttpOnly, SameSite=Strict
  cookie holding a signed ``role.expiry`` (never the token); scripts may send
  ``Authorization: Bearer <token>`` instead;
- tells templates who is looking (``principal``), so a viewer sees no form they cannot use;
- protects every state-changing form with a CSRF token (a double-submit cookie signed
  with a key derived from the tokens) and an ``Origin`` check, so another site cannot
  make a signed-in browser post.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field

from fastapi import Request

from ..auth import SESSION_COOKIE, Authenticator, Principal, Role, is_loopback, principal_of

CSRF_COOKIE = "fanzdash_csrf"
CSRF_FIELD = "csrf"

__all__ = [
    "CSRF_COOKIE",
    "CSRF_FIELD",
    "SESSION_COOKIE",
    "AccessDeniedError",
    "DashAuth",
    "is_loopback",
]


class AccessDeniedError(Exception):
    """The request may not do this; ``str()`` says how to get access."""

    def __init__(self, message: str, *, sign_in: bool) -> None:
        super().__init__(message)
        self.sign_in = sign_in


@dataclass
class DashAuth:
    """FanzDash's view of the server's ``Authenticator``."""

    auth: Authenticator
    _fallback_key: bytes = field(default_factory=lambda: secrets.token_bytes(32), repr=False)

    @property
    def exposed(self) -> bool:
        return not is_loopback(self.auth.bind_host)

    @property
    def sign_in_enabled(self) -> bool:
        return not self.auth.open_loopback

    @property
    def key(self) -> bytes:
        return self.auth.tokens.csrf_key() or self._fallback_key

    # -- identity --------------------------------------------------------------------------

    def principal(self, request: Request) -> Principal:
        return principal_of(request)

    def signed_in(self, request: Request) -> bool:
        return principal_of(request).via in ("session", "bearer")

    def sign_in(self, token: str) -> tuple[Role, str] | None:
        return self.auth.sign_in(token)

    def require(self, request: Request, role: Role) -> None:
        """Raise ``AccessDeniedError`` unless the caller has ``role`` (the policy checked it already)."""
        who = principal_of(request)
        if not who.allows(role):
            raise AccessDeniedError(self.auth.refusal(who, role), sign_in=not who.authenticated)

    # -- CSRF ------------------------------------------------------------------------------

    def new_csrf(self) -> str:
        nonce = secrets.token_urlsafe(18)
        return f"{nonce}.{self._sign(nonce)}"

    def csrf_for(self, request: Request) -> tuple[str, bool]:
        """(the CSRF token for this browser, whether the cookie must be (re)set)."""
        current = request.cookies.get(CSRF_COOKIE, "")
        if self._valid_csrf(current):
            return current, False
        return self.new_csrf(), True

    def check_csrf(self, request: Request, submitted: str) -> None:
        """Raise ``AccessDeniedError`` for a cross-site or forged state-changing request."""
        if principal_of(request).via == "bearer":
            return  # browsers never attach Authorization on their own: not forgeable cross-site
        origin = request.headers.get("origin")
        expected = f"{request.url.scheme}://{request.headers.get('host', request.url.netloc)}"
        if origin is not None and origin != expected:
            raise AccessDeniedError(f"Refused a request from another site ({origin[:80]}).", sign_in=False)
        if origin is None and request.headers.get("sec-fetch-site") == "cross-site":
            raise AccessDeniedError("Refused a request from another site.", sign_in=False)
        cookie = request.cookies.get(CSRF_COOKIE, "")
        if not (self._valid_csrf(cookie) and hmac.compare_digest(cookie, submitted)):
            raise AccessDeniedError(
                "The form was stale or not sent from FanzDash (CSRF check failed): reload the page and try again.",
                sign_in=False,
            )

    def _sign(self, nonce: str) -> str:
        return hmac.new(self.key, nonce.encode(), hashlib.sha256).hexdigest()[:32]

    def _valid_csrf(self, value: str) -> bool:
        nonce, _, signature = value.partition(".")
        return bool(nonce) and hmac.compare_digest(signature, self._sign(nonce))

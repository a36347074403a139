"""Who may view FanzDash and who may change things through it, and CSRF protection.

| server bind | token set | view pages | create/expire silences |
|---|---|---|---|
| loopback | no | yes | yes (same-origin forms only) |
| loopback | yes | yes | signed in with the token |
| exposed | no | yes, read only | refused: set ``FANZWATCH_DASH_TOKEN`` |
| exposed | yes | signed in with the token | signed in with the token |

Signing in (``POST /dash/login`` with the token) sets an HttpOnly, SameSite=Strict
cookie holding an HMAC of the token, never the token itself; scripts and API clients
may send ``Authorization: Bearer <token>`` instead. Every state-changing form carries
a CSRF token (a double-submit cookie signed with a server key) and its ``Origin`` must
be the dashboard's own, so another site cannot make a signed-in browser post.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
from dataclasses import dataclass

from fastapi import Request

SESSION_COOKIE = "fanzdash_session"
CSRF_COOKIE = "fanzdash_csrf"
CSRF_FIELD = "csrf"


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and localhost; a wildcard bind (0.0.0.0, ::) is exposed."""
    if host in ("localhost", "ip6-localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class AccessDeniedError(Exception):
    """The request may not do this; ``str()`` says how to get access."""

    def __init__(self, message: str, *, sign_in: bool) -> None:
        super().__init__(message)
        self.sign_in = sign_in


@dataclass(frozen=True)
class DashAuth:
    """Decides access for one server; build once with ``DashAuth.create``."""

    token: str | None
    exposed: bool
    key: bytes

    @classmethod
    def create(cls, token: str | None, *, bind_host: str) -> DashAuth:
        # With a token the key derives from it, so every worker process agrees on it.
        key = hashlib.sha256(b"fanzdash-csrf:" + token.encode()).digest() if token else secrets.token_bytes(32)
        return cls(token=token or None, exposed=not is_loopback(bind_host), key=key)

    # -- identity --------------------------------------------------------------------------

    def session_value(self) -> str:
        assert self.token is not None
        return hmac.new(self.token.encode(), b"fanzdash-session", hashlib.sha256).hexdigest()

    def check_token(self, candidate: str) -> bool:
        return self.token is not None and hmac.compare_digest(candidate.encode(), self.token.encode())

    def signed_in(self, request: Request) -> bool:
        if self.token is None:
            return False
        cookie = request.cookies.get(SESSION_COOKIE, "")
        if cookie and hmac.compare_digest(cookie, self.session_value()):
            return True
        return self._bearer_ok(request)

    def _bearer_ok(self, request: Request) -> bool:
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        return scheme.lower() == "bearer" and self.check_token(value.strip())

    # -- decisions -------------------------------------------------------------------------

    @property
    def sign_in_enabled(self) -> bool:
        return self.token is not None

    def can_view(self, request: Request) -> bool:
        return not (self.exposed and self.token is not None) or self.signed_in(request)

    def require_change(self, request: Request) -> None:
        """Raise ``AccessDeniedError`` unless this request may change state."""
        if self.token is None:
            if self.exposed:
                raise AccessDeniedError(
                    "Changes are disabled: this server is reachable from other machines and has no token. "
                    "Set FANZWATCH_DASH_TOKEN (at least 12 characters) and restart it.",
                    sign_in=False,
                )
            return
        if not self.signed_in(request):
            raise AccessDeniedError("Sign in with the FanzDash token to change silences.", sign_in=True)

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
        if self._bearer_ok(request):
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

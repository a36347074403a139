"""``Authenticator``: the server's tokens and how a request proves a role.

Built in ``create_app`` without I/O; ``load()`` (in the lifespan, before the first
request) reads the token files and, when no role has a token at all, generates one per
role into ``<data_dir>/secrets/`` (0600) and logs the *paths*, never the tokens.

A caller proves a role with ``Authorization: Bearer <token>`` (scripts, Prometheus, the
CLI) or with the FanzDash session cookie set by signing in. ``insecure_open_loopback``
turns authentication off (everyone is admin), and is only accepted on a loopback bind;
a request that came through a proxy (``X-Forwarded-For``/``Forwarded`` present) is not
local, so it gets no role there either.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

from starlette.requests import cookie_parser
from starlette.types import Scope

from ...core.errors import ConfigError
from ...core.secrets import ensure_token_file, read_token_file
from ...settings.auth import ROLES, AuthSettings
from .roles import ANONYMOUS, Principal, Role
from .tokens import RoleTokens

logger = logging.getLogger(__name__)

SESSION_COOKIE = "fanzdash_session"
_FORWARDED = (b"x-forwarded-for", b"forwarded", b"x-real-ip")


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and localhost; a wildcard bind (0.0.0.0, ::) is exposed."""
    import ipaddress

    if host in ("localhost", "ip6-localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(settings: AuthSettings, host: str) -> None:
    """``ConfigError`` saying how to fix it when authentication is off on a reachable address."""
    if settings.insecure_open_loopback and not is_loopback(host):
        raise ConfigError(
            f"refusing to start: authentication is off (insecure_open_loopback) but the server would listen on "
            f"{host}, which other machines can reach. Either bind 127.0.0.1 (--host 127.0.0.1), or drop "
            "--insecure-open-loopback / FANZWATCH_AUTH_INSECURE_OPEN_LOOPBACK and use role tokens "
            "(generated into <data-dir>/secrets on first start, or set FANZWATCH_AUTH_VIEWER_TOKEN, "
            "FANZWATCH_AUTH_RESPONDER_TOKEN, FANZWATCH_AUTH_ADMIN_TOKEN or their *_FILE variants).",
            setting="auth.insecure_open_loopback",
        )


@dataclass
class Authenticator:
    """Who a request is; ``load()`` before the first request."""

    settings: AuthSettings
    bind_host: str
    secrets_dir: Path
    tokens: RoleTokens = field(default_factory=RoleTokens)
    generated: tuple[Path, ...] = ()

    def __post_init__(self) -> None:
        check_bind(self.settings, self.bind_host)

    @property
    def open_loopback(self) -> bool:
        return self.settings.insecure_open_loopback

    @property
    def session_seconds(self) -> int:
        return int(self.settings.session_hours * 3600)

    def token_file(self, role: Role) -> Path:
        """Where the server keeps the token it generates for ``role``."""
        return self.secrets_dir / f"{role.label}_token"  # == server.security.ROLE_TOKEN_FILES

    def load(self, *, legacy_admin: tuple[str, ...] = ()) -> None:
        """Read the configured tokens; generate one per role if none is configured.

        ``legacy_admin`` are the older single tokens (``FANZWATCH_DASH_TOKEN``,
        ``FANZWATCH_ALERTING_API_TOKEN``): they keep working, as admin tokens.
        """
        pairs: list[tuple[Role, str]] = []
        for name in ROLES:
            role = Role.parse(name)
            inline = getattr(self.settings, f"{name}_token")
            path = getattr(self.settings, f"{name}_token_file")
            if inline is not None:
                pairs.append((role, inline.get_secret_value()))
            elif path is not None:
                pairs.append((role, read_token_file(path, setting=f"auth.{name}_token_file")))
        pairs += [(Role.ADMIN, token) for token in legacy_admin if token]
        generated: list[Path] = []
        if not pairs and not self.open_loopback:
            for name in ROLES:
                role = Role.parse(name)
                path = self.token_file(role)
                pairs.append((role, ensure_token_file(path)))
                generated.append(path)
            logger.warning(
                "no role tokens configured: using the generated ones in %s (viewer_token, responder_token, "
                "admin_token); sign in to FanzDash with one of them",
                self.secrets_dir,
            )
        tokens = [t for _, t in pairs]
        if len(set(tokens)) != len(tokens):
            raise ConfigError("two roles share one token: give each role its own", setting="auth")
        self.tokens = RoleTokens.of(pairs)
        self.generated = tuple(generated)

    # -- identity ------------------------------------------------------------------------

    def identify(self, scope: Scope) -> Principal:
        headers: list[tuple[bytes, bytes]] = scope.get("headers", [])
        if self.open_loopback:
            if any(name in _FORWARDED for name, _ in headers):
                return ANONYMOUS  # came through a proxy: not a local caller
            return Principal(Role.ADMIN, "open-loopback")
        authorization = cookie = b""
        for name, value in headers:
            if name == b"authorization":
                authorization = value
            elif name == b"cookie":
                cookie = value
        if authorization:
            scheme, _, credentials = authorization.decode("latin-1").strip().partition(" ")
            if scheme.lower() == "bearer":
                role = self.tokens.match(credentials.strip())
                return Principal(role, "bearer") if role is not None else ANONYMOUS
        if cookie:
            session = cookie_parser(cookie.decode("latin-1")).get(SESSION_COOKIE)
            if session:
                role = self.tokens.verify_session(session, now=time.time())
                if role is not None:
                    return Principal(role, "session")
        return ANONYMOUS

    def sign_in(self, token: str) -> tuple[Role, str] | None:
        """``(role, cookie value)`` for a valid token, else ``None``."""
        role = self.tokens.match(token.strip())
        if role is None:
            return None
        return role, self.tokens.issue_session(role, expires_at=int(time.time()) + self.session_seconds)

    def refusal(self, principal: Principal, required: Role) -> str:
        """What the caller is told, with what to do about it."""
        if self.open_loopback:
            return (
                "This server runs with authentication off for local callers only; requests through a proxy are refused."
            )
        if principal.authenticated:
            return f"This needs the {required.label} role; you are signed in as {principal.label}."
        return (
            f"This needs the {required.label} role: send Authorization: Bearer <token> "
            "(or sign in to FanzDash) with a token of that role or higher."
        )

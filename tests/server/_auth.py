"""Test helper: the server's authentication around a test app, as ``create_app`` wires it."""

from __future__ import annotations

import tempfile
from pathlib import Path

from fastapi import FastAPI

from fanzwatch.server.auth import Authenticator, AuthMiddleware, RoutePolicy, default_rules
from fanzwatch.settings.auth import AuthSettings

VIEWER = "viewer-token-0123456789"
RESPONDER = "responder-token-0123456789"
ADMIN = "admin-token-0123456789abc"
TOKENS = {"viewer": VIEWER, "responder": RESPONDER, "admin": ADMIN}


def authenticator(*, open_loopback: bool = False, host: str = "127.0.0.1", **settings: object) -> Authenticator:
    """Role tokens ``TOKENS`` (or authentication off on loopback), loaded."""
    values: dict[str, object] = (
        {"insecure_open_loopback": True} if open_loopback else {f"{r}_token": t for r, t in TOKENS.items()}
    )
    auth = Authenticator(
        AuthSettings(**(values | settings)), bind_host=host, secrets_dir=Path(tempfile.mkdtemp(prefix="fw14-"))
    )
    auth.load()
    return auth


def secure(app: FastAPI, auth: Authenticator) -> FastAPI:
    """Add the server's auth middleware and default policy to ``app``."""
    app.add_middleware(AuthMiddleware, auth=auth, policy=RoutePolicy(default_rules()), routes=lambda: app.routes)
    return app

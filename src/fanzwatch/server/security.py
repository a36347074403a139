"""Composition of the server's security: the authenticator, the webhook token, proxies.

Kept beside ``create_app`` so the app module stays a list of parts; the mechanism itself
is ``server.auth``.
"""

from __future__ import annotations

from fastapi import FastAPI
from pydantic_settings import BaseSettings
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from ..core.secrets import ensure_token_file
from ..settings import ServerSettings
from ..settings.alerting import AlertingSettings, SecretSource
from ..settings.health import CheckConfig, server_checks
from .auth import Authenticator

WEBHOOK_TOKEN_FILE = "webhook_token"
"""The file, in the secrets directory, holding the token Alertmanager sends to the webhook."""
ROLE_TOKEN_FILES = {"viewer": "viewer_token", "responder": "responder_token", "admin": "admin_token"}
"""The files, in the secrets directory, of the generated role tokens (Prometheus reads viewer_token)."""


def build_authenticator(settings: ServerSettings) -> Authenticator:
    """The server's authenticator (no I/O; ``ConfigError`` when auth is off on a reachable bind)."""
    return Authenticator(settings.auth, bind_host=settings.host, secrets_dir=settings.secrets_dir)


def legacy_admin_tokens(settings: ServerSettings) -> tuple[str, ...]:
    """Single tokens from before roles existed; each is accepted as an admin token."""
    found: list[str] = []
    if settings.dash.token is not None:
        found.append(settings.dash.token.get_secret_value())
    if settings.alerting.api_token is not None:
        found.append(settings.alerting.api_token.read("alerting.api_token"))
    return tuple(found)


def alerting_with_webhook_token(settings: ServerSettings) -> AlertingSettings:
    """The alerting settings, with a webhook token generated into the data dir if none is set.

    ``fanzwatch render`` and ``fanzwatch up`` point Alertmanager at the same file
    (``<secrets_dir>/webhook_token``), so the webhook is never open.
    """
    alerting = settings.alerting
    if alerting.webhook_token is not None or alerting.webhook_basic_username is not None:
        return alerting
    path = settings.secrets_dir / WEBHOOK_TOKEN_FILE
    ensure_token_file(path)
    return alerting.model_copy(update={"webhook_token": SecretSource(file=path.resolve())})


def own_health_checks(settings: ServerSettings) -> tuple[CheckConfig, ...]:
    """The server's own checks: store, disk, memory; Prometheus/Alertmanager if configured.

    Prometheus and Alertmanager count as configured when a URL was given explicitly
    (environment or code) to FanzDash or the anomaly engine, not by the defaults.
    """
    if not settings.health.server_checks:
        return ()

    def explicit(*candidates: tuple[BaseSettings, str]) -> str | None:
        for owner, name in candidates:
            value = getattr(owner, name)
            if name in owner.model_fields_set and value:
                return str(value).rstrip("/")
        return None

    return server_checks(
        store_url=settings.store_url,
        data_dir=settings.data_dir,
        prometheus_url=explicit((settings.dash, "prometheus_url"), (settings.anomaly, "prometheus_url")),
        alertmanager_url=explicit((settings.dash, "alertmanager_url"), (settings.anomaly, "alertmanager_url")),
    )


def trust_proxies(app: FastAPI, proxies: tuple[str, ...]) -> None:
    """Believe ``X-Forwarded-For``/``-Proto`` only from ``proxies`` (addresses or CIDRs).

    With none configured nothing is believed: the TCP peer is the client, the scheme the
    connection's. (``fanzwatch serve`` also turns uvicorn's own proxy handling off, which
    would otherwise trust 127.0.0.1.)
    """
    if proxies:
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=list(proxies))

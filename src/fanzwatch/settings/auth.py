"""Who may call the fanzwatch server (``FANZWATCH_AUTH_*``): role tokens, loopback, proxies.

Three roles, each including the one before: **viewer** (reads), **responder**
(acknowledge, resolve, notes, silences), **admin** (kill switch, remediation settings).
A token per role, inline or in a file (``*_file``: read at start, trailing newline
dropped, the way Docker and Kubernetes secrets are mounted). With no role token at all,
the server generates one per role into ``<data_dir>/secrets/`` (mode 0600) on first
start and says where they are.

    FANZWATCH_AUTH_ADMIN_TOKEN_FILE=/run/secrets/fanzwatch_admin
    FANZWATCH_AUTH_VIEWER_TOKEN=...            # e.g. for Prometheus or a status page
    FANZWATCH_AUTH_TRUSTED_PROXIES='["10.0.0.0/8"]'

>>> AuthSettings(admin_token="correct-horse-battery-staple").admin_token.get_secret_value()
'correct-horse-battery-staple'
"""

from __future__ import annotations

import ipaddress
from pathlib import Path

from pydantic import Field, SecretStr, field_validator, model_validator

from ._base import ComponentSettings, component_config

MIN_TOKEN_LENGTH = 16
ROLES = ("viewer", "responder", "admin")


class AuthSettings(ComponentSettings):
    """Authentication of the fanzwatch server's API, FanzDash and ``/metrics``."""

    model_config = component_config("auth")

    viewer_token: SecretStr | None = Field(default=None, description="bearer token of the viewer role (reads)")
    viewer_token_file: Path | None = Field(default=None, description="file holding the viewer token")
    responder_token: SecretStr | None = Field(
        default=None, description="bearer token of the responder role (ack, resolve, notes, silences)"
    )
    responder_token_file: Path | None = Field(default=None, description="file holding the responder token")
    admin_token: SecretStr | None = Field(
        default=None, description="bearer token of the admin role (kill switch, remediation settings)"
    )
    admin_token_file: Path | None = Field(default=None, description="file holding the admin token")
    insecure_open_loopback: bool = Field(
        default=False,
        description="turn authentication off; refused unless the server binds a loopback address "
        "(127.0.0.1, ::1) and sits behind no proxy",
    )
    anonymous_metrics: bool = Field(default=False, description="serve /metrics without a token")
    anonymous_health: bool = Field(
        default=False, description="serve the detailed /health (and /health/checks/*) without a token"
    )
    trusted_proxies: tuple[str, ...] = Field(
        default=(),
        description="addresses or CIDR ranges of reverse proxies whose X-Forwarded-For/-Proto are believed; "
        "from anyone else those headers are ignored",
    )
    session_hours: float = Field(default=12.0, gt=0, le=24 * 30, description="how long a FanzDash sign-in lasts")

    @field_validator("viewer_token", "responder_token", "admin_token")
    @classmethod
    def _long_enough(cls, v: SecretStr | None) -> SecretStr | None:
        if v is None or not v.get_secret_value():
            return None
        if len(v.get_secret_value().strip()) < MIN_TOKEN_LENGTH:
            raise ValueError(f"a token needs at least {MIN_TOKEN_LENGTH} characters (e.g. `openssl rand -hex 32`)")
        return SecretStr(v.get_secret_value().strip())

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for item in v:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(f"trusted_proxies: {item!r} is not an IP address or CIDR range") from None
        return v

    @model_validator(mode="after")
    def _one_source_per_role(self) -> AuthSettings:
        for role in ROLES:
            if getattr(self, f"{role}_token") is not None and getattr(self, f"{role}_token_file") is not None:
                raise ValueError(f"give {role}_token or {role}_token_file, not both")
        if self.insecure_open_loopback and self.trusted_proxies:
            raise ValueError(
                "insecure_open_loopback cannot be used behind a reverse proxy (trusted_proxies is set): "
                "everyone reaching the proxy would be let in"
            )
        return self

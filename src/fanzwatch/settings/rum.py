"""Settings of Real User Monitoring ingestion (``FANZWATCH_RUM_*``)."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import Field, SecretStr, field_validator

from ..core.errors import ConfigError
from ._base import ComponentSettings, component_config

DEFAULT_BOT_PATTERN = (
    r"bot\b|bot/|crawl|spider|slurp|headlesschrome|phantomjs|lighthouse|pagespeed|pingdom|"
    r"uptime|python-requests|python-httpx|aiohttp|curl/|wget/|go-http-client|java/|okhttp|"
    r"facebookexternalhit|bingpreview"
)
DEFAULT_ID_COLLECTIONS = (
    "creator",
    "creators",
    "post",
    "posts",
    "user",
    "users",
    "u",
    "profile",
    "profiles",
    "video",
    "videos",
    "photo",
    "photos",
    "media",
    "content",
    "message",
    "messages",
    "chat",
    "chats",
    "subscription",
    "subscriptions",
    "order",
    "orders",
    "tip",
    "tips",
    "stream",
    "streams",
    "live",
    "tag",
    "tags",
    "collection",
    "collections",
)
_ORIGIN = re.compile(r"^https?://[a-z0-9.-]+(:\d{1,5})?$")


class RumSettings(ComponentSettings):
    """Real User Monitoring: who may send beacons, how much, and how long events are kept.

    Defaults suit one machine with the script served by fanzwatch itself (same origin).
    A site on another origin must be listed in ``allowed_origins``:

    >>> RumSettings(allowed_origins=("https://fanz-1.example",), public_keys=("pk_live_x",))
    """

    model_config = component_config("rum")

    enabled: bool = Field(default=True, description="accept beacons at all")
    allowed_origins: tuple[str, ...] = Field(
        default=(),
        description="origins (scheme://host[:port]) whose pages may post beacons; same-origin always may; '*' = any",
    )
    require_origin: bool = Field(
        default=False,
        description="reject beacons without an Origin header (browsers always send one on POST)",
    )
    public_keys: tuple[str, ...] = Field(
        default=(),
        description="if set, beacons must carry one of these keys (?k= or X-Fanz-Rum-Key); public, not secrets",
    )
    max_body_bytes: int = Field(
        default=64 * 1024, ge=1024, le=1024 * 1024, description="largest request body, as sent (compressed or not)"
    )
    max_decompressed_bytes: int = Field(
        default=256 * 1024, ge=1024, le=8 * 1024 * 1024, description="largest body after gzip decompression"
    )
    max_events_per_batch: int = Field(default=200, ge=1, le=1000, description="events one batch may carry")
    rate_limit_per_second: float = Field(
        default=20.0, gt=0, le=1_000_000, description="sustained beacons per second per client address"
    )
    rate_limit_burst: int = Field(default=100, ge=1, le=1_000_000, description="beacons a client may send at once")
    rate_limit_clients: int = Field(
        default=10_000, ge=10, le=1_000_000, description="client addresses tracked (least recent forgotten first)"
    )
    trusted_proxy_hops: int = Field(
        default=0,
        ge=0,
        le=5,
        description="reverse proxies in front of the server; the client address is taken this many hops "
        "from the right of X-Forwarded-For (0: the TCP peer)",
    )
    max_page_templates: int = Field(
        default=200, ge=1, le=5000, description="distinct page templates kept as labels; later ones become 'other'"
    )
    page_routes: tuple[str, ...] = Field(
        default=(),
        description="explicit page templates, e.g. '/creator/:id/posts/:id'; ':name' matches one path segment",
    )
    id_collections: tuple[str, ...] = Field(
        default=DEFAULT_ID_COLLECTIONS,
        description="path segments whose next segment is an identifier (/creator/alice -> /creator/:id)",
    )
    max_error_fingerprints: int = Field(
        default=200, ge=1, le=5000, description="distinct JS error fingerprints kept as labels; later ones 'other'"
    )
    bot_user_agent_pattern: str = Field(
        default=DEFAULT_BOT_PATTERN, description="case-insensitive regex; matching user agents are ignored"
    )
    synthetic_key: SecretStr | None = Field(
        default=None,
        description="beacons carrying it in X-Fanzwatch-Synthetic are accepted even from a bot user agent "
        "(browser sessions you run yourself, e.g. the demo's headless Chromium); unset: none are",
    )
    synthetic_key_file: Path | None = Field(default=None, description="or read the synthetic key from this file")
    max_event_age_seconds: int = Field(
        default=86_400, ge=60, le=7 * 86_400, description="events older than this when sent are rejected"
    )
    queue_max_events: int = Field(
        default=100_000, ge=100, le=10_000_000, description="events waiting for the store; beyond it beacons get 503"
    )
    writer_batch_size: int = Field(default=2000, ge=1, le=50_000, description="events per store transaction")
    writer_flush_interval_seconds: float = Field(
        default=0.5, gt=0, le=60, description="longest an event waits before being written"
    )
    retention_days: int = Field(default=30, ge=1, le=3650, description="raw events older than this are deleted")
    retention_interval_seconds: float = Field(
        default=3600, ge=1, le=86_400, description="how often expired events are deleted"
    )

    @field_validator("allowed_origins")
    @classmethod
    def _origins(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        out = tuple(o.rstrip("/").lower() for o in v)
        bad = [o for o in out if o != "*" and not _ORIGIN.match(o)]
        if bad:
            raise ValueError(f"allowed_origins {bad}: give scheme://host[:port], e.g. https://fanz-1.example, or '*'")
        return out

    @field_validator("public_keys")
    @classmethod
    def _keys(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        bad = [k for k in v if not re.fullmatch(r"[A-Za-z0-9_-]{8,128}", k)]
        if bad:
            raise ValueError("public_keys must be 8-128 characters of letters, digits, '_' or '-'")
        return v

    @field_validator("page_routes")
    @classmethod
    def _routes(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        bad = [r for r in v if not r.startswith("/") or len(r) > 256]
        if bad:
            raise ValueError(f"page_routes {bad}: each must start with '/' and be at most 256 characters")
        return v

    @field_validator("bot_user_agent_pattern")
    @classmethod
    def _pattern(cls, v: str) -> str:
        try:
            re.compile(v)
        except re.error as exc:
            raise ValueError(f"bot_user_agent_pattern is not a valid regex: {exc}") from None
        return v

    def read_synthetic_key(self) -> str | None:
        """The synthetic-session key (inline or from its file), or None when not configured."""
        if self.synthetic_key is not None:
            return self.synthetic_key.get_secret_value() or None
        if self.synthetic_key_file is None:
            return None
        try:
            return self.synthetic_key_file.read_text().strip() or None
        except OSError as exc:
            raise ConfigError(
                f"cannot read the RUM synthetic key file {self.synthetic_key_file}: {exc.strerror}",
                setting="rum.synthetic_key_file",
            ) from None

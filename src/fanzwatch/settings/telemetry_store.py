"""Settings of the trace and log store process and of the server's OTLP receiver.

``fanzwatch telemetry-store`` owns the chDB database (one process per path) and answers
batches and named queries on loopback; the server's ``/v1/traces`` and ``/v1/logs`` decode
OTLP, queue and post batches to it.

>>> TelemetryStoreSettings(port=8911, ttl_days=3)
>>> OtlpReceiverSettings(max_request_bytes=4 << 20)
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from ._base import ComponentSettings, component_config

TELEMETRY_STORE_TOKEN_FILE = "telemetry_store_token"
"""In the secrets dir: the token the server sends to the store process (internal calls)."""
OTLP_TOKEN_FILE = "otlp_token"
"""In the secrets dir: the token services send to ``/v1/traces`` and ``/v1/logs``."""


class TelemetryStoreSettings(ComponentSettings):
    """The store process (``FANZWATCH_TELEMETRY_STORE_*``), and where the server finds it."""

    model_config = component_config("telemetry_store")

    host: str = Field(default="127.0.0.1", description="interface the store process binds (loopback)")
    port: int = Field(default=8911, ge=1, le=65535, description="the store process's HTTP port")
    path: Path | None = Field(default=None, description="the chDB database directory (default: <data_dir>/telemetry)")
    ttl_days: int = Field(default=7, ge=1, le=3650, description="traces and logs older than this are dropped")
    url: str | None = Field(
        default=None, description="where the server reaches the store (default: http://<host>:<port>)"
    )
    token_file: Path | None = Field(
        default=None, description=f"the shared token's file (default: <secrets_dir>/{TELEMETRY_STORE_TOKEN_FILE})"
    )
    timeout_seconds: float = Field(default=10.0, gt=0, le=120, description="per call from the server to the store")

    def resolved_path(self, data_dir: Path) -> Path:
        return self.path or data_dir / "telemetry"

    def resolved_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return (self.url or f"http://{host}:{self.port}").rstrip("/")

    def resolved_token_file(self, secrets_dir: Path) -> Path:
        return self.token_file or secrets_dir / TELEMETRY_STORE_TOKEN_FILE


class OtlpReceiverSettings(ComponentSettings):
    """The server's OTLP/HTTP receiver (``FANZWATCH_OTLP_*``)."""

    model_config = component_config("otlp")

    enabled: bool = Field(default=True, description="serve /v1/traces and /v1/logs")
    token_file: Path | None = Field(
        default=None, description=f"the token services send (default: <secrets_dir>/{OTLP_TOKEN_FILE})"
    )
    max_request_bytes: int = Field(
        default=8 << 20, ge=1024, description="largest body as sent (compressed or not); larger → 413"
    )
    max_decompressed_bytes: int = Field(
        default=32 << 20, ge=1024, description="largest body after gzip decompression; larger → 413 (gzip bombs)"
    )
    queue_rows: int = Field(
        default=200_000, ge=100, description="spans and log records held for the store; full → 503 Retry-After"
    )
    batch_rows: int = Field(default=20_000, ge=1, description="most rows in one post to the store")
    retry_after_seconds: int = Field(default=5, ge=1, le=600, description="Retry-After of a 503")
    shutdown_flush_seconds: float = Field(
        default=10.0, gt=0, le=300, description="how long a stopping server tries to hand its queue to the store"
    )

    def resolved_token_file(self, secrets_dir: Path) -> Path:
        return self.token_file or secrets_dir / OTLP_TOKEN_FILE

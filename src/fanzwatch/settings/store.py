"""Where the fanzwatch server keeps its state."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator

from ._base import ComponentSettings, component_config


class StoreSettings(ComponentSettings):
    """The server's store: a SQLite file in the data dir unless ``url`` says otherwise.

    ``FANZWATCH_STORE_URL=postgresql+psycopg://user@127.0.0.1:5432/fanzwatch``
    """

    model_config = component_config("store")

    url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the store; default sqlite:///<data_dir>/fanzwatch.db",
    )
    pool_size: int = Field(default=5, ge=1, le=100, description="connections kept open (PostgreSQL)")
    echo: bool = Field(default=False, description="log every SQL statement (debugging only)")

    @field_validator("url")
    @classmethod
    def _known_backend(cls, v: str | None) -> str | None:
        if v is not None and not v.startswith(("sqlite", "postgresql")):
            raise ValueError("store url must be sqlite:///PATH or postgresql+psycopg://...")
        return v

    def resolved_url(self, data_dir: Path) -> str:
        """The URL to use: the configured one or the SQLite file in ``data_dir``."""
        return self.url or f"sqlite:///{data_dir / 'fanzwatch.db'}"

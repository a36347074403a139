"""Shared RUM test helpers: payload builders and the harness around a running ingestor."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson
from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from fanzwatch.rum import ANALYTICS_PREFIX, RumBeaconApp, RumIngestor
from fanzwatch.settings.rum import RumSettings

PLATFORMS = ("fanz-1", "fanz-2")
ORIGIN = "https://fanz-1.example"
SID = "5f1d3c2b4a6978e0"
CHROME_UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36"
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
NOW_MS = int(NOW.timestamp() * 1000)
PAGE = "https://fanz-1.example/creator/42"


def make_settings(**overrides: Any) -> RumSettings:
    """Defaults for tests: one allowed origin and a writer that flushes quickly."""
    values: dict[str, Any] = {"allowed_origins": (ORIGIN,), "writer_flush_interval_seconds": 0.02}
    return RumSettings(**(values | overrides))


def vital(name: str = "LCP", value: float = 1800.0, **extra: Any) -> dict[str, Any]:
    return {"type": "vital", "t": NOW_MS - 1000, "name": name, "value": value, **extra}


def batch(*events: dict[str, Any], **envelope: Any) -> dict[str, Any]:
    """A valid batch envelope around ``events`` (sent at NOW)."""
    return {"v": 1, "sid": SID, "platform": "fanz-1", "sent": NOW_MS, "url": PAGE, "events": list(events)} | envelope


def single(**fields: Any) -> dict[str, Any]:
    """The envelope fields of a single-event beacon plus ``fields``."""
    return {"sid": SID, "platform": "fanz-1", "sent": NOW_MS, "url": PAGE} | fields


@dataclass
class RumHarness:
    app: FastAPI
    beacon: RumBeaconApp
    ingestor: RumIngestor
    registry: CollectorRegistry
    client: httpx.AsyncClient
    url: str

    def sample(self, name: str, **labels: str) -> float:
        """A sample's value, 0.0 when the series does not exist."""
        value = self.registry.get_sample_value(name, labels)
        return 0.0 if value is None else value

    def series(self, sample: str) -> list[dict[str, str]]:
        """Label sets of every series exposing the sample ``sample`` (e.g. ``x_total``)."""
        return [s.labels for metric in self.registry.collect() for s in metric.samples if s.name == sample]

    async def post(
        self,
        endpoint: str,
        body: dict[str, Any] | bytes,
        *,
        content_type: str = "text/plain;charset=UTF-8",
        headers: dict[str, str] | None = None,
        path: str | None = None,
    ) -> httpx.Response:
        content = body if isinstance(body, bytes) else orjson.dumps(body)
        return await self.client.post(
            path or f"{ANALYTICS_PREFIX}/{endpoint}",
            content=content,
            headers={"content-type": content_type, "origin": ORIGIN} | (headers or {}),
        )

    async def close(self) -> None:
        await self.ingestor.stop(drain_seconds=2)
        await self.client.aclose()
        await self.ingestor.store.engine.dispose()


RumFactory = Callable[..., Awaitable[RumHarness]]

"""Posting anomalies to Alertmanager's v2 API (``POST /api/v2/alerts``).

An anomaly is an alert named ``MetricAnomaly`` with labels ``metric``, ``platform``,
``severity``, ``priority`` and ``service="fanzwatch-anomaly"``, and annotations with the
actual value, the expected range and the score. While it lasts it is re-sent with
``endsAt`` a few minutes ahead (so it expires by itself if the engine dies); when it
ends it is sent once more with ``endsAt`` = now, which resolves it at once.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

import httpx
import orjson

from ...core.errors import FanzwatchError
from ...core.models import Severity

ALERTNAME = "MetricAnomaly"
SERVICE = "fanzwatch-anomaly"


class AlertmanagerError(FanzwatchError, ConnectionError):
    """Alertmanager could not be reached or refused the alerts."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"Alertmanager at {url} did not take the alerts: {reason}")
        self.url = url
        self.reason = reason


@dataclass(frozen=True, slots=True)
class AnomalyAlert:
    """One alert as posted: identity (metric, platform, severity) and what it says."""

    metric: str
    platform: str
    severity: Severity
    title: str
    unit: str
    value: float
    lower: float
    upper: float
    score: float
    starts_at: datetime
    ends_at: datetime

    @property
    def labels(self) -> dict[str, str]:
        return {
            "alertname": ALERTNAME,
            "metric": self.metric,
            "platform": self.platform,
            "severity": self.severity.value,
            "priority": self.severity.priority.value,
            "service": SERVICE,
        }

    def payload(self, generator_url: str | None = None) -> dict[str, object]:
        actual = format_value(self.value, self.unit)
        expected = f"{format_value(self.lower, self.unit)} to {format_value(self.upper, self.unit)}"
        side = "above" if self.value > self.upper else "below" if self.value < self.lower else "outside the pattern of"
        out: dict[str, object] = {
            "labels": self.labels,
            "annotations": {
                "summary": f"{self.title} on {self.platform} is anomalous: {actual}, expected {expected}",
                "description": (
                    f"{self.title} ({self.metric}) on {self.platform} is {actual}, {side} its expected range "
                    f"{expected} for this time of day and week (anomaly score {self.score:.2f}, "
                    f"severity {self.severity.value}, priority {self.severity.priority.value})."
                ),
                "actual_value": _plain(self.value),
                "expected_range": f"{_plain(self.lower)} - {_plain(self.upper)}",
                "expected_lower": _plain(self.lower),
                "expected_upper": _plain(self.upper),
                "anomaly_score": f"{self.score:.3f}",
                "unit": self.unit,
            },
            "startsAt": iso_time(self.starts_at),
            "endsAt": iso_time(self.ends_at),
        }
        if generator_url:
            out["generatorURL"] = generator_url
        return out


def iso_time(moment: datetime) -> str:
    """RFC 3339 in UTC with a ``Z``, as Alertmanager's API writes it."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _plain(x: float) -> str:
    return "NaN" if math.isnan(x) else f"{x:.6g}"


def format_value(x: float, unit: str) -> str:
    """A value as people read it: ratios as percent, seconds as ms below one second."""
    if math.isnan(x):
        return "unknown"
    if unit == "ratio":
        return f"{x * 100:.2f}%"
    if unit == "seconds":
        return f"{x * 1000:.0f} ms" if abs(x) < 1 else f"{x:.2f} s"
    if unit.endswith("/s"):
        return f"{x:.3g} {unit}"
    return f"{x:,.0f} {unit}" if abs(x) >= 100 else f"{x:.3g} {unit}"


class PostableAlert(Protocol):
    """Anything the client can post: an anomaly or a meta-alert."""

    def payload(self, generator_url: str | None = None) -> dict[str, object]: ...


class AlertmanagerClient:
    """Posts alerts to one Alertmanager through the shared HTTP client."""

    def __init__(self, base_url: str, http: httpx.AsyncClient, *, generator_url: str | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = http
        self._generator_url = generator_url

    async def post(self, alerts: Sequence[PostableAlert]) -> None:
        """Post a batch; raises ``AlertmanagerError`` when it was not accepted."""
        if not alerts:
            return
        body = orjson.dumps([a.payload(self._generator_url) for a in alerts])
        try:
            response = await self._http.post(
                f"{self.base_url}/api/v2/alerts", content=body, headers={"Content-Type": "application/json"}
            )
        except httpx.HTTPError as exc:
            raise AlertmanagerError(self.base_url, f"{type(exc).__name__}: {exc}".rstrip(": ")) from exc
        if response.status_code != 200:
            raise AlertmanagerError(self.base_url, f"HTTP {response.status_code}: {response.text[:300]}")

"""In-memory FanzDash sources for the router tests: fixed data, switchable failures."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from fanzwatch.core.models import HealthStatus
from fanzwatch.health import CheckReport, CheckResult, HealthReport
from fanzwatch.rum.store import ErrorSummary, VitalP75
from fanzwatch.server.dash import (
    Alert,
    Analysis,
    AnomalySeries,
    EngineView,
    HealthPoint,
    Series,
    Silence,
    SilenceRequest,
    SourceError,
)

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


@dataclass
class FakePrometheus:
    """Answers every query with one series per platform whose value is the platform's number."""

    url: str = "http://prometheus.test:9090"
    error: SourceError | None = None
    empty: bool = False
    queries: list[str] = field(default_factory=list)

    async def query_range(self, expr: str, *, start: float, end: float, step: float) -> list[Series]:
        self.queries.append(expr)
        if self.error is not None:
            raise self.error
        if self.empty:
            return []
        ts = [start + i * step for i in range(int((end - start) / step) + 1)]
        labels = {"platform": "fanz-1", "currency": "USD", "pool_name": "main", "instance": "a", "job": "j"}
        return [Series(labels, ts, [float(i % 7) for i in range(len(ts))])]


@dataclass
class FakeAlertmanager:
    url: str = "http://alertmanager.test:9093"
    error: SourceError | None = None
    alerts_: list[Alert] = field(default_factory=list)
    silences_: list[Silence] = field(default_factory=list)

    async def alerts(self) -> list[Alert]:
        if self.error is not None:
            raise self.error
        return list(self.alerts_)

    async def silences(self) -> list[Silence]:
        if self.error is not None:
            raise self.error
        return list(self.silences_)

    async def create_silence(self, request: SilenceRequest) -> str:
        if self.error is not None:
            raise self.error
        sid = str(uuid.UUID(int=len(self.silences_) + 1))
        self.silences_.append(
            Silence(
                sid, request.matchers, request.starts_at, request.ends_at, request.created_by, request.comment, "active"
            )
        )
        return sid

    async def expire_silence(self, silence_id: str) -> None:
        if self.error is not None:
            raise self.error
        self.silences_ = [
            Silence(s.id, s.matchers, s.starts_at, NOW, s.created_by, s.comment, "expired") if s.id == silence_id else s
            for s in self.silences_
        ]


def firing_alert(name: str = "HighErrorRate", platform: str = "fanz-2", severity: str = "critical") -> Alert:
    return Alert(
        fingerprint=f"fp{name.lower()}{platform}",
        labels={"alertname": name, "platform": platform, "severity": severity},
        annotations={"summary": f"{name} on {platform}", "runbook_url": f"https://runbooks.test/{name}"},
        state="active",
        starts_at=NOW - timedelta(minutes=12),
    )


@dataclass
class FakeHealth:
    error: SourceError | None = None

    async def report(self) -> HealthReport:
        if self.error is not None:
            raise self.error
        return HealthReport(
            (
                CheckReport(
                    "database",
                    "datastore",
                    "responseTime",
                    True,
                    CheckResult(HealthStatus.PASS, 0.004, "s"),
                    NOW,
                    0.005,
                ),
                CheckReport(
                    "cache", "datastore", "responseTime", False, CheckResult.failed("Connection refused"), NOW, 0.001
                ),
            )
        )

    def history(self, name: str) -> list[HealthPoint]:
        return [
            HealthPoint(NOW - timedelta(seconds=15 * (3 - i)), "pass" if i else "fail", 0.004 + i / 1000, 0.01, "")
            for i in range(3)
        ]


@dataclass
class FakeRum:
    async def vitals(self, *, since: datetime, platform: str | None) -> list[VitalP75]:
        return [VitalP75("/creator/:id", "LCP", 3.1, 40), VitalP75("/creator/:id", "CLS", 0.05, 40)]

    async def errors(self, *, since: datetime, platform: str | None, limit: int) -> list[ErrorSummary]:
        return [ErrorSummary("abc123def456", "error", "TypeError: x is undefined", 7, 3, NOW)]


@dataclass
class FakeAnomalies:
    view: EngineView = field(default_factory=lambda: EngineView("pass", "watching 2 series; 1 anomalies active"))

    def status(self) -> EngineView:
        return self.view

    def series(self, *, metric: str | None, platform: str | None, points: int) -> list[AnomalySeries]:
        t0 = NOW.timestamp() - 600
        rows: list[list[float | bool | None]] = [[t0 + 60 * i, 10.0 + i, 8.0, 14.0, 0.1, i == 9] for i in range(10)]
        out = [
            AnomalySeries("request_rate", "Request rate", "requests/s", "fanz-1", "both", False, True, rows),
            AnomalySeries("active_users", "Active users", "users", "fanz-2", "both", False, False, rows),
        ]
        return [s for s in out if metric in (None, s.metric) and platform in (None, s.platform)]

    def episodes(self, *, platform: str | None) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
        active = {
            "id": "request_rate:fanz-1:1",
            "metric": "request_rate",
            "platform": "fanz-1",
            "severity": "warning",
            "started_at": NOW.timestamp() - 60,
            "value": 19.0,
            "expected_lower": 8.0,
            "expected_upper": 14.0,
            "score": 0.97,
        }
        return ([active] if platform in (None, "fanz-1") else []), []

    async def analysis(self, metric: str, *, platform: str | None, days: float, hours: float) -> Analysis:
        t = NOW.timestamp()
        return Analysis(
            insights=[
                {
                    "name": f"{metric} on fanz-1",
                    "points": 100,
                    "trend": None,
                    "seasonality": None,
                    "insights": [f"{metric} on fanz-1 grows 3.0% per day"],
                    "reason": None,
                }
            ],
            forecasts=[
                {
                    "name": f"{metric} on fanz-1",
                    "unit": "requests/s",
                    "points": [{"timestamp": t + 60 * i, "mean": 5.0, "lower": 4.0, "upper": 6.0} for i in range(5)],
                }
            ],
            history=[Series({"platform": "fanz-1"}, [t - 60, t], [5.0, 5.5])],
        )

"""Helpers of the alerting tests: payload builders, the service harness, API clients."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI
from prometheus_client import CollectorRegistry
from sqlalchemy.ext.asyncio import AsyncEngine

from fanzwatch.alerting import AlertingService, build_router
from fanzwatch.core.clock import FrozenClock, SystemClock
from fanzwatch.server.auth import Authenticator, AuthMiddleware, RoutePolicy, default_rules
from fanzwatch.settings.alerting import AlertingSettings
from fanzwatch.settings.auth import AuthSettings
from fanzwatch.store import create_store_engine, upgrade

from ._fakes import FakePagerDuty, FakeSlack

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # a Monday
PLATFORMS = ("fanz-1", "fanz-2")
TOKEN = "webhook-s3cret"
API_TOKEN = "api-s3cret"


def fingerprint(labels: dict[str, str]) -> str:
    return hashlib.sha256(repr(sorted(labels.items())).encode()).hexdigest()[:16]


def am_alert(
    alertname: str = "PaymentFailureRate",
    *,
    status: str = "firing",
    starts_at: datetime = T0,
    ends_at: datetime | None = None,
    severity: str = "critical",
    annotations: dict[str, str] | None = None,
    **labels: str,
) -> dict[str, Any]:
    """One alert as Alertmanager puts it in a webhook payload."""
    all_labels = {"alertname": alertname, "severity": severity, "platform": "fanz-1", **labels}
    if "priority" not in labels:
        all_labels["priority"] = {"critical": "P0", "warning": "P1", "info": "P2"}.get(severity, "P2")
    return {
        "status": status,
        "labels": all_labels,
        "annotations": annotations
        or {"summary": f"{alertname} on {all_labels['platform']}", "description": "d", "runbook_url": "http://rb/x.md"},
        "startsAt": starts_at.isoformat().replace("+00:00", "Z"),
        "endsAt": (ends_at or datetime(1, 1, 1, tzinfo=UTC)).isoformat().replace("+00:00", "Z")
        if status == "resolved" or ends_at
        else "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus:9090/graph",
        "fingerprint": fingerprint(all_labels),
    }


def am_payload(*alerts: dict[str, Any], group_by: tuple[str, ...] | None = None) -> dict[str, Any]:
    """A webhook payload. Without ``group_by`` the route is ungrouped (``group_by: ['...']``)."""
    first = alerts[0]["labels"]
    group_labels = {k: first[k] for k in group_by} if group_by else dict(first)
    common = {k: v for k, v in first.items() if all(a["labels"].get(k) == v for a in alerts)}
    key_labels = ", ".join(f'{k}="{v}"' for k, v in sorted(group_labels.items()))
    return {
        "version": "4",
        "groupKey": f"{{}}/{{}}:{{{key_labels}}}",
        "truncatedAlerts": 0,
        "status": "firing" if any(a["status"] == "firing" for a in alerts) else "resolved",
        "receiver": "fanzwatch",
        "groupLabels": group_labels,
        "commonLabels": common,
        "commonAnnotations": {},
        "externalURL": "http://alertmanager:9093",
        "alerts": list(alerts),
    }


def base_settings(**overrides: Any) -> AlertingSettings:
    """Settings independent of FANZWATCH_ALERTING_* in the environment."""
    values: dict[str, Any] = {
        "webhook_token": TOKEN,
        "external_url": "http://fanzwatch.test",
        "delivery": {"backoff_base": "50ms", "backoff_max": "1s", "poll_interval": "50ms", "max_attempts": 5},
        "tick_interval": "1h",  # background rounds idle; tests call tick() or rely on wake-ups
        "hold_down": "0s",  # flap damping off: a resolve is final at once, unless a test is about damping
    }
    values.update(overrides)
    return AlertingSettings(**values)


def on_call_settings(slack: FakeSlack, pagerduty: FakePagerDuty, **overrides: Any) -> AlertingSettings:
    """Ana primary, Ben secondary, Lee the engineering lead, Sam a stakeholder."""
    values: dict[str, Any] = {
        "channels": [
            {"kind": "slack", "name": "ops-slack", "url": slack.url, "timeout_seconds": 2},
            {
                "kind": "pagerduty",
                "name": "pd",
                "url": pagerduty.url,
                "routing_key": "R0UT1NGKEY",
                "timeout_seconds": 2,
            },
        ],
        "users": [
            {"name": "ana", "notify": ["pd", "ops-slack"]},
            {"name": "ben", "notify": ["pd"]},
            {"name": "lee", "notify": ["ops-slack"]},
            {"name": "sam", "notify": ["ops-slack"]},
        ],
        "schedules": [
            {"name": "primary", "users": ["ana", "ben"], "rotation": "weekly", "start": "2026-03-02T09:00:00Z"},
            {"name": "secondary", "users": ["ben", "ana"], "rotation": "weekly", "start": "2026-03-02T09:00:00Z"},
            {"name": "engineering-lead", "users": ["lee"]},
            {"name": "stakeholders", "users": ["sam"]},
        ],
    }
    values.update(overrides)
    return base_settings(**values)


@dataclass
class Harness:
    """Everything a test needs to build, run and inspect services on one store."""

    url: str
    engine: AsyncEngine
    clock: FrozenClock
    http: httpx.AsyncClient
    services: list[AlertingService] = field(default_factory=list)
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def use_real_clock(self) -> None:
        """For tests of the real workers: retries and timeouts on wall-clock time."""
        self.clock = SystemClock()  # type: ignore[assignment]

    def service(self, settings: AlertingSettings, **kwargs: Any) -> AlertingService:
        """A new service (fresh metrics registry each time, like a restarted server)."""
        self.registry = CollectorRegistry()
        svc = AlertingService(
            settings, self.engine, self.http, self.registry, self.clock, platforms=PLATFORMS, **kwargs
        )
        self.services.append(svc)
        return svc

    def metric(self, name: str, **labels: str) -> float:
        value = self.registry.get_sample_value(name, labels)
        return 0.0 if value is None else value


async def _stop(svc: AlertingService) -> None:
    """Stop a service; if that hangs, show where every task is stuck instead of timing out blind."""
    try:
        await asyncio.wait_for(svc.stop(), timeout=20)
    except TimeoutError:
        for task in asyncio.all_tasks():
            task.print_stack()
        raise


async def make_harness(url: str, *, migrate: bool = True) -> AsyncIterator[Harness]:
    if migrate:
        await asyncio.to_thread(upgrade, url)
    engine = create_store_engine(url)
    async with httpx.AsyncClient(timeout=httpx.Timeout(5.0, connect=2.0)) as http:
        h = Harness(url, engine, FrozenClock(T0), http)
        try:
            yield h
        finally:
            for svc in h.services:
                await _stop(svc)
            await engine.dispose()


def api_client(svc: AlertingService) -> httpx.AsyncClient:
    """An HTTP client for the alerting router mounted in its own app."""
    app = FastAPI()
    app.include_router(build_router(lambda: svc))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://fanzwatch.test")


async def post_alerts(client: httpx.AsyncClient, payload: dict[str, Any], token: str = TOKEN) -> httpx.Response:
    return await client.post("/api/v1/alerts/webhook", json=payload, headers={"Authorization": f"Bearer {token}"})


async def eventually(what: str, probe: Callable[[], Awaitable[object] | object], within: float = 30.0) -> Any:
    """Poll ``probe`` (sync or async) until truthy, letting the event loop run meanwhile."""
    deadline = time.monotonic() + within
    while True:
        value = probe()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within}s waiting for {what}")
        await asyncio.sleep(0.01)


def advance(clock: FrozenClock, **kwargs: float) -> datetime:
    clock.advance(timedelta(**kwargs))
    return clock.now()


@contextlib.asynccontextmanager
async def serving_with_auth(web: FastAPI, secrets_dir: Path) -> AsyncIterator[str]:
    """``web`` on a real uvicorn socket behind the server's route policy, with the API token as
    the (legacy) admin token, as in the server; yields its base URL."""
    auth = Authenticator(AuthSettings(), bind_host="127.0.0.1", secrets_dir=secrets_dir)
    auth.load(legacy_admin=(API_TOKEN,))
    web.add_middleware(AuthMiddleware, auth=auth, policy=RoutePolicy(default_rules()), routes=lambda: web.routes)
    sock = socket.create_server(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(web, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        await task
        sock.close()

"""Fixtures of the FanzDash router tests: an app over in-memory sources, and a BI service."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient

from fanzwatch import schema
from fanzwatch.bi.service import BiService
from fanzwatch.core.clock import FrozenClock
from fanzwatch.server.dash import DashSources, ServiceBiSource, build_dash_router
from fanzwatch.settings.dash import DashSettings

from .._auth import authenticator, secure
from .fakes import NOW, FakeAlertmanager, FakeAnomalies, FakeHealth, FakePrometheus, FakeRum, firing_alert
from .platform_data import populate

PLATFORMS = ("fanz-1", "fanz-2", "fanz-3")

MakeClient = Callable[..., TestClient]


@pytest.fixture(scope="session")
def bi_service(tmp_path_factory: pytest.TempPathFactory) -> BiService:
    """A real BiService over a seeded SQLite platform database (read in worker threads)."""
    path: Path = tmp_path_factory.mktemp("bi") / "platform.db"
    engine = sa.create_engine(f"sqlite:///{path}")
    schema.create_all(engine)
    populate(engine, end=NOW + timedelta(minutes=5))
    return BiService(engine, platforms=PLATFORMS, clock=FrozenClock(NOW), use_rollups=False)


@pytest.fixture
def full_sources(bi_service: BiService) -> DashSources:
    return DashSources(
        prometheus=FakePrometheus(),
        alertmanager=FakeAlertmanager(
            alerts_=[firing_alert(), firing_alert("LowUserRegistrations", "fanz-1", "warning")]
        ),
        health=FakeHealth(),
        rum=FakeRum(),
        anomalies=FakeAnomalies(),
        bi=ServiceBiSource(bi_service),
    )


@pytest.fixture
def make_client() -> Iterator[MakeClient]:
    """``make_client(sources, secured=False, host="127.0.0.1")``: FanzDash mounted on a fresh app
    behind the server's auth: open on loopback, or with the role tokens of ``tests.server._auth``."""
    clients: list[TestClient] = []

    def make(sources: DashSources | None, *, secured: bool = False, host: str = "127.0.0.1") -> TestClient:
        app = FastAPI()
        settings = DashSettings(scrape_interval_seconds=15)
        auth = authenticator(open_loopback=not secured, host=host)
        app.include_router(
            build_dash_router(lambda: sources, settings, platforms=PLATFORMS, auth=auth, clock=FrozenClock(NOW))
        )
        secure(app, auth)
        client = TestClient(app, base_url="http://testserver", follow_redirects=False)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()

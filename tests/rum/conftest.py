"""RUM test fixtures: a real ingestor on a real store, mounted in a FastAPI app.

``rum_factory(settings=..., url=..., migrate=...)`` builds a ``RumHarness``: the
ingestor is started (writer and retention running) and stopped at teardown.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from fanzwatch.core.clock import Clock, FrozenClock
from fanzwatch.rum import ANALYTICS_PREFIX, RumBeaconMiddleware, RumIngestor, build_rum_app, build_rum_router
from fanzwatch.settings.rum import RumSettings
from fanzwatch.store import create_store_engine, upgrade

from ._helpers import CHROME_UA, NOW, PLATFORMS, RumFactory, RumHarness, make_settings


@pytest.fixture
async def rum_factory(tmp_path: Path) -> AsyncIterator[RumFactory]:
    made: list[RumHarness] = []

    async def make(
        settings: RumSettings | None = None,
        *,
        url: str | None = None,
        migrate: bool = True,
        clock: Clock | None = None,
        mount: bool = False,
    ) -> RumHarness:
        url = url or f"sqlite:///{tmp_path / f'rum{len(made)}.db'}"
        if migrate:
            upgrade(url)
        engine = create_store_engine(url)
        registry = CollectorRegistry()
        settings = settings or make_settings()
        ingestor = RumIngestor(
            registry=registry, settings=settings, platforms=PLATFORMS, clock=clock or FrozenClock(NOW)
        )
        # Wired as the server does: the beacon middleware in front, the read API as a router.
        app = FastAPI()
        beacon = build_rum_app(ingestor)
        if mount:
            app.mount(ANALYTICS_PREFIX, beacon)
        else:
            app.add_middleware(RumBeaconMiddleware, beacon=beacon)
        app.include_router(build_rum_router(ingestor, platforms=PLATFORMS))
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://fanzwatch.test", headers={"user-agent": CHROME_UA}
        )
        await ingestor.start(engine)
        harness = RumHarness(app, beacon, ingestor, registry, client, url)
        made.append(harness)
        return harness

    yield make
    for harness in made:
        await harness.close()


@pytest.fixture
async def rum(rum_factory: RumFactory) -> RumHarness:
    return await rum_factory()

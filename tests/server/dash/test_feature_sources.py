"""The in-process sources over the real feature stores (SQLite): RUM events (incidents: test_incident_pages)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from fanzwatch.rum.store import RumEventStore
from fanzwatch.server.dash import StoreRumSource
from fanzwatch.store import create_store_engine, upgrade

from .fakes import NOW
from .rum_events import rum_rows


async def test_rum_source_reads_p75_and_errors_from_the_event_store(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    upgrade(url)
    engine = create_store_engine(url)
    try:
        store = RumEventStore(engine)
        await store.write(rum_rows(NOW))
        source = StoreRumSource(store)
        vitals = await source.vitals(since=NOW - timedelta(days=1), platform="fanz-1")
        assert {(v.page_template, v.name) for v in vitals} == {
            (page, name) for page in ("/", "/creator/:id", "/checkout") for name in ("LCP", "INP", "CLS", "FCP", "TTFB")
        }
        assert all(v.count == 100 for v in vitals)  # 900 page views over 3 platforms x 3 pages
        errors = await source.errors(since=NOW - timedelta(days=1), platform=None, limit=2)
        assert [(e.fingerprint, e.count) for e in errors] == [("a1b2c3d4e5f6", 14), ("0f1e2d3c4b5a", 5)]
    finally:
        await engine.dispose()

"""The in-process sources over the real feature stores (SQLite): RUM events and incidents."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

from fanzwatch.alerting.incidents.queries import IncidentQueries
from fanzwatch.alerting.tables import incidents
from fanzwatch.rum.store import RumEventStore
from fanzwatch.server.dash import DashSources, QueriesIncidentSource, StoreRumSource
from fanzwatch.store import create_store_engine, upgrade

from .conftest import MakeClient
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


async def test_incident_source_lists_open_incidents(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    upgrade(url)
    engine = create_store_engine(url)
    try:
        row = {
            "title": "HighErrorRate on fanz-3",
            "summary": "5xx above 5%",
            "priority": "P0",
            "platform": "fanz-3",
            "service": "fanz-platform",
            "labels": {},
            "runbook_url": None,
            "escalation": {},
        }
        async with engine.begin() as conn:
            await conn.execute(
                sa.insert(incidents),
                [
                    {**row, "group_key": "a", "open_group_key": "a", "status": "triggered", "opened_at": NOW},
                    {
                        **row,
                        "group_key": "b",
                        "open_group_key": None,
                        "status": "resolved",
                        "opened_at": NOW,
                        "title": "old one",
                    },
                ],
            )
        (open_incident,) = await QueriesIncidentSource(IncidentQueries(engine)).incidents()
        assert (open_incident.title, open_incident.priority, open_incident.status, open_incident.platform) == (
            "HighErrorRate on fanz-3",
            "P0",
            "triggered",
            "fanz-3",
        )
    finally:
        await engine.dispose()


def test_incidents_page_lists_them(make_client: MakeClient, tmp_path: Path) -> None:
    class Fixed:
        async def incidents(self) -> list[object]:
            from fanzwatch.server.dash import Incident

            return [Incident("7", "HighErrorRate on fanz-3", "P0", "triggered", NOW - timedelta(minutes=5), "fanz-3")]

    page = make_client(DashSources(incidents=Fixed())).get("/dash/incidents").text  # type: ignore[arg-type]
    assert "HighErrorRate on fanz-3" in page and "5 min ago" in page and "badge-p0" in page

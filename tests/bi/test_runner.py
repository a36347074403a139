"""``build_bi`` wiring and ``BiRunner``: periodic refresh in a thread, failures counted not raised."""

from __future__ import annotations

import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from prometheus_client import CollectorRegistry

from fanzwatch import schema
from fanzwatch.bi import BiRunner, RollupRefresher, build_bi
from fanzwatch.bi import rollup_tables as rt
from fanzwatch.bi.service import GENERATION_POLL
from fanzwatch.core import ConfigError, FrozenClock
from fanzwatch.settings.bi import BiSettings

from .conftest import NOW, PLATFORMS, insert, load_market, tx


def test_build_bi_wires_service_collector_refresher_and_runner(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'platform.db'}"
    engine = sa.create_engine(url)
    schema.create_all(engine)
    load_market(engine)
    parts = build_bi(
        BiSettings(database_url=url, rollup_interval_seconds=1), platforms=PLATFORMS, clock=FrozenClock(NOW)
    )
    try:
        assert parts.runner is not None and parts.refresher is not None
        result = parts.runner.run_once()
        assert result is not None and result.covered_until == datetime(2026, 3, 10, 12, tzinfo=UTC)
        report = parts.service.report("24h")
        assert (report.source, str(report.current.revenue.total)) == ("rollups", "78.0500")
    finally:
        parts.dispose()
        engine.dispose()
    raw_only = build_bi(BiSettings(database_url=url, use_rollups=False), platforms=PLATFORMS, clock=FrozenClock(NOW))
    assert (raw_only.refresher, raw_only.runner) == (None, None)
    raw_only.dispose()
    with pytest.raises(ConfigError, match="FANZWATCH_BI_DATABASE_URL"):
        build_bi(BiSettings(), platforms=PLATFORMS, clock=FrozenClock(NOW))


def test_the_runner_refreshes_periodically_and_survives_failures(tmp_path: Path) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'p.db'}")  # no platform tables: every refresh fails
    ran = threading.Event()
    runner = BiRunner(RollupRefresher(engine, clock=FrozenClock(NOW)), interval=0.01, after_refresh=[ran.set])
    runner.start()
    try:
        deadline = threading.Event()
        for _ in range(500):  # wait (bounded) until a few ticks have failed
            if runner.failures >= 2:
                break
            deadline.wait(0.01)
        assert runner.failures >= 2
        assert not ran.is_set()  # hooks run only after a successful refresh
        schema.create_all(engine)
        for _ in range(500):
            if ran.is_set():
                break
            deadline.wait(0.01)
        assert ran.is_set()
        with engine.connect() as conn:
            assert (
                conn.execute(sa.select(rt.rollup_state.c.covered_until_hour)).scalar_one() == 492_540
            )  # 12:00 of NOW's day
    finally:
        runner.stop()
        engine.dispose()


def test_every_refresh_invalidates_the_report_cache_and_the_gauges(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'platform.db'}"
    engine = sa.create_engine(url)
    schema.create_all(engine)
    load_market(engine)
    clock = FrozenClock(NOW)
    parts = build_bi(BiSettings(database_url=url, metrics_window="24h"), platforms=PLATFORMS, clock=clock)
    registry = CollectorRegistry()
    registry.register(parts.collector)
    gauge = "fanz_bi_revenue_per_minute"
    try:
        assert parts.runner is not None
        parts.runner.run_once()
        first = parts.service.report("24h", end=NOW)
        assert parts.service.report("24h", end=NOW) is first  # cached (TTL 300 s of a frozen clock)
        assert registry.get_sample_value(gauge, {"platform": "fanz-2", "currency": "USD"}) == 40 / 1440
        with engine.begin() as conn:  # a late payment inside the window, as a writer would add it
            late = tx(200, "03-10 10:30", "14.40", "USD", "completed", platform="fanz-2") | {"updated_at": NOW}
            insert(conn, schema.transactions, late)
        assert parts.service.report("24h", end=NOW) is first  # nothing told the cache yet
        assert registry.get_sample_value(gauge, {"platform": "fanz-2", "currency": "USD"}) == 40 / 1440
        parts.runner.run_once()
        fresh = parts.service.report("24h", end=NOW)
        assert fresh is not first and fresh.current.revenue.gross == first.current.revenue.gross + Decimal("14.40")
        assert registry.get_sample_value(gauge, {"platform": "fanz-2", "currency": "USD"}) == 54.4 / 1440
        parts.runner.run_once(rebuild=True)
        assert parts.service.report("24h", end=NOW) is not fresh
    finally:
        parts.dispose()
        engine.dispose()


def test_a_report_computed_across_a_refresh_is_not_cached_as_fresh(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A refresh that ends while a report (or the gauges) is being computed from the older
    data: the invalidation must win, or the stale figures are served for the whole TTL."""
    url = f"sqlite:///{tmp_path / 'platform.db'}"
    engine = sa.create_engine(url)
    schema.create_all(engine)
    load_market(engine)
    parts = build_bi(BiSettings(database_url=url, metrics_window="24h"), platforms=PLATFORMS, clock=FrozenClock(NOW))
    registry = CollectorRegistry()
    registry.register(parts.collector)
    gauge, labels = "fanz_bi_revenue_per_minute", {"platform": "fanz-2", "currency": "USD"}
    try:
        assert parts.runner is not None
        parts.runner.run_once()
        service = parts.service
        compute, platform_kpis = service.compute, service.platform_kpis

        ids = iter((200, 201))

        def add_late_payment_then_refresh() -> None:
            # after the reads of the computation in flight: a writer adds a payment, the runner refreshes
            with engine.begin() as conn:
                late = tx(next(ids), "03-10 10:30", "14.40", "USD", "completed", platform="fanz-2")
                insert(conn, schema.transactions, late | {"updated_at": NOW})
            parts.runner.run_once()  # type: ignore[union-attr]

        def compute_during_refresh(*args: Any, **kwargs: Any) -> Any:
            result = compute(*args, **kwargs)
            add_late_payment_then_refresh()
            return result

        monkeypatch.setattr(service, "compute", compute_during_refresh)
        stale = service.report("24h", end=NOW)
        monkeypatch.setattr(service, "compute", compute)
        fresh = service.report("24h", end=NOW)
        assert fresh is not stale and fresh.current.revenue.gross == stale.current.revenue.gross + Decimal("14.40")

        def kpis_during_refresh(*args: Any, **kwargs: Any) -> Any:
            result = platform_kpis(*args, **kwargs)
            add_late_payment_then_refresh()
            return result

        monkeypatch.setattr(service, "platform_kpis", kpis_during_refresh)
        before = registry.get_sample_value(gauge, labels)
        monkeypatch.setattr(service, "platform_kpis", platform_kpis)
        assert before is not None
        assert registry.get_sample_value(gauge, labels) == pytest.approx(before + 14.40 / 1440)
    finally:
        parts.dispose()
        engine.dispose()


def test_a_rollup_refresh_by_another_process_makes_the_next_report_and_scrape_fresh(tmp_path: Path) -> None:
    """`fanzwatch bi rollup` in its own process cannot call the server's invalidate(): the server
    notices the rollups' generation move in the database before serving from its cache."""
    url = f"sqlite:///{tmp_path / 'platform.db'}"
    engine = sa.create_engine(url)
    schema.create_all(engine)
    load_market(engine)
    # the "server": no runner of its own (refresh_rollups off), a long TTL
    settings = BiSettings(database_url=url, metrics_window="24h", refresh_rollups=False, cache_ttl_seconds=3600)
    clock = FrozenClock(NOW)
    parts = build_bi(settings, platforms=PLATFORMS, clock=clock)
    registry = CollectorRegistry()
    registry.register(parts.collector)
    gauge, labels = "fanz_bi_revenue_per_minute", {"platform": "fanz-2", "currency": "USD"}
    cli = [sys.executable, "-c", "from fanzwatch.cli import main; main()", "bi", "rollup", "--database-url", url]
    try:
        assert parts.runner is None
        RollupRefresher(engine, clock=FrozenClock(NOW)).refresh()  # rollups exist before the server reads
        first = parts.service.report("24h", end=NOW)
        assert first.source == "rollups"
        assert parts.service.report("24h", end=NOW) is first  # cached
        assert registry.get_sample_value(gauge, labels) == 40 / 1440
        with engine.begin() as conn:  # a late payment inside the window
            late = tx(200, "03-10 10:30", "14.40", "USD", "completed", platform="fanz-2") | {"updated_at": NOW}
            insert(conn, schema.transactions, late)
        assert parts.service.report("24h", end=NOW) is first  # no refresh yet: the cache holds
        assert registry.get_sample_value(gauge, labels) == 40 / 1440
        done = subprocess.run([*cli, "--rebuild"], capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        # the generation is read at most once a second: within it, the cache (and one read) still hold
        assert parts.service.report("24h", end=NOW) is first
        clock.advance(timedelta(seconds=GENERATION_POLL))
        fresh = parts.service.report("24h", end=NOW)
        assert fresh is not first and fresh.current.revenue.gross == first.current.revenue.gross + Decimal("14.40")
        assert registry.get_sample_value(gauge, labels) == 54.4 / 1440
        assert parts.service.report("24h", end=NOW) is fresh  # and cached again until the next refresh
    finally:
        parts.dispose()
        engine.dispose()


def test_a_server_serving_raw_reports_before_any_rollup_notices_the_first_refresh(tmp_path: Path) -> None:
    """No rollup tables yet: raw reports are cached; the first refresh (another process's) is a move."""
    url = f"sqlite:///{tmp_path / 'platform.db'}"
    engine = sa.create_engine(url)
    schema.create_all(engine)
    load_market(engine)
    clock = FrozenClock(NOW)
    settings = BiSettings(database_url=url, metrics_window="24h", refresh_rollups=False, cache_ttl_seconds=3600)
    parts = build_bi(settings, platforms=PLATFORMS, clock=clock)
    try:
        raw = parts.service.report("24h", end=NOW)
        assert raw.source == "raw"
        clock.advance(timedelta(seconds=GENERATION_POLL))
        assert parts.service.report("24h", end=NOW) is raw  # nothing moved: cached
        RollupRefresher(engine, clock=FrozenClock(NOW)).refresh()  # the first rollup build, as by the CLI
        clock.advance(timedelta(seconds=GENERATION_POLL))
        after = parts.service.report("24h", end=NOW)
        assert after is not raw and after.source == "rollups"
    finally:
        parts.dispose()
        engine.dispose()

"""KPIs exported as Prometheus gauges through a collector on a registry that is passed in."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from prometheus_client import CollectorRegistry, generate_latest

from fanzwatch import schema
from fanzwatch.bi import BiMetricsCollector, BiService
from fanzwatch.core import CATALOG, FrozenClock
from fanzwatch.core.catalog import bi as bi_catalog

from .conftest import NOW, PLATFORMS, insert, load_market, make_service, refreshed, tx

DAY_MINUTES = 24 * 60


@pytest.fixture
def setup(engine: sa.Engine) -> tuple[CollectorRegistry, FrozenClock, sa.Engine]:
    load_market(engine)
    refreshed(engine, NOW)
    clock = FrozenClock(NOW)
    registry = CollectorRegistry()
    registry.register(BiMetricsCollector(make_service(engine, clock), window=timedelta(hours=24), ttl=60.0))
    return registry, clock, engine


def test_exported_kpis_per_platform(setup: tuple[CollectorRegistry, FrozenClock, sa.Engine]) -> None:
    registry, _, _ = setup

    def value(name: str, **labels: str) -> float | None:
        return registry.get_sample_value(name, labels)

    assert value("fanz_bi_revenue_per_minute", platform="fanz-2", currency="USD") == 40 / DAY_MINUTES
    assert value("fanz_bi_revenue_per_minute", platform="fanz-1", currency="JPY") == 1000 / DAY_MINUTES
    assert value("fanz_bi_payment_success_ratio", platform="fanz-1") == 5 / 7
    assert value("fanz_bi_payment_success_ratio", platform="fanz-2") == 1.0
    assert value("fanz_bi_payment_success_ratio", platform="fanz-3") is None  # no attempts: no ratio
    assert value("fanz_bi_payment_attempts_per_minute", platform="fanz-1") == 7 / DAY_MINUTES
    assert value("fanz_bi_monthly_recurring_revenue", platform="fanz-1", currency="USD") == 9.99
    assert value("fanz_bi_monthly_recurring_revenue", platform="fanz-1", currency="EUR") == 10.0
    assert value("fanz_bi_active_subscriptions", platform="fanz-1") == 2
    assert value("fanz_bi_active_subscriptions", platform="fanz-2") == 0
    assert (
        value("fanz_bi_daily_active_users", platform="fanz-1"),
        value("fanz_bi_monthly_active_users", platform="fanz-1"),
    ) == (2, 3)
    assert value("fanz_bi_signups_per_hour", platform="fanz-1", role="creator") == 1 / 24
    assert value("fanz_bi_signups_per_hour", platform="fanz-3", role="fan") == 0
    assert value("fanz_bi_reversals_per_hour", platform="fanz-1", status="chargeback") == 1 / 24


def test_every_exported_family_is_in_the_catalog(setup: tuple[CollectorRegistry, FrozenClock, sa.Engine]) -> None:
    registry, _, _ = setup
    families = {m.name: m for m in registry.collect()}
    assert set(families) == {m.name for m in bi_catalog.METRICS}
    for name, family in families.items():
        spec = CATALOG[name]
        assert all(tuple(s.labels) == spec.label_names for s in family.samples), name
        assert {s.labels["platform"] for s in family.samples} <= set(PLATFORMS)
    assert b"fanz_bi_revenue_per_minute{" in generate_latest(registry)


def test_values_are_cached_for_the_ttl(setup: tuple[CollectorRegistry, FrozenClock, sa.Engine]) -> None:
    registry, clock, engine = setup
    labels = {"platform": "fanz-2", "currency": "USD"}
    assert registry.get_sample_value("fanz_bi_revenue_per_minute", labels) == 40 / DAY_MINUTES
    with engine.begin() as conn:
        t = tx(200, "03-10 12:30:30", "25.00", "USD", "completed", fan=5, creator=8, platform="fanz-2")
        insert(conn, schema.transactions, t)
    clock.advance(timedelta(seconds=59))
    assert registry.get_sample_value("fanz_bi_revenue_per_minute", labels) == 40 / DAY_MINUTES
    clock.advance(timedelta(seconds=1))
    assert registry.get_sample_value("fanz_bi_revenue_per_minute", labels) == float(Decimal(65) / DAY_MINUTES)


def test_a_failing_database_yields_no_series_and_no_error() -> None:
    engine = sa.create_engine("postgresql+psycopg://postgres@127.0.0.1:1/nowhere?connect_timeout=1")
    service = BiService(engine, platforms=PLATFORMS, clock=FrozenClock(NOW))
    registry = CollectorRegistry()
    registry.register(BiMetricsCollector(service, window=timedelta(minutes=15), ttl=60.0))
    assert [m for m in registry.collect() if m.name.startswith("fanz_bi")] == []

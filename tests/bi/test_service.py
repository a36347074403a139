"""``BiService``: caching per (window, end, platform) with a TTL on an injected clock; input errors."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from fanzwatch import schema
from fanzwatch.bi import UnknownPlatformError, WindowError
from fanzwatch.core import FrozenClock

from .conftest import NOW, insert, load_market, make_service, tx


def test_reports_are_cached_until_the_ttl_then_recomputed(engine: sa.Engine) -> None:
    load_market(engine)
    clock = FrozenClock(NOW)
    service = make_service(engine, clock, cache_ttl=300.0)
    first = service.report("24h")
    assert first.current.revenue.total == Decimal("78.0500")
    with engine.begin() as conn:
        insert(conn, schema.transactions, tx(100, "03-10 11:00", "1.00", "USD", "completed", fee="0.20"))
    clock.advance(timedelta(seconds=299))
    cached = service.report("24h")
    assert cached is first  # same object: served from the cache
    assert service.report("24h", platform="fanz-1") is not first  # another key
    clock.advance(timedelta(seconds=1))
    fresh = service.report("24h")
    assert fresh is not first
    # the window moved with the clock (300 s): t1 (10 USD) left; t8 (12 USD) and the new 1 USD came in;
    # the EUR rate of 2.00 valid from 12:30 now applies: 78.05 - 10 + 12 + 1 + 5.50 x (2.00 - 1.10) = 86
    assert fresh.window.end == NOW + timedelta(seconds=300)
    assert fresh.current.revenue.total == Decimal("86.0000")
    service.invalidate()
    assert service.report("24h") is not fresh


def test_bad_input_raises_config_errors_with_clear_messages(engine: sa.Engine) -> None:
    service = make_service(engine, FrozenClock(NOW))
    with pytest.raises(WindowError, match="invalid window '2x'"):
        service.report("2x")
    with pytest.raises(UnknownPlatformError, match="unknown platform 'fanz-99'; known platforms: fanz-1"):
        service.report("24h", platform="fanz-99")
    assert isinstance(UnknownPlatformError("x", ()), ValueError)


def test_without_rollups_the_service_reads_raw_sql(engine: sa.Engine) -> None:
    load_market(engine)
    report = make_service(engine, FrozenClock(NOW)).report("24h")
    assert (report.source, report.rollups_cover_until) == ("raw", None)
    assert report.current.revenue.total == Decimal("78.0500")

"""Fixtures of the BI tests: a platform database on SQLite and PostgreSQL, a hand-built market."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa

from fanzwatch import schema
from fanzwatch.bi import BiService, RollupRefresher
from fanzwatch.core import FrozenClock

PLATFORMS = ("fanz-1", "fanz-2", "fanz-3")
# The reference instant of the hand-built market: the 24 h report ends here.
NOW = datetime(2026, 3, 10, 12, 30, tzinfo=UTC)


def at(text: str) -> datetime:
    """``"03-09 12:30:00"`` → 2026-03-09T12:30:00Z (``"01-15"`` → midnight)."""
    return datetime.fromisoformat(f"2026-{text}").replace(tzinfo=UTC)


PG_ADMIN_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def module_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Like ``store_url`` but shared by a module's tests (for read-only fixtures that are costly to load)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('bi') / 'platform.db'}"
        return
    name = f"fw_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def engine(store_url: str) -> Iterator[sa.Engine]:
    """An empty platform database with the shared schema, on SQLite and on PostgreSQL."""
    eng = sa.create_engine(store_url)
    schema.create_all(eng)
    yield eng
    eng.dispose()


def insert(conn: sa.Connection, table: sa.Table, *rows: dict[str, Any]) -> None:
    defaults: dict[str, Any] = {}
    if "updated_at" in table.c:
        defaults["updated_at"] = datetime(2026, 1, 1, tzinfo=UTC)
    # executemany takes its columns from the first row: give every row every key.
    keys = {k for row in rows for k in row} | set(defaults)
    conn.execute(sa.insert(table), [{k: None for k in keys} | defaults | row for row in rows])


def tx(
    id: int,
    when: str,
    amount: str,
    currency: str,
    status: str,
    *,
    type: str = "tip",
    fee: str | None = None,
    fan: int = 1,
    creator: int = 7,
    platform: str = "fanz-1",
    refunded: str | None = None,
) -> dict[str, Any]:
    return {
        "id": id,
        "platform": platform,
        "type": type,
        "amount": Decimal(amount),
        "currency": currency,
        "status": status,
        "fee_amount": None if fee is None else Decimal(fee),
        "creator_id": creator,
        "fan_id": fan,
        "created_at": at(when),
        "refunded_at": None if refunded is None else at(refunded),
    }


def load_market(engine: sa.Engine) -> None:
    """The hand-built market whose figures the tests assert (derivations in test_kpis.py)."""
    with engine.begin() as conn:
        insert(
            conn,
            schema.users,
            {"id": 1, "platform": "fanz-1", "role": "fan", "created_at": at("01-01")},
            {"id": 2, "platform": "fanz-1", "role": "fan", "created_at": at("03-09 12:30:00")},  # = current start
            {"id": 3, "platform": "fanz-1", "role": "creator", "creator_tier": "top", "created_at": at("03-09 20:00")},
            {"id": 4, "platform": "fanz-1", "role": "fan", "created_at": at("03-10 12:30:00")},  # = current end
            {"id": 5, "platform": "fanz-2", "role": "fan", "created_at": at("03-09 13:00")},
            {"id": 6, "platform": "fanz-1", "role": "fan", "created_at": at("03-08 14:00")},  # previous window
            {"id": 7, "platform": "fanz-1", "role": "creator", "creator_tier": "verified", "created_at": at("01-01")},
            {"id": 8, "platform": "fanz-2", "role": "creator", "creator_tier": "new", "created_at": at("01-01")},
        )
        insert(
            conn,
            schema.exchange_rates,
            {"currency": "EUR", "valid_from": at("01-01"), "rate_to_usd": Decimal("1.10")},
            # valid from exactly the window end: not yet in effect for [start, end)
            {"currency": "EUR", "valid_from": NOW, "rate_to_usd": Decimal("2.00")},
            {"currency": "JPY", "valid_from": at("01-01"), "rate_to_usd": Decimal("0.0070")},
        )
        insert(
            conn,
            schema.content,
            {"id": 1, "platform": "fanz-1", "creator_id": 7, "type": "image", "created_at": at("03-09 13:00")},
            {"id": 2, "platform": "fanz-1", "creator_id": 7, "type": "video", "created_at": at("03-09 14:00")},
            {"id": 3, "platform": "fanz-1", "creator_id": 7, "type": "image", "created_at": at("03-10 08:00")},
            {"id": 4, "platform": "fanz-2", "creator_id": 8, "type": "audio", "created_at": at("03-10 09:00")},
            {"id": 5, "platform": "fanz-1", "creator_id": 7, "type": "text", "created_at": at("03-08 13:00")},
        )
        insert(
            conn,
            schema.transactions,
            tx(1, "03-09 12:30:00", "10.00", "USD", "completed", fee="2.00"),  # at the start: inside
            tx(2, "03-09 15:00", "5.50", "EUR", "completed", type="ppv", fan=2),  # no fee: default 20 %
            tx(3, "03-10 01:00", "1000", "JPY", "completed", type="subscription", fee="200"),
            tx(4, "03-10 02:00", "99.99", "USD", "failed", fan=2),
            tx(5, "03-10 03:00", "20.00", "USD", "declined"),
            tx(6, "03-08 13:00", "30.00", "USD", "refunded", fee="6.00", fan=6, refunded="03-09 18:00"),
            tx(7, "03-10 04:00", "7.00", "GBP", "completed", type="ppv"),  # no GBP rate: not converted
            tx(8, "03-10 12:30:00", "12.00", "USD", "completed"),  # at the end: outside
            tx(9, "03-10 10:00", "40.00", "USD", "completed", fee="8.00", fan=5, creator=8, platform="fanz-2"),
            tx(10, "03-10 05:00", "15.00", "USD", "chargeback", type="ppv", fee="3.00", refunded="03-10 06:00"),
            tx(11, "03-08 12:30:00", "25.00", "USD", "completed", fee="5.00", fan=6),  # previous window start
        )
        insert(
            conn,
            schema.subscriptions,
            {
                "id": 1,
                "platform": "fanz-1",
                "fan_id": 1,
                "creator_id": 7,
                "price": Decimal("9.99"),
                "currency": "USD",
                "billing_period_months": 1,
                "status": "active",
                "started_at": at("01-15"),
                "current_period_end": at("03-15"),
            },
            {
                "id": 2,
                "platform": "fanz-1",
                "fan_id": 2,
                "creator_id": 7,
                "price": Decimal("120.00"),
                "currency": "EUR",
                "billing_period_months": 12,
                "status": "active",
                "started_at": at("03-09 14:00"),
                "current_period_end": datetime(2027, 3, 9, 14, tzinfo=UTC),
            },
            {
                "id": 3,
                "platform": "fanz-1",
                "fan_id": 6,
                "creator_id": 7,
                "price": Decimal("5.00"),
                "currency": "USD",
                "billing_period_months": 1,
                "status": "cancelled",
                "started_at": at("02-01"),
                "cancelled_at": at("03-09 16:00"),
                "current_period_end": at("04-01"),
            },
            {
                "id": 4,
                "platform": "fanz-2",
                "fan_id": 5,
                "creator_id": 8,
                "price": Decimal("30.00"),
                "currency": "USD",
                "billing_period_months": 3,
                "status": "expired",
                "started_at": at("01-01"),
                "ended_at": at("03-08 20:00"),
                "current_period_end": at("03-08 20:00"),
            },
        )
        insert(
            conn,
            schema.sessions,
            {
                "platform": "fanz-1",
                "user_id": 1,
                "started_at": at("03-09 12:30:00"),
                "ended_at": at("03-09 12:40:00"),
            },  # 600 s
            {"platform": "fanz-1", "user_id": 1, "started_at": at("03-10 09:00"), "ended_at": at("03-10 09:30")},
            {"platform": "fanz-1", "user_id": 2, "started_at": at("03-09 23:59:59"), "ended_at": None},  # open
            {
                "platform": "fanz-2",
                "user_id": 5,
                "started_at": at("03-10 11:00:00"),
                "ended_at": at("03-10 11:01:00.500000"),
            },  # 60.5 s
            {"platform": "fanz-1", "user_id": 6, "started_at": at("03-08 15:00"), "ended_at": at("03-08 15:05")},
            {"platform": "fanz-1", "user_id": 1, "started_at": NOW, "ended_at": None},  # at the end: outside
            {"platform": "fanz-1", "user_id": 1, "started_at": at("02-15 10:00"), "ended_at": None},
            {"platform": "fanz-1", "user_id": 3, "started_at": at("02-01 10:00"), "ended_at": None},  # > 30 days
        )
        views = [
            (1, 2, "03-09 13:30"),
            (1, 1, "03-09 14:00"),
            (2, 2, "03-09 16:00"),
            (2, 1, "03-10 07:00"),
            (3, 1, "03-10 09:00"),
            (3, 2, "03-10 10:00"),
            (1, 5, "03-10 11:00"),
            (4, 5, "03-10 12:29:59"),
            (5, 6, "03-08 15:00"),
            (5, 6, "03-08 15:01"),
        ]
        insert(
            conn,
            schema.content_views,
            *(
                {"platform": "fanz-2" if c == 4 else "fanz-1", "content_id": c, "user_id": u, "created_at": at(w)}
                for c, u, w in views
            ),
        )
        insert(
            conn,
            schema.likes,
            {"platform": "fanz-1", "content_id": 1, "user_id": 1, "created_at": at("03-09 14:00")},
            {"platform": "fanz-1", "content_id": 2, "user_id": 2, "created_at": at("03-09 16:00")},
            {"platform": "fanz-2", "content_id": 4, "user_id": 5, "created_at": at("03-10 12:00")},
            {"platform": "fanz-1", "content_id": 5, "user_id": 6, "created_at": at("03-08 15:02")},
        )
        insert(
            conn,
            schema.comments,
            {"platform": "fanz-1", "content_id": 1, "user_id": 1, "created_at": at("03-09 14:05")},
            {"platform": "fanz-1", "content_id": 3, "user_id": 2, "created_at": at("03-10 10:05")},
        )
        insert(
            conn, schema.shares, {"platform": "fanz-1", "content_id": 1, "user_id": 1, "created_at": at("03-09 14:10")}
        )
        if conn.dialect.name == "postgresql":
            for table in ("users", "content", "subscriptions", "transactions"):
                conn.execute(
                    sa.text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
                )


def make_service(engine: sa.Engine, clock: FrozenClock, **kwargs: Any) -> BiService:
    return BiService(engine, platforms=PLATFORMS, clock=clock, **kwargs)


@pytest.fixture
def market(engine: sa.Engine) -> sa.Engine:
    load_market(engine)
    return engine


def refreshed(engine: sa.Engine, at_time: datetime) -> RollupRefresher:
    refresher = RollupRefresher(engine, clock=FrozenClock(at_time))
    refresher.refresh()
    return refresher


__all__ = ["NOW", "PLATFORMS", "Path", "at", "insert", "make_service", "refreshed", "timedelta", "tx"]

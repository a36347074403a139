"""The shared platform schema: creation, UTC handling, constraints and indexes on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
import sqlalchemy as sa

from fanzwatch import schema

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def engine(store_url: str) -> Iterator[sa.Engine]:
    eng = sa.create_engine(store_url)
    schema.create_all(eng)
    yield eng
    eng.dispose()


def _user(conn: sa.Connection, *, role: str = "fan", created_at: datetime = T0, platform: str = "fanz-1") -> int:
    uid: int = conn.execute(
        sa.insert(schema.users).values(platform=platform, role=role, created_at=created_at).returning(schema.users.c.id)
    ).scalar_one()
    return uid


def test_create_all_is_idempotent_and_creates_every_table(engine: sa.Engine) -> None:
    schema.create_all(engine)
    names = set(sa.inspect(engine).get_table_names())
    assert names == {t.name for t in schema.TABLES}


def test_every_fact_table_has_a_platform_time_index(engine: sa.Engine) -> None:
    insp = sa.inspect(engine)
    time_column = {
        "users": "created_at",
        "transactions": "created_at",
        "content": "created_at",
        "content_views": "created_at",
        "likes": "created_at",
        "comments": "created_at",
        "shares": "created_at",
        "sessions": "started_at",
        "subscriptions": "started_at",
    }
    for table, column in time_column.items():
        indexed = [tuple(ix["column_names"]) for ix in insp.get_indexes(table)]
        assert ("platform", column) in indexed, (table, indexed)
        assert ("updated_at",) in indexed, table


def test_timestamps_are_stored_as_utc_and_read_back_aware(engine: sa.Engine) -> None:
    paris = timezone(timedelta(hours=1))
    with engine.begin() as conn:
        uid = _user(conn, created_at=datetime(2026, 3, 1, 13, 30, tzinfo=paris))
        got = conn.execute(sa.select(schema.users.c.created_at).where(schema.users.c.id == uid)).scalar_one()
        # comparisons in SQL use the UTC value
        n = conn.execute(
            sa.select(sa.func.count()).where(schema.users.c.created_at == datetime(2026, 3, 1, 12, 30, tzinfo=UTC))
        ).scalar_one()
    assert got == datetime(2026, 3, 1, 12, 30, tzinfo=UTC)
    assert got.utcoffset() == timedelta(0)
    assert n == 1


def test_naive_datetimes_are_refused(engine: sa.Engine) -> None:
    with engine.begin() as conn, pytest.raises(sa.exc.StatementError, match="naive datetime"):
        _user(conn, created_at=datetime(2026, 3, 1, 12, 0))


def test_money_is_exact(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        fan, creator = _user(conn), _user(conn, role="creator")
        for amount in ("0.10", "0.20", "9.99"):
            conn.execute(
                sa.insert(schema.transactions).values(
                    platform="fanz-1",
                    type="tip",
                    amount=Decimal(amount),
                    currency="USD",
                    status="completed",
                    creator_id=creator,
                    fan_id=fan,
                    created_at=T0,
                )
            )
        total = conn.execute(sa.select(sa.func.sum(schema.transactions.c.amount))).scalar_one()
    assert Decimal(total).quantize(Decimal("0.0001")) == Decimal("10.2900")


@pytest.mark.parametrize(
    ("table", "values"),
    [
        ("users", {"platform": "fanz-1", "role": "admin", "created_at": T0}),
        ("users", {"platform": "fanz-1", "role": "creator", "creator_tier": "gold", "created_at": T0}),
        (
            "transactions",
            {
                "platform": "fanz-1",
                "type": "tip",
                "amount": Decimal(5),
                "currency": "USD",
                "status": "pending",
                "creator_id": 1,
                "fan_id": 1,
                "created_at": T0,
            },
        ),
        (
            "transactions",
            {
                "platform": "fanz-1",
                "type": "tip",
                "amount": Decimal(5),
                "currency": "USD",
                "status": "completed",
                "fee_amount": Decimal(6),
                "creator_id": 1,
                "fan_id": 1,
                "created_at": T0,
            },
        ),
    ],
    ids=["bad-role", "bad-tier", "bad-status", "fee-above-amount"],
)
def test_check_constraints_reject_bad_values(engine: sa.Engine, table: str, values: dict[str, object]) -> None:
    with engine.begin() as conn:
        _user(conn)
    with engine.begin() as conn, pytest.raises(sa.exc.IntegrityError):
        conn.execute(sa.insert(schema.metadata.tables[table]).values(**values))


def test_updated_at_is_set_on_insert_and_moved_on_update(engine: sa.Engine) -> None:
    before = datetime.now(UTC) - timedelta(seconds=5)
    with engine.begin() as conn:
        uid = _user(conn)
        conn.execute(sa.update(schema.users).values(updated_at=T0).where(schema.users.c.id == uid))
        conn.execute(sa.update(schema.users).values(country="DE").where(schema.users.c.id == uid))
        updated = conn.execute(sa.select(schema.users.c.updated_at)).scalar_one()
    assert updated > before

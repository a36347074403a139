"""The platform-data generator: seeded, identical on both backends, consistent, seasonal, safe."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from fanzwatch import schema
from fanzwatch.demo.generate import GenerationError, GenerationProgress, generate_platform_data

END = datetime(2026, 3, 1, 0, 0, tzinfo=UTC)
START = END - timedelta(days=21)
PLATFORMS = ("fanz-1", "fanz-2")


def _generate(url: str, **kw: Any) -> Any:
    args: dict[str, Any] = {"start": START, "end": END, "platforms": PLATFORMS, "seed": 11, "scale": 0.3} | kw
    return generate_platform_data(url, **args)


def _dump(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every platform table, in id order, as Python values (Decimal, aware datetime)."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return {
                t.name: [tuple(r) for r in conn.execute(sa.select(t).order_by(*t.primary_key.columns))]
                for t in schema.TABLES
            }
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_same_seed_same_rows_on_sqlite_and_postgresql(tmp_path: Path, pg_url: str) -> None:
    lite = f"sqlite:///{tmp_path / 'p.db'}"
    a, b = _generate(lite), _generate(pg_url)
    assert a.rows == b.rows
    assert a.rows["transactions"] > 1000 and a.rows["content_views"] > 5000
    left, right = _dump(lite), _dump(pg_url)
    for table in schema.TABLES:
        assert left[table.name] == right[table.name], table.name


def test_same_seed_same_rows_and_another_seed_others(tmp_path: Path) -> None:
    one, two, other = (f"sqlite:///{tmp_path / n}" for n in ("1.db", "2.db", "3.db"))
    _generate(one)
    _generate(two)
    _generate(other, seed=12)
    assert _dump(one) == _dump(two)
    assert _dump(one)["transactions"] != _dump(other)["transactions"]


# Each query counts rows that break an invariant of the platform's data: all must be 0.
VIOLATIONS = {
    "transaction of an unknown fan or creator": """
        SELECT count(*) FROM transactions t LEFT JOIN users f ON f.id = t.fan_id
        LEFT JOIN users c ON c.id = t.creator_id
        WHERE f.id IS NULL OR c.id IS NULL OR f.role <> 'fan' OR c.role <> 'creator'
           OR f.platform <> t.platform OR c.platform <> t.platform""",
    "payment before the fan signed up": """
        SELECT count(*) FROM transactions t JOIN users f ON f.id = t.fan_id WHERE t.created_at < f.created_at""",
    "subscription payment not at the subscription's price": """
        SELECT count(*) FROM transactions t LEFT JOIN subscriptions s ON s.id = t.subscription_id
        WHERE t.type = 'subscription' AND (s.id IS NULL OR s.price <> t.amount OR s.currency <> t.currency
           OR s.fan_id <> t.fan_id OR t.created_at < s.started_at)""",
    "ppv payment not at the item's price": """
        SELECT count(*) FROM transactions t LEFT JOIN content c ON c.id = t.content_id
        WHERE t.type = 'ppv' AND (c.id IS NULL OR c.ppv_price <> t.amount OR c.currency <> t.currency
           OR c.creator_id <> t.creator_id OR t.created_at < c.created_at)""",
    "reversal without its time, or before the payment": """
        SELECT count(*) FROM transactions WHERE (status IN ('refunded', 'chargeback'))
           <> (refunded_at IS NOT NULL) OR refunded_at <= created_at""",
    # SQLite stores money as REAL: 20 % within half a unit of the fourth place
    "fee not 20 %, NULL or 0 as the outcome says": """
        SELECT count(*) FROM transactions WHERE NOT (
           (status IN ('declined', 'failed') AND fee_amount = 0)
           OR (status NOT IN ('declined', 'failed') AND (fee_amount IS NULL
               OR abs(fee_amount * 5 - amount) < 0.00005)))""",
    "view of content not yet uploaded, or by an unknown user": """
        SELECT count(*) FROM content_views v JOIN content c ON c.id = v.content_id
        LEFT JOIN users u ON u.id = v.user_id
        WHERE v.created_at < c.created_at OR (v.user_id IS NOT NULL AND (u.id IS NULL OR u.created_at > v.created_at))
           OR c.platform <> v.platform""",
    "session before sign-up or ending before it starts": """
        SELECT count(*) FROM sessions s JOIN users u ON u.id = s.user_id
        WHERE s.started_at < u.created_at OR s.ended_at < s.started_at OR u.platform <> s.platform""",
    "subscription state not matching its times": """
        SELECT count(*) FROM subscriptions WHERE NOT (
           (status = 'active' AND cancelled_at IS NULL AND ended_at IS NULL)
           OR (status = 'cancelled' AND cancelled_at IS NOT NULL)
           OR (status = 'expired' AND cancelled_at IS NULL AND ended_at IS NOT NULL))
           OR current_period_end < started_at""",
}


def test_rows_are_consistent_on_both_backends(store_url: str) -> None:
    _generate(store_url)
    engine = sa.create_engine(store_url)
    with engine.connect() as conn:
        broken = {name: conn.execute(sa.text(sql)).scalar_one() for name, sql in VIOLATIONS.items()}
        assert broken == dict.fromkeys(VIOLATIONS, 0)
        late = {
            f"{t.name}.{c.name}": conn.execute(sa.select(sa.func.count()).where(c >= END)).scalar_one()
            for t in schema.TABLES
            for c in t.columns
            if isinstance(c.type, schema.UtcDateTime) and c.name != "current_period_end"
        }
        assert set(late.values()) == {0}, late
        early = conn.execute(sa.select(sa.func.count()).where(schema.transactions.c.created_at < START)).scalar_one()
        assert early == 0
    engine.dispose()


def test_money_and_refunds_look_like_a_platform(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'p.db'}"
    _generate(url, scale=1.0)
    t = schema.transactions
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        currencies = set(conn.execute(sa.select(t.c.currency).distinct()).scalars())
        statuses: dict[str, int] = dict(conn.execute(sa.select(t.c.status, sa.func.count()).group_by(t.c.status)).all())
        jpy = conn.execute(sa.select(t.c.amount).where(t.c.currency == "JPY")).scalars().all()
        null_fees = conn.execute(sa.select(sa.func.count()).where(t.c.fee_amount.is_(None))).scalar_one()
        reversals = conn.execute(sa.select(t.c.created_at, t.c.refunded_at).where(t.c.refunded_at.is_not(None))).all()
        late_refunds = sum(r.refunded_at.date() > r.created_at.date() for r in reversals)
        rate_days = conn.execute(
            sa.select(sa.func.count()).where(schema.exchange_rates.c.currency == "EUR")
        ).scalar_one()
        periods = set(conn.execute(sa.select(schema.subscriptions.c.billing_period_months).distinct()).scalars())
    engine.dispose()
    assert currencies == {"USD", "EUR", "GBP", "CAD", "AUD", "JPY", "BRL", "MXN"}
    assert set(statuses) == set(schema.TRANSACTION_STATUSES)
    assert 0.8 < statuses["completed"] / sum(statuses.values()) < 0.95
    assert jpy and all(a == a.to_integral_value() for a in jpy)
    assert null_fees > 0 and late_refunds > 0
    assert rate_days == 1 + 21 + 1  # a rate per day from the day before start, plus the demo's fixed one
    assert periods == {1, 3, 6, 12}


def test_traffic_follows_the_seasonal_model(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'p.db'}"
    _generate(url, platforms=("fanz-1",))
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        by_hour: dict[int, int] = dict(
            conn.execute(
                sa.text("SELECT CAST(substr(started_at, 12, 2) AS INTEGER), count(*) FROM sessions GROUP BY 1")
            ).all()
        )
    engine.dispose()
    evening = sum(by_hour[h] for h in (19, 20, 21, 22))
    small_hours = sum(by_hour[h] for h in (3, 4, 5, 6))
    assert evening > 3 * small_hours  # the profile: 0.16-0.22 before dawn, ~1.0 in the evening


def test_progress_is_reported_and_a_second_range_appends(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'p.db'}"
    seen: list[GenerationProgress] = []
    first = _generate(url, progress=seen.append)
    assert seen and seen[-1].rows == first.total_rows
    assert {p.platform for p in seen} == set(PLATFORMS)
    later = _generate(url, start=END, end=END + timedelta(days=3))
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        users = conn.execute(sa.select(sa.func.count(), sa.func.max(schema.users.c.id))).one()
    engine.dispose()
    assert users == (first.rows["users"] + later.rows["users"],) * 2  # ids continue after the largest


def test_refuses_a_range_that_already_has_data_and_leaves_it_unchanged(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'p.db'}"
    _generate(url)
    before = _dump(url)
    with pytest.raises(GenerationError, match="already has transactions"):
        _generate(url, start=START + timedelta(days=20), end=END + timedelta(days=1))
    assert _dump(url) == before


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"start": datetime(2026, 1, 1)}, "timezone-aware"),
        ({"start": END}, "not before"),
        ({"platforms": ("Fanz 1",)}, "not platform slugs"),
        ({"platforms": ()}, "no platforms"),
        ({"scale": 0.0}, "scale"),
    ],
)
def test_bad_arguments_are_clear_errors_and_create_nothing(tmp_path: Path, kw: dict[str, Any], message: str) -> None:
    with pytest.raises(GenerationError, match=message):
        _generate(f"sqlite:///{tmp_path / 'p.db'}", **kw)
    assert not (tmp_path / "p.db").exists()


def test_unreachable_database_is_a_clear_error() -> None:
    with pytest.raises(GenerationError, match="cannot open the platform database"):
        _generate("postgresql+psycopg://postgres@127.0.0.1:1/nowhere")
    with pytest.raises(GenerationError, match="unsupported database backend"):
        _generate("mysql://localhost/x")


def test_amounts_are_exact_decimals(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'p.db'}"
    _generate(url, platforms=("fanz-1",))
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        amounts = conn.execute(sa.select(schema.transactions.c.amount)).scalars().all()
    engine.dispose()
    assert all(a == a.quantize(Decimal("0.01")) for a in amounts)


@pytest.mark.parametrize("scale", [0.02, 0.001, 1e-6])
def test_tiny_volumes_write_what_they_have_instead_of_failing(tmp_path: Path, scale: float) -> None:
    # 2 days at tiny scales: platforms with no subscription (or no user at all) at that point
    url = f"sqlite:///{tmp_path / 'p.db'}"
    summary = _generate(url, start=END - timedelta(days=2), scale=scale)
    assert summary.rows["exchange_rates"] > 0
    assert summary.total_rows == sum(summary.rows.values())
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        assert {n: conn.execute(sa.text(sql)).scalar_one() for n, sql in VIOLATIONS.items()} == dict.fromkeys(
            VIOLATIONS, 0
        )
    engine.dispose()

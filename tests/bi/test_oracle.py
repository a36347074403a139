"""Rollups == raw SQL == an independent Python oracle, for every KPI, with rows at every edge ± 1 µs.

Generated platform data (8 currencies with daily rates, refunds landing later, NULL fees)
plus rows placed exactly on, one microsecond before and after, and 500/300 µs before every
edge the figures depend on: window start and end, the previous window's start, the hours
and UTC days around them (SQLite's date functions round ``...59.9995`` up into the next
hour and day), the DAU/WAU/MAU day boundaries. Checked on SQLite and PostgreSQL, for all
platforms and one, with rollups built, then refreshed incrementally.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from fanzwatch import schema
from fanzwatch.bi import BiReport, BiService, RollupRefresher, Window
from fanzwatch.core import FrozenClock
from fanzwatch.demo.generate import generate_platform_data

from . import oracle

T1 = datetime(2026, 2, 22, tzinfo=UTC)
T0 = T1 - timedelta(days=40)
PLATFORMS = ("fanz-1", "fanz-2")
US = timedelta(microseconds=1)
FOUR = Decimal("0.0001")
HOUR, DAY = timedelta(hours=1), timedelta(days=1)
ENDS = (
    datetime(2026, 2, 20, 13, 37, 12, 345678, tzinfo=UTC),  # mid-hour, odd microseconds
    datetime(2026, 2, 21, tzinfo=UTC),  # a UTC midnight
    datetime(2026, 2, 19, 18, tzinfo=UTC),  # a whole hour
    T1 + timedelta(minutes=30),  # beyond the rollups: read raw
)
LENGTHS = (DAY, 7 * DAY, 30 * DAY)
WINDOWS = [Window.ending(end, length) for end in ENDS for length in LENGTHS]


def _floor(t: datetime, unit: timedelta) -> datetime:
    return oracle.EPOCH + ((t - oracle.EPOCH) // unit) * unit


def edge_instants() -> list[datetime]:
    """Every edge any window above depends on, and the instants just around it."""
    edges: set[datetime] = set()
    for w in WINDOWS:
        day_end = _floor(w.end, DAY)
        for t in (w.start, w.end, w.previous().start, day_end, day_end - DAY, day_end - 7 * DAY, day_end - 30 * DAY):
            edges |= {t, _floor(t, HOUR), _floor(t, HOUR) + HOUR, _floor(t, DAY), _floor(t, DAY) + DAY}
    out = set()
    for t in edges:
        for delta in (-500 * US, -300 * US, -US, timedelta(0), US):
            if T0 + DAY < t + delta < T1 + HOUR:
                out.add(t + delta)
    return sorted(out)


def _existing(conn: sa.Connection) -> dict[str, dict[str, int]]:
    u, c = schema.users, schema.content
    out: dict[str, dict[str, int]] = {}
    for p in PLATFORMS:
        first = sa.select(sa.func.min(u.c.id)).where(u.c.platform == p, u.c.created_at < T0 + DAY)
        out[p] = {
            "fan": conn.execute(first.where(u.c.role == "fan")).scalar_one(),
            "creator": conn.execute(first.where(u.c.role == "creator")).scalar_one(),
            "content": conn.execute(
                sa.select(sa.func.min(c.c.id)).where(c.c.platform == p, c.c.created_at < T0 + DAY)
            ).scalar_one(),
        }
        assert None not in out[p].values(), (p, out[p])
    return out


def add_edge_rows(engine: sa.Engine) -> int:
    """Rows of every kind at every edge instant; returns how many instants."""
    instants = edge_instants()
    with engine.begin() as conn:
        known = _existing(conn)
        next_id = {
            t.name: int(conn.execute(sa.select(sa.func.max(t.c.id))).scalar_one()) + 1
            for t in (schema.users, schema.subscriptions)
        }
        rows: dict[str, list[dict[str, Any]]] = {t.name: [] for t in schema.TABLES}
        for i, t in enumerate(instants):
            p = PLATFORMS[i % 2]
            k = known[p]
            fan, creator, item = k["fan"], k["creator"], k["content"]
            base = {"platform": p, "updated_at": T1}
            currency = ("USD", "EUR", "JPY", "GBP")[i % 4]
            amount = Decimal("1000") if currency == "JPY" else Decimal("12.3457")
            fee = None if i % 3 else (amount / 5).quantize(FOUR)
            tx = base | {"type": ("tip", "ppv", "subscription")[i % 3], "currency": currency, "creator_id": creator,
                         "fan_id": fan, "amount": amount, "fee_amount": fee}  # fmt: skip
            rows["transactions"] += [
                tx | {"status": "completed", "created_at": t, "refunded_at": None},
                tx | {"status": ("failed", "declined")[i % 2], "created_at": t, "refunded_at": None, "fee_amount": 0},
                tx | {"status": "refunded", "created_at": t - 2 * DAY, "refunded_at": t},
                tx | {"status": "chargeback", "created_at": t, "refunded_at": t + 9 * DAY},
            ]
            uid = next_id["users"] + i
            rows["users"].append(base | {"id": uid, "role": ("fan", "creator")[i % 5 == 0], "created_at": t})
            rows["content"].append(base | {"creator_id": creator, "type": "video", "created_at": t})
            for table in ("content_views", "likes", "comments", "shares"):
                rows[table].append(base | {"content_id": item, "user_id": fan, "created_at": t})
            rows["sessions"] += [
                base | {"user_id": fan, "started_at": t, "ended_at": t + timedelta(seconds=61, microseconds=7)},
                base | {"user_id": uid, "started_at": t, "ended_at": None},
                base | {"user_id": uid, "started_at": t + DAY, "ended_at": t + DAY + 999_999 * US},  # day-1 return
            ]
            sub = base | {"fan_id": fan, "creator_id": creator, "currency": currency, "price": Decimal("95.9000"),
                          "billing_period_months": (1, 3, 12, 7)[i % 4],
                          "current_period_end": t + 30 * DAY}  # fmt: skip
            rows["subscriptions"] += [
                sub | {"id": next_id["subscriptions"] + 3 * i, "status": "active", "started_at": t},
                sub | {"id": next_id["subscriptions"] + 3 * i + 1, "status": "cancelled", "started_at": t - 3 * DAY,
                       "cancelled_at": t},
                sub | {"id": next_id["subscriptions"] + 3 * i + 2, "status": "expired", "started_at": t - 3 * DAY,
                       "ended_at": t},
            ]  # fmt: skip
        for table in schema.TABLES:
            if rows[table.name]:
                keys = {k for r in rows[table.name] for k in r}
                conn.execute(sa.insert(table), [dict.fromkeys(keys) | r for r in rows[table.name]])
        if conn.dialect.name == "postgresql":
            for name in ("users", "subscriptions", "transactions", "content"):
                conn.execute(
                    sa.text(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), (SELECT max(id) FROM {name}))")
                )
    return len(instants)


@pytest.fixture(scope="module")
def reports(module_url: str) -> Iterator[dict[str, Any]]:
    """Per (window, platform): raw report, rollup report, oracle figures of both windows."""
    generate_platform_data(module_url, start=T0, end=T1, platforms=PLATFORMS, seed=5, scale=0.08)
    engine = sa.create_engine(module_url)
    edges = add_edge_rows(engine)
    RollupRefresher(engine, clock=FrozenClock(T1 - 3 * DAY + timedelta(minutes=17))).refresh(rebuild=True)
    RollupRefresher(engine, clock=FrozenClock(T1 + timedelta(minutes=5))).refresh()  # incremental, to T1
    service = BiService(engine, platforms=PLATFORMS, clock=FrozenClock(T1))
    rows = oracle.Rows.load(engine)
    out: dict[str, Any] = {"edges": edges, "cases": []}
    for w in WINDOWS:
        for platform in (None, "fanz-2"):
            raw = service.compute(w, platform=platform, raw=True)
            rolled = service.compute(w, platform=platform)
            rates = rows.rates(w.end)
            expected = (oracle.metrics(rows, w, platform, rates), oracle.metrics(rows, w.previous(), platform, rates))
            out["cases"].append((w, platform, raw, rolled, expected))
    yield out
    engine.dispose()


def _diff(a: Any, b: Any, path: str = "") -> list[str]:
    """Dotted paths where two dumped models differ (for a readable failure)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return [d for k in sorted(set(a) | set(b)) for d in _diff(a.get(k), b.get(k), f"{path}.{k}")]
    return [] if a == b else [f"{path}: {a!r} != {b!r}"]


def test_raw_sql_equals_the_oracle_for_every_kpi(reports: dict[str, Any]) -> None:
    assert reports["edges"] > 100
    for w, platform, raw, _, (current, previous) in reports["cases"]:
        assert _diff(raw.current.model_dump(), current.model_dump()) == [], (w, platform, "current")
        assert _diff(raw.previous.model_dump(), previous.model_dump()) == [], (w, platform, "previous")


def test_rollups_equal_raw_sql_for_every_kpi(reports: dict[str, Any]) -> None:
    sources = set()
    for w, platform, raw, rolled, _ in reports["cases"]:
        sources.add(rolled.source)
        assert _diff(rolled.current.model_dump(), raw.current.model_dump()) == [], (w, platform)
        assert _diff(rolled.previous.model_dump(), raw.previous.model_dump()) == [], (w, platform)
        assert rolled.changes == raw.changes
    assert sources == {"rollups"}


def test_the_comparison_is_not_vacuous(reports: dict[str, Any]) -> None:
    report: BiReport
    totals: dict[str, Any] = {"refunds": 0, "chargebacks": 0, "estimated_fees": 0, "retained": 0}
    for _, _, report, _, _ in reports["cases"]:
        r = report.current.revenue
        assert r.gross > 0 and r.mrr > 0 and len(r.by_currency) >= 4
        assert report.current.users.active_users > 0 and report.current.engagement.average_session_seconds
        totals["refunds"] += r.refunds
        totals["chargebacks"] += r.chargebacks
        totals["estimated_fees"] += r.platform_fees_at_default_rate
        totals["retained"] += report.current.users.retention["day_1"].retained
    assert all(v > 0 for v in totals.values()), totals

"""The BI dashboard (24 h and 30 d, current + previous window) over millions of transactions.

Creates a dedicated PostgreSQL database, generates the platform data server-side with
``generate_series`` (``--rows`` transactions over 365 days, and in proportion: users
rows/10, sessions rows/2, content rows/50, views rows/2, likes rows/10, comments rows/40,
shares rows/100, subscriptions rows/20), builds the BI rollups, then times, in one run:

- **rollups**: ``BiService.compute`` from the hourly/daily rollups, raw rows only for the
  partial hours at the window edges (the production path);
- **raw SQL**: the same report, the same SQL shape, straight from the platform tables;
- **load everything**: the guide's approach — every transaction of the windows fetched
  into Python and summed there (only its revenue section: the guide's other sections are
  placeholders returning constants, so this understates a full guide-style dashboard).

Each report is the whole dashboard of all platforms: every KPI of the window and of the
previous window, comparisons, insights. Results of rollups and raw SQL are compared
(must be identical). The database is dropped at the end (``--keep`` keeps it).

    .venv/bin/python bench/bench_bi.py --rows 1000000          # ~5 min on 2 cores
    .venv/bin/python bench/bench_bi.py                          # 10 M: ~30-60 min on 2 busy cores

Loopback only (PostgreSQL on 127.0.0.1); every phase is bounded by ``--max-seconds``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import psycopg
import sqlalchemy as sa

from fanzwatch import schema
from fanzwatch.bi import BiService, RollupRefresher, Window
from fanzwatch.core import FrozenClock

ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
T0 = datetime(2025, 1, 1, tzinfo=UTC)
DAYS = 365
NOW = T0 + timedelta(days=DAYS) - timedelta(minutes=30)  # the dashboard's "now": a partial hour at the edge
PLATFORMS = tuple(f"fanz-{n}" for n in range(1, 14))


def _generate(conn: psycopg.Connection[Any], rows: int) -> dict[str, int]:
    """Fill the platform tables server-side; returns row counts."""
    users, subs, content = rows // 10, rows // 20, max(rows // 50, 10)
    counts = {
        "transactions": rows, "users": users, "sessions": rows // 2, "subscriptions": subs, "content": content,
        "content_views": rows // 2, "likes": rows // 10, "comments": rows // 40, "shares": rows // 100,
    }  # fmt: skip
    t0 = f"timestamptz '{T0.isoformat()}'"
    span = f"interval '{DAYS} days'"
    # heavy users: ids skewed towards 1; fans are ids not divisible by 20, creators the others
    fan = f"(1 + 20 * floor(power(random(), 2) * ({users} / 20 - 1))::bigint + 1 + (g % 18))"
    creator = f"(20 * (1 + floor(random() * ({users} / 20 - 1))::bigint))"
    plat = "'fanz-' || ({id} % 13 + 1)"
    when = f"{t0} + (g::float8 / {{n}}) * {span} + (random() * interval '1 hour')"
    steps = [
        ("users", f"""INSERT INTO users (id, platform, role, creator_tier, country, created_at, updated_at)
            SELECT g, {plat.format(id="g")}, CASE WHEN g % 20 = 0 THEN 'creator' ELSE 'fan' END,
                   CASE WHEN g % 20 = 0 THEN (ARRAY['new','standard','verified','top'])[1 + g % 4] END,
                   (ARRAY['US','DE','GB','BR','JP'])[1 + g % 5],
                   {t0} - interval '60 days' + (g::float8 / {users}) * ({span} + interval '60 days'),
                   {t0} FROM generate_series(1, {users}) g"""),
        ("content", f"""INSERT INTO content (id, platform, creator_id, type, created_at, updated_at)
            SELECT g, {plat.format(id="c")}, c, (ARRAY['image','video','audio','text'])[1 + g % 4],
                   {when.format(n=content)}, {t0}
            FROM (SELECT g, {creator} AS c FROM generate_series(1, {content}) g) s"""),
        ("subscriptions", f"""INSERT INTO subscriptions (id, platform, fan_id, creator_id, price, currency,
                billing_period_months, status, started_at, cancelled_at, ended_at, current_period_end, updated_at)
            SELECT g, {plat.format(id="f")}, f, {creator}, (ARRAY[4.99, 9.99, 14.99, 29.99])[1 + g % 4],
                   (ARRAY['USD','USD','EUR','GBP','JPY'])[1 + g % 5], (ARRAY[1,1,1,1,1,1,1,1,3,12])[1 + g % 10],
                   CASE WHEN stop IS NULL THEN 'active' WHEN r < 0.85 THEN 'cancelled' ELSE 'expired' END, s,
                   CASE WHEN r < 0.85 THEN stop END, CASE WHEN r >= 0.85 THEN stop END, s + interval '30 days', {t0}
            FROM (SELECT g, f, r, s, CASE WHEN r >= 0.6 AND s + d < {t0} + {span} THEN s + d END AS stop
                  FROM (SELECT g, {fan} AS f, random() AS r, random() * interval '200 days' AS d,
                               {t0} - interval '60 days' + (g::float8 / {subs}) * ({span} + interval '60 days') AS s
                        FROM generate_series(1, {subs}) g) y) x"""),
        ("transactions", f"""INSERT INTO transactions (id, platform, type, amount, currency, status, fee_amount,
                creator_id, fan_id, created_at, refunded_at, updated_at)
            SELECT g, {plat.format(id="f")}, (ARRAY['subscription','subscription','tip','tip','ppv'])[1 + g % 5],
                   a, (ARRAY['USD','USD','USD','EUR','EUR','GBP','JPY','USD','USD','EUR'])[1 + g % 10],
                   st, CASE WHEN g % 5 = 0 THEN NULL ELSE round(a * 0.2, 2) END, {creator}, f, t,
                   CASE WHEN st IN ('refunded', 'chargeback') THEN t + random() * interval '72 hours' END, t
            FROM (SELECT g, {fan} AS f, {when.format(n=rows)} AS t, round((1 + random() * 199)::numeric, 2) AS a,
                         CASE WHEN r < 0.85 THEN 'completed' WHEN r < 0.91 THEN 'declined' WHEN r < 0.95 THEN 'failed'
                              WHEN r < 0.99 THEN 'refunded' ELSE 'chargeback' END AS st
                  FROM (SELECT g, random() AS r FROM generate_series(1, {rows}) g) q) x"""),
        ("sessions", f"""INSERT INTO sessions (platform, user_id, started_at, ended_at, updated_at)
            SELECT {plat.format(id="u")}, u, t,
                   CASE WHEN g % 10 = 0 THEN NULL ELSE t + random() * interval '40 minutes' END, t
            FROM (SELECT g, 1 + floor(power(random(), 2) * {users})::bigint AS u, {when.format(n=rows // 2)} AS t
                  FROM generate_series(1, {rows // 2}) g) x"""),
    ]  # fmt: skip
    for table, n in (
        ("content_views", rows // 2),
        ("likes", rows // 10),
        ("comments", rows // 40),
        ("shares", rows // 100),
    ):
        steps.append((table, f"""INSERT INTO {table} (platform, content_id, user_id, created_at, updated_at)
            SELECT {plat.format(id="c")}, c, 1 + floor(power(random(), 2) * {users})::bigint, t, t
            FROM (SELECT g, 1 + floor(random() * {content})::bigint AS c, {when.format(n=n)} AS t
                  FROM generate_series(1, {n}) g) x"""))  # fmt: skip
    for table, sql in steps:
        started = time.perf_counter()
        conn.execute(sql)
        print(f"  {table:<14} {counts[table]:>11,} rows in {time.perf_counter() - started:6.1f} s", flush=True)
    for table in ("users", "content", "subscriptions", "transactions"):
        conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
    conn.execute(
        "INSERT INTO exchange_rates (currency, valid_from, rate_to_usd) VALUES "
        f"('EUR', {t0}, 1.08), ('GBP', {t0}, 1.27), ('JPY', {t0}, 0.0067)"
    )
    return counts


def build(url: str, rows: int) -> None:
    engine = sa.create_engine(url)
    schema.create_all(engine)
    indexes = [ix for t in schema.TABLES for ix in t.indexes]
    with engine.begin() as conn:  # bulk load first, index after: much faster
        for ix in indexes:
            ix.drop(conn)
    engine.dispose()
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SET session_replication_role = replica")  # no FK checks while bulk loading
        conn.execute("SET synchronous_commit = off")
        _generate(conn, rows)
        conn.execute("SET maintenance_work_mem = '512MB'")
        started = time.perf_counter()
        engine = sa.create_engine(url)
        with engine.begin() as sconn:
            for ix in indexes:
                ix.create(sconn)
        engine.dispose()
        print(f"  indexes        {len(indexes):>11} built in {time.perf_counter() - started:6.1f} s", flush=True)
        conn.execute("VACUUM ANALYZE")


def _timed(fn: Callable[[], Any], *, iterations: int, budget: float) -> tuple[list[float], Any]:
    times: list[float] = []
    result: Any = None
    deadline = time.perf_counter() + budget
    for _ in range(iterations):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
        if time.perf_counter() > deadline:
            break
    return times, result


def load_everything(engine: sa.Engine, window: Window) -> tuple[dict[str, Any], int]:
    """The guide's calculateRevenueMetrics: fetch every transaction since the start, sum in Python."""
    t = schema.transactions
    loaded = 0
    out: dict[str, Any] = {}
    with engine.connect() as conn:
        for name, w in (("current", window), ("previous", window.previous())):
            txs = conn.execute(
                sa.select(t.c.type, t.c.amount, t.c.status).where(t.c.created_at >= w.start, t.c.created_at < w.end)
            ).all()
            loaded += len(txs)
            completed = [x for x in txs if x.status == "completed"]
            total = sum((x.amount for x in completed), Decimal(0))
            by_type: dict[str, Decimal] = {}
            for x in completed:
                by_type[x.type] = by_type.get(x.type, Decimal(0)) + x.amount
            out[name] = {"total": total, "by_type": by_type, "avg": total / len(completed) if completed else 0}
    return out, loaded


def _row(label: str, window: str, times: list[float], note: str = "") -> str:
    ms = sorted(x * 1000 for x in times)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
    return f"| {label} | {window} | {len(ms)} | {statistics.median(ms):,.0f} | {p95:,.0f} | {ms[0]:,.0f} | {note} |"


def measure(
    service: BiService, engine: sa.Engine, end: datetime, label: str, length: timedelta, args: argparse.Namespace
) -> tuple[list[str], Any]:
    """Rollups, raw SQL and load-everything for one window length; the table rows and the last report."""
    ends = iter(end - timedelta(minutes=i) for i in range(100_000))
    service.compute(Window.ending(end, length))  # warm-up: builds the statement once
    times, rolled = _timed(
        lambda: service.compute(Window.ending(next(ends), length)), iterations=args.iterations, budget=args.max_seconds
    )
    window = Window(rolled.window.start, rolled.window.end)
    raw_times, raw = _timed(
        lambda: service.compute(window, raw=True), iterations=args.raw_iterations, budget=args.max_seconds
    )
    same = raw.current == rolled.current and raw.previous == rolled.previous and raw.changes == rolled.changes
    le_times, (_, loaded) = _timed(lambda: load_everything(engine, window), iterations=2, budget=args.max_seconds)
    rows = [
        _row("rollups", label, times),
        _row("raw SQL", label, raw_times, "identical to rollups" if same else "**DIFFERENT from rollups**"),
        _row("load everything", label, le_times, f"{loaded:,} rows into Python; revenue only"),
    ]
    return rows, rolled


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000_000, help="transactions to generate (default 10 M)")
    parser.add_argument("--iterations", type=int, default=20, help="timed dashboards per window with rollups")
    parser.add_argument("--raw-iterations", type=int, default=3, help="timed dashboards per window with raw SQL")
    parser.add_argument("--max-seconds", type=float, default=600.0, help="time budget per measured phase")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--database", help="reuse a database a --keep run left (skips generating the data)")
    args = parser.parse_args()
    name = args.database or f"fw_bench_bi_{uuid.uuid4().hex[:8]}"
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    if args.database is None:
        with psycopg.connect(ADMIN, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    try:
        if args.database is None:
            print(f"database {name}: generating {args.rows:,} transactions and proportional data", flush=True)
            started = time.perf_counter()
            build(url, args.rows)
            print(f"data ready in {time.perf_counter() - started:,.0f} s", flush=True)
        engine = sa.create_engine(url, pool_size=2)
        clock = FrozenClock(NOW)
        refresher = RollupRefresher(engine, clock=clock)
        full = refresher.refresh(rebuild=True)
        print(f"rollups built in {full.seconds:,.1f} s (to {full.covered_until.isoformat()})", flush=True)
        with engine.begin() as conn:  # one more hour of traffic, then the incremental refresh
            conn.execute(sa.text(
                "INSERT INTO transactions (platform, type, amount, currency, status, creator_id, fan_id, created_at,"
                " updated_at) SELECT platform, type, amount, currency, status, creator_id, fan_id,"
                " created_at + interval '1 hour', now() FROM transactions WHERE created_at >= :a AND created_at < :b"
            ), {"a": NOW - timedelta(hours=1), "b": NOW})  # fmt: skip
        clock.advance(timedelta(hours=1))
        incremental = refresher.refresh()
        print(f"incremental refresh (1 h of new traffic): {incremental.seconds:.2f} s", flush=True)
        service = BiService(engine, platforms=PLATFORMS, clock=clock)
        lines = ["| method | window | runs | p50 ms | p95 ms | min ms | note |", "|---|---|---|---|---|---|---|"]
        for label, length in (("24 h", timedelta(hours=24)), ("30 d", timedelta(days=30))):
            rows, rolled = measure(service, engine, clock.now(), label, length, args)
            lines += rows
            print(*rows, sep="\n", flush=True)
        r = rolled.current
        print(f"\n30 d dashboard: revenue {r.revenue.total} {r.revenue.currency}, {r.revenue.completed_transactions:,}"
              f" payments, {r.users.active_users:,} active users, MAU {r.users.mau:,}\n")  # fmt: skip
        print(
            f"{args.rows:,} transactions; rollup build {full.seconds:,.1f} s, incremental {incremental.seconds:.2f} s"
        )
        print("\n".join(lines))
        engine.dispose()
    finally:
        if not args.keep and args.database is None:
            with psycopg.connect(ADMIN, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            print(f"dropped {name}", file=sys.stderr)


if __name__ == "__main__":
    main()

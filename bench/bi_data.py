"""The BI benchmark's platform database: generated once with ``fanzwatch.demo.generate``, then reused.

To regenerate: ``psql -h 127.0.0.1 -U postgres -c "DROP DATABASE fanzwatch_bench_10m"`` then the line below.

Payment-heavy mix (about 2.6 platform rows per transaction, like the earlier benchmark's
``generate_series`` data): 13 platforms over 365 days. ``--scale`` is per platform of size
1; the platforms' sizes come from the simulator's ``platform_profile`` (they sum to 4.84
for fanz-1..13), so ``--scale 12`` gives ~10 M transactions. (docs/benchmarks.md's database
was generated with ``--scale 4.5`` before the profiles existed, every platform of size 1:
10,004,481 transactions, 26.4 M rows.) Indexes are dropped for the load and built afterwards (much faster), then
``VACUUM ANALYZE``. A copy for the baseline code is made with ``CREATE DATABASE ... TEMPLATE``.

    .venv/bin/python bench/bi_data.py --database fw_17_bench --scale 12      # ~10 M transactions
    .venv/bin/python bench/bi_data.py --sqlite /tmp/bi_1m.db --scale 1.2     # ~1 M transactions, SQLite
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import sqlalchemy as sa

from fanzwatch import schema
from fanzwatch.demo.generate import VOLUMES, GenerationProgress, generate_platform_data

ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
END = datetime(2026, 1, 1, tzinfo=UTC)
DAYS = 365
PLATFORMS = tuple(f"fanz-{n}" for n in range(1, 14))
#: Per platform per day at scale 1: ~480 payments, ~1,100 platform rows in all.
BENCH_VOLUMES = replace(
    VOLUMES,
    fan_signups=50.0,
    creator_signups=2.5,
    uploads=10.0,
    sessions=250.0,
    views=250.0,
    likes=50.0,
    comments=12.0,
    shares=5.0,
)


def url_of(database: str) -> str:
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{database}"


def exists(database: str) -> bool:
    if database.startswith("sqlite:///"):
        return Path(database.removeprefix("sqlite:///")).exists()
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone() is not None


def build(database: str, *, scale: float, seed: int = 17, platforms: tuple[str, ...] = PLATFORMS) -> None:
    """Create ``database`` (a PostgreSQL name, or ``sqlite:///PATH``) and fill it (refuses an existing one)."""
    sqlite = database.startswith("sqlite:///")
    if not sqlite:
        with psycopg.connect(ADMIN, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{database}"')
    url = database if sqlite else url_of(database)
    engine = sa.create_engine(url)
    schema.create_all(engine)
    indexes = [ix for t in schema.TABLES for ix in t.indexes]
    with engine.begin() as conn:
        for ix in indexes:
            ix.drop(conn)
    last = [0.0]

    def report(p: GenerationProgress) -> None:
        if p.seconds - last[0] >= 15:
            last[0] = p.seconds
            print(
                f"  {p.platforms_done}/{p.platforms_total} platforms, {p.rows:,} rows, {p.seconds:,.0f} s", flush=True
            )

    summary = generate_platform_data(
        url,
        start=END - timedelta(days=DAYS),
        end=END,
        platforms=platforms,
        seed=seed,
        scale=scale,
        volumes=BENCH_VOLUMES,
        progress=report,
    )
    print(f"generated {summary.total_rows:,} rows in {summary.seconds:,.0f} s ({summary.rows_per_second:,.0f} rows/s)")
    for table, n in summary.rows.items():
        print(f"  {table:<16}{n:>12,}")
    started = time.perf_counter()
    with engine.begin() as conn:
        if not sqlite:
            conn.exec_driver_sql("SET maintenance_work_mem = '512MB'")
        for ix in indexes:
            ix.create(conn)
    print(f"  {len(indexes)} indexes built in {time.perf_counter() - started:,.0f} s", flush=True)
    if sqlite:
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
        engine.dispose()
        return
    engine.dispose()
    with psycopg.connect(url_of(database).replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


def copy(source: str, target: str) -> None:
    """``target`` as a file-level copy of ``source`` (no connections to ``source`` allowed meanwhile)."""
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{target}" TEMPLATE "{source}"')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", default="fw_17_bench")
    parser.add_argument("--scale", type=float, default=12.0)
    parser.add_argument("--platforms", type=int, default=13)
    parser.add_argument("--sqlite", metavar="PATH", help="a SQLite file instead of --database")
    args = parser.parse_args()
    database = f"sqlite:///{args.sqlite}" if args.sqlite else args.database
    if exists(database):
        raise SystemExit(f"{database} exists already: reuse it, or drop it first")
    build(database, scale=args.scale, platforms=PLATFORMS[: args.platforms])


if __name__ == "__main__":
    main()

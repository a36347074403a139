"""One generation run: open the database, check it, write every platform in one transaction."""

from __future__ import annotations

import re
import time
import zlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

from ... import schema
from ..platform import tables as platform_tables
from . import _activity, _payments, _population
from . import _model as m
from ._columns import Batch
from ._model import VOLUMES, Volumes
from ._rates import rate_history
from ._writers import BatchWriter, PostgresWriter, SqliteWriter

PLATFORM_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}$")
CHUNK_DAYS = 14  # activity is generated and written two weeks at a time: bounded memory
MAX_SCALE = 1000.0


class GenerationError(ValueError):
    """The generator cannot run: bad arguments, an unreachable database, or data already there."""


@dataclass(frozen=True, slots=True)
class GenerationProgress:
    """Reported after each table chunk is written."""

    platform: str
    table: str
    rows: int  # rows written so far, all tables
    platforms_done: int
    platforms_total: int
    seconds: float


@dataclass(frozen=True, slots=True)
class GenerationSummary:
    """What was written: rows per table and how fast.

    >>> summary.rows["transactions"], round(summary.rows_per_second)  # doctest: +SKIP
    (40213, 251034)
    """

    database: str  # the URL without its password
    backend: str
    start: datetime
    end: datetime
    platforms: tuple[str, ...]
    seed: int
    scale: float
    seconds: float
    rows: dict[str, int] = field(default_factory=dict)

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())

    @property
    def rows_per_second(self) -> float:
        return self.total_rows / self.seconds if self.seconds > 0 else 0.0


def _engine(database_url: str) -> tuple[sa.Engine, str]:
    try:
        url = make_url(database_url)
    except ArgumentError:
        raise GenerationError(f"not a database URL: {database_url!r} (sqlite:///PATH or postgresql://...)") from None
    backend = url.get_backend_name()
    if backend == "sqlite":
        path = url.database
        if not path or path == ":memory:":
            raise GenerationError("give SQLite a file: sqlite:///PATH")
        engine = sa.create_engine(url.set(drivername="sqlite"))
        sa.event.listen(engine, "connect", _sqlite_pragmas)
    elif backend == "postgresql":
        engine = sa.create_engine(url.set(drivername="postgresql+psycopg"), pool_pre_ping=True)
    else:
        raise GenerationError(f"unsupported database backend {backend!r}: use sqlite or postgresql")
    return engine, backend


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")  # as the platform opens it
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA cache_size=-65536")
    cur.close()


def _create_tables(conn: sa.Connection) -> None:
    """The platform's tables and demo rates, as ``create_platform_tables`` makes them (sync here)."""
    schema.metadata.create_all(conn)
    platform_tables.private.create_all(conn)
    _insert_rates(
        conn,
        [
            {"currency": c, "valid_from": platform_tables.RATES_VALID_FROM, "rate_to_usd": r}
            for c, r in platform_tables.DEMO_RATES.items()
        ],
    )


def _insert_rates(conn: sa.Connection, rows: list[dict[str, object]]) -> None:
    if not rows:
        return
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    conn.execute(dialect.insert(schema.exchange_rates).on_conflict_do_nothing(), rows)


def _refuse_overlap(conn: sa.Connection, platforms: Sequence[str], start: datetime, end: datetime) -> None:
    for table, column in ((schema.transactions, "created_at"), (schema.sessions, "started_at")):
        found = conn.execute(
            sa.select(table.c.platform, sa.func.min(table.c[column]))
            .where(table.c.platform.in_(platforms), table.c[column] >= start, table.c[column] < end)
            .group_by(table.c.platform)
            .limit(1)
        ).first()
        if found is not None:
            raise GenerationError(
                f"{found[0]} already has {table.name} from {found[1].isoformat()} within the range: "
                "generate into an empty range or a new database"
            )


def _next_ids(conn: sa.Connection) -> dict[str, int]:
    out = {}
    for table in (schema.users, schema.content, schema.subscriptions):
        out[table.name] = int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(table.c.id), 0))).scalar_one()) + 1
    return out


def _sync_sequences(conn: sa.Connection) -> None:
    if conn.dialect.name != "postgresql":
        return
    for name in ("users", "content", "subscriptions", "transactions"):
        conn.execute(
            sa.text(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), (SELECT coalesce(max(id), 1) FROM {name}))")
        )


@contextmanager
def _opened(database_url: str) -> Iterator[tuple[sa.Connection, BatchWriter, str]]:
    engine, backend = _engine(database_url)
    try:
        try:
            conn = engine.connect()
        except DBAPIError as exc:
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else type(exc).__name__
            raise GenerationError(f"cannot open the platform database: {reason}") from None
        with conn, conn.begin():
            if backend == "postgresql":
                conn.execute(sa.text("SET LOCAL synchronous_commit = off"))
                if conn.execute(sa.text("SELECT current_setting('is_superuser')")).scalar_one() == "on":
                    # Foreign keys are checked by a trigger per row: 3x slower loads. Every id the
                    # generator writes is one it made or read in this transaction (rows are never
                    # deleted), and the tests check there are no orphans.
                    conn.execute(sa.text("SET LOCAL session_replication_role = replica"))
            raw = conn.connection.driver_connection
            writer: BatchWriter = PostgresWriter(raw) if backend == "postgresql" else SqliteWriter(raw)
            yield conn, writer, backend
    finally:
        engine.dispose()


def _platform_batches(
    platform: str, *, seed: int, start_us: int, end_us: int, scale: float, volumes: m.Volumes, ids: dict[str, int]
) -> Iterator[Batch]:
    """Every row of one platform, table chunk by table chunk (``ids`` advances as rows are made)."""
    rng = np.random.default_rng([seed, zlib.crc32(platform.encode())])
    profile = m.platform_profile(platform)
    size = profile.size * scale
    intensity = m.hourly_intensity(start_us, end_us, profile, start_us)
    kw: dict[str, Any] = {
        "start_us": start_us, "end_us": end_us, "intensity": intensity, "size": size, "volumes": volumes
    }  # fmt: skip
    users, people = _population.users(rng, platform, first_id=ids["users"], **kw)
    ids["users"] += len(users)
    yield users
    content, catalogue = _population.content(rng, platform, people, first_id=ids["content"], **kw)
    ids["content"] += len(content)
    yield content
    subs, renewals = _payments.subscriptions(rng, platform, people, first_id=ids["subscriptions"], **kw)
    ids["subscriptions"] += len(subs)
    yield subs
    yield renewals
    v = volumes
    step = CHUNK_DAYS * m.US_PER_DAY
    for lo in range(start_us, end_us, step):
        hi = min(lo + step, end_us)
        part = m.hourly_intensity(lo, hi, profile, start_us)
        span: dict[str, Any] = {"start_us": lo, "end_us": hi, "intensity": part}
        sized: dict[str, Any] = {"horizon_us": end_us, "size": size, "volumes": volumes}
        yield _payments.one_off(rng, platform, people, catalogue, **sized, **span)
        yield _activity.sessions(rng, platform, people, **sized, **span)
        for table, per_day, anonymous in (
            ("content_views", v.views, m.VIEW_ANONYMOUS_SHARE),
            ("likes", v.likes, 0.0),
            ("comments", v.comments, 0.0),
            ("shares", v.shares, 0.0),
        ):
            yield _activity.engagement(
                rng, table, per_day * size, platform, people, catalogue, anonymous_share=anonymous, **span
            )


def _check_arguments(start: datetime, end: datetime, platforms: Sequence[str], scale: float) -> tuple[str, ...]:
    if start.tzinfo is None or end.tzinfo is None:
        raise GenerationError("start and end must be timezone-aware (UTC)")
    if not start < end:
        raise GenerationError(f"start {start.isoformat()} is not before end {end.isoformat()}")
    if end - start > timedelta(days=3660):
        raise GenerationError("at most ten years at a time")
    if not 0 < scale <= MAX_SCALE:
        raise GenerationError(f"scale must be in (0, {MAX_SCALE:g}], got {scale}")
    names = tuple(dict.fromkeys(platforms))
    if not names:
        raise GenerationError("no platforms given")
    bad = [p for p in names if not PLATFORM_SLUG.match(p)]
    if bad:
        raise GenerationError(f"not platform slugs (a-z, 0-9, '-', at most 32): {', '.join(map(repr, bad))}")
    return names


def generate_platform_data(
    database_url: str,
    *,
    start: datetime,
    end: datetime,
    platforms: Sequence[str],
    seed: int,
    scale: float = 1.0,
    progress: Callable[[GenerationProgress], None] | None = None,
    volumes: Volumes = VOLUMES,
) -> GenerationSummary:
    """Write seeded, realistic platform data for ``[start, end)`` into the demo platform's tables.

    Creates the tables when missing, appends to what is there (new ids after the largest), and
    writes everything in one transaction: a failed run leaves nothing behind. Refuses a range
    where one of ``platforms`` already has payments or sessions (``GenerationError``). The
    same arguments give the same rows on SQLite and PostgreSQL. ``volumes``: rows per platform
    per day at ``scale=1`` (the benchmark uses a payment-heavy mix).
    """
    names = _check_arguments(start, end, platforms, scale)
    started = time.perf_counter()
    rows: dict[str, int] = {}
    start_us, end_us = m.to_us(start), m.to_us(end)
    with _opened(database_url) as (conn, writer, backend):
        _create_tables(conn)
        _refuse_overlap(conn, names, start, end)
        ids = _next_ids(conn)
        history = rate_history(seed, start, end)
        _insert_rates(conn, history)
        rows["exchange_rates"] = len(history)
        for done, platform in enumerate(names):
            batches = _platform_batches(
                platform, seed=seed, start_us=start_us, end_us=end_us, scale=scale, volumes=volumes, ids=ids
            )
            for batch in batches:
                rows[batch.table] = rows.get(batch.table, 0) + (writer.write(batch) if len(batch) else 0)
                if progress is not None:
                    progress(
                        GenerationProgress(
                            platform, batch.table, sum(rows.values()), done, len(names), time.perf_counter() - started
                        )
                    )
        _sync_sequences(conn)
    url = make_url(database_url)
    return GenerationSummary(
        database=url.render_as_string(hide_password=True),
        backend=backend,
        start=start,
        end=end,
        platforms=names,
        seed=seed,
        scale=scale,
        seconds=time.perf_counter() - started,
        rows=rows,
    )

"""DB pool gauges read from the real SQLAlchemy pool, not +1/-1 bookkeeping.

Single process: a custom collector reads ``pool.checkedout()`` / ``checkedin()`` /
size + overflow when Prometheus scrapes. Several worker processes (prometheus_client
multiprocess mode): each worker's pool is its own, and a scrape lands on one worker,
so each worker instead writes the values it reads from its pool into ``livesum``
gauges on every checkout/checkin; the exposition adds up the live workers.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from prometheus_client import Gauge
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine, event
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import Pool, QueuePool

from ...core import ConfigError
from ...core.catalog import runtime


@dataclass(frozen=True, slots=True)
class PoolState:
    """What a pool holds right now."""

    used: int
    idle: int
    max: int | None  # None: unbounded overflow


def read_pool(pool: Pool) -> PoolState:
    """The state of a QueuePool (also AsyncAdaptedQueuePool)."""
    if not isinstance(pool, QueuePool):
        raise ConfigError(
            f"cannot read connection counts from a {type(pool).__name__}; "
            "instrument_db_pool supports QueuePool (the default for PostgreSQL and SQLite files)",
            setting="pool_name",
        )
    max_overflow = int(getattr(pool, "_max_overflow", 0))
    return PoolState(
        used=pool.checkedout(),
        idle=pool.checkedin(),
        max=None if max_overflow < 0 else pool.size() + max_overflow,
    )


def sync_engine(engine: Engine | AsyncEngine) -> Engine:
    return engine.sync_engine if isinstance(engine, AsyncEngine) else engine


class DbPoolCollector(Collector):
    """``db_client_connection_count`` / ``_max`` for the registered engines, at collect time."""

    def __init__(self, platform: str) -> None:
        self._platform = platform
        self._engines: dict[str, Engine] = {}

    def add(self, engine: Engine, pool_name: str) -> None:
        read_pool(engine.pool)  # fail now, not at the first scrape
        self._engines[pool_name] = engine

    def collect(self) -> Iterator[Metric]:
        count_spec, max_spec = runtime.DB_CONNECTION_COUNT, runtime.DB_CONNECTION_MAX
        count = GaugeMetricFamily(count_spec.name, count_spec.help, labels=count_spec.label_names)
        limit = GaugeMetricFamily(max_spec.name, max_spec.help, labels=max_spec.label_names)
        for name, engine in sorted(self._engines.items()):
            state = read_pool(engine.pool)  # engine.pool: dispose() replaces the pool
            count.add_metric([self._platform, name, "used"], state.used)
            count.add_metric([self._platform, name, "idle"], state.idle)
            if state.max is not None:
                limit.add_metric([self._platform, name], state.max)
        yield count
        yield limit

    def describe(self) -> Iterable[Metric]:
        return list(self.collect()) if self._engines else []


class DbPoolEventGauges:
    """Multiprocess mode: ``livesum`` gauges set from the pool on every pool event."""

    def __init__(self, count: Gauge, limit: Gauge, platform: str) -> None:
        self._count = count
        self._limit = limit
        self._platform = platform

    def add(self, engine: Engine, pool_name: str) -> None:
        read_pool(engine.pool)

        def write(used: int, idle: int, limit: int | None) -> None:
            self._count.labels(self._platform, pool_name, "used").set(used)
            self._count.labels(self._platform, pool_name, "idle").set(idle)
            if limit is not None:
                self._limit.labels(self._platform, pool_name).set(limit)

        def update(*_args: object) -> None:
            state = read_pool(engine.pool)
            write(state.used, state.idle, state.max)

        def checked_in(*_args: object) -> None:
            # SQLAlchemy fires "checkin" just BEFORE the connection goes back: the
            # pool then holds one less in use, and one more idle unless it is full
            # (a full QueuePool closes the overflow connection instead).
            pool = engine.pool
            state = read_pool(pool)
            size = pool.size() if isinstance(pool, QueuePool) else state.idle + 1
            write(max(state.used - 1, 0), min(state.idle + 1, size), state.max)

        for name in ("connect", "checkout", "close", "close_detached"):
            event.listen(engine, name, update)
        event.listen(engine, "checkin", checked_in)
        update()

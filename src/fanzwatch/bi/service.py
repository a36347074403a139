"""``BiService``: reports for a window and platform, cached with a TTL, from rollups or raw SQL.

>>> service = BiService(engine, platforms=("fanz-1",), clock=SystemClock())  # doctest: +SKIP
>>> report = service.report("24h", platform="fanz-1")                        # doctest: +SKIP
>>> report.changes["revenue.total"].growth                                   # doctest: +SKIP
'+12.5%'
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy import Connection, Engine

from ..core.clock import Clock
from ..core.errors import ConfigError
from ._platform_kpis import PlatformKpis, platform_kpis
from ._sql import hour_number
from ._statement import StatementCache
from .compare import compare, insights
from .currency import Converter, exchange_rates
from .kpis import KpiEngine
from .models import BiReport, WindowModel
from .refresh import RollupStatus, read_generation, read_status
from .window import Window, as_utc, parse_duration


class UnknownPlatformError(ConfigError):
    """A report was asked for a platform that is not configured."""

    def __init__(self, platform: str, known: tuple[str, ...]) -> None:
        super().__init__(f"unknown platform {platform!r}; known platforms: {', '.join(known)}", setting="platform")
        self.platform = platform


GENERATION_POLL = 1.0
"""Seconds between two reads of the rollups' generation by one service (cache hits and scrapes in between reuse it)."""


class RollupGenerationWatch:
    """Says whether the rollups' generation moved since the last look (a refresh by any process).

    The first look only remembers; ``None`` (the generation could not be read) changes nothing;
    0 (no refresh yet) is a value like any other, so the first refresh is a move.
    """

    def __init__(self) -> None:
        self._seen: int | None = None
        self._lock = threading.Lock()

    def moved(self, generation: int | None) -> bool:
        if generation is None:
            return False
        with self._lock:
            moved = self._seen is not None and generation != self._seen
            self._seen = generation
        return moved


@dataclass(frozen=True, slots=True)
class _Entry:
    report: BiReport
    expires: float


class BiService:
    """Business-intelligence reports over one platform database.

    ``engine`` only reads. Reports come from the rollups when ``use_rollups`` and the
    rollups exist (``RollupRefresher`` keeps them current), else from raw SQL; the
    figures are the same either way. Results are cached per (window, end, platform) for
    ``cache_ttl`` seconds of ``clock.monotonic()``, and forgotten as soon as the rollups'
    generation in the database moves (a refresh or rebuild by any process, e.g. the CLI).
    ``edge_hours=False`` counts the partial days of distinct users the earlier way, over
    ``bi_user_days`` (the same figures; ``bench/bench_bi.py --previous-path`` compares the two).
    """

    def __init__(
        self,
        engine: Engine,
        *,
        platforms: tuple[str, ...],
        clock: Clock,
        reporting_currency: str = "USD",
        default_fee_rate: Decimal = Decimal("0.20"),
        cache_ttl: float = 300.0,
        cache_entries: int = 256,
        use_rollups: bool = True,
        generation_poll: float = GENERATION_POLL,
        edge_hours: bool = True,
    ) -> None:
        self._engine = engine
        self._edge_hours = edge_hours
        self._generation_poll = generation_poll
        self._generation_read: tuple[float, int | None] | None = None  # (monotonic, value) of the last read
        self._platforms = platforms
        self._clock = clock
        self._currency = reporting_currency
        self._fee_rate = default_fee_rate
        self._ttl = cache_ttl
        self._max = cache_entries
        self._use_rollups = use_rollups
        self._statements = StatementCache()
        self._cache: OrderedDict[tuple[int, datetime | None, str | None, bool], _Entry] = OrderedDict()
        self._lock = threading.Lock()
        self._generation = 0  # bumped by invalidate(): a report computed across it is not cached
        self._rollups = RollupGenerationWatch()  # the database's rollup generation the cache was filled at

    @property
    def platforms(self) -> tuple[str, ...]:
        return self._platforms

    @property
    def clock(self) -> Clock:
        return self._clock

    def _covered(self, conn: Connection, *, raw: bool = False) -> tuple[RollupStatus | None, int | None]:
        status = None if raw or not self._use_rollups else read_status(conn)
        return status, None if status is None else hour_number(status.covered_until)

    def platform_kpis(self, length: timedelta) -> dict[str, PlatformKpis]:
        """The exported KPIs of every platform over the window of ``length`` ending now."""
        window = Window.ending(self._clock.now(), length)
        with self._engine.connect() as conn:
            _, covered = self._covered(conn)
            kpis = platform_kpis(conn, window, self._platforms, covered, self._statements)
            conn.commit()  # read-only; ending it without a ROLLBACK keeps psycopg's prepared statements
            return kpis

    def rollup_status(self) -> RollupStatus | None:
        """How far the rollups reach (None: never built, or BI answers from raw SQL)."""
        with self._engine.connect() as conn:
            return self._covered(conn)[0]

    def check_platform(self, platform: str | None) -> str | None:
        if platform is not None and platform not in self._platforms:
            raise UnknownPlatformError(platform, self._platforms)
        return platform

    def report(
        self,
        window: str | timedelta = "24h",
        *,
        platform: str | None = None,
        end: datetime | None = None,
        raw: bool = False,
    ) -> BiReport:
        """The report for the window of ``window`` length ending at ``end`` (default now).

        ``raw`` skips the rollups (for checking them). Raises ``WindowError`` or
        ``UnknownPlatformError`` (both ``ConfigError``/``ValueError``) for bad input.
        """
        length = parse_duration(window) if isinstance(window, str) else window
        platform = self.check_platform(platform)
        end_utc = None if end is None else as_utc(end, name="end")
        key = (int(length.total_seconds()), end_utc, platform, raw)
        self._follow_rollups()
        now = self._clock.monotonic()
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None and hit.expires > now:
                self._cache.move_to_end(key)
                return hit.report
            generation = self._generation
        report = self.compute(Window.ending(end_utc or self._clock.now(), length), platform=platform, raw=raw)
        with self._lock:
            if generation != self._generation:
                return report  # a refresh ended while computing: these figures may predate it
            self._cache[key] = _Entry(report, now + self._ttl)
            self._cache.move_to_end(key)
            while len(self._cache) > self._max:
                self._cache.popitem(last=False)
        return report

    def rollup_generation(self) -> int | None:
        """The rollups' generation in the database: 0 while they were never refreshed (no ``bi_*``
        tables yet, or no refresh so far), None when this service does not use rollups or the
        generation cannot be read (the database is unreachable).

        Read at most once per ``generation_poll`` seconds (of ``clock.monotonic()``, default 1 s): a burst
        of cached reports or scrapes costs one query, and an unreachable database one connect attempt per
        poll. A refresh by another process is therefore noticed within that second.
        """
        if not self._use_rollups:
            return None
        now = self._clock.monotonic()
        with self._lock:
            if self._generation_read is not None and now - self._generation_read[0] < self._generation_poll:
                return self._generation_read[1]
        try:
            with self._engine.connect() as conn:
                value = read_generation(conn)
        except sa.exc.SQLAlchemyError:
            value = None  # the report itself will say what is wrong; a cached one may still be served
        with self._lock:
            self._generation_read = (now, value)
        return value

    def _follow_rollups(self) -> None:
        """Forget cached reports when another process (or this one) refreshed the rollups since."""
        if self._rollups.moved(self.rollup_generation()):
            self.invalidate()

    def invalidate(self) -> None:
        """Forget cached reports (the runner calls it after every rollup refresh and rebuild)."""
        with self._lock:
            self._generation += 1
            self._cache.clear()
            self._generation_read = None  # this process refreshed: read the new generation at once

    def compute(self, window: Window, *, platform: str | None = None, raw: bool = False) -> BiReport:
        """Compute a report now, without the cache."""
        platform = self.check_platform(platform)
        previous = window.previous()
        with self._engine.connect() as conn:
            status, covered = self._covered(conn, raw=raw)
            engine = KpiEngine(
                conn,
                covered_until_hour=covered,
                default_fee_rate=self._fee_rate,
                statements=self._statements,
                edge_hours=self._edge_hours,
            )
            rates = exchange_rates(conn, window.end)
            convert = Converter(rates, self._currency)
            current, before = engine.metrics([window, previous], platform, convert)
            conn.commit()  # read-only; ending it without a ROLLBACK keeps psycopg's prepared statements
        changes = compare(current, before)
        seconds = int(window.length.total_seconds())
        return BiReport(
            window=WindowModel(start=window.start, end=window.end, seconds=seconds),
            previous_window=WindowModel(start=previous.start, end=previous.end, seconds=seconds),
            platform=platform,
            generated_at=self._clock.now(),
            source="raw" if covered is None else "rollups",
            rollups_cover_until=None if status is None else status.covered_until,
            current=current,
            previous=before,
            changes=changes,
            insights=insights(current, changes, window_seconds=seconds),
        )

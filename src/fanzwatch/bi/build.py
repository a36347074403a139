"""``build_bi(settings)``: the BI parts wired from ``BiSettings`` (used by the server and the CLI)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Engine

from ..core.clock import Clock
from ..core.errors import ConfigError
from ..settings.bi import BiSettings
from ..store import create_sync_engine
from .metrics import BiMetricsCollector
from .refresh import RollupRefresher
from .runner import BiRunner
from .service import BiService
from .window import parse_duration


@dataclass(frozen=True, slots=True)
class BiComponents:
    """Everything BI needs at run time; ``dispose()`` closes the engines."""

    service: BiService
    collector: BiMetricsCollector
    refresher: RollupRefresher | None
    runner: BiRunner | None
    engines: tuple[Engine, ...]

    def dispose(self) -> None:
        if self.runner is not None:
            self.runner.stop()
        for engine in self.engines:
            engine.dispose()


def build_bi(settings: BiSettings, *, platforms: tuple[str, ...], clock: Clock) -> BiComponents:
    """Engines, service, metrics collector, and (when ``refresh_rollups``) the refresher and its runner.

    Nothing connects here; the runner starts only when ``runner.start()`` is called.
    """
    if settings.database_url is None:
        raise ConfigError("BI needs the platform database: set FANZWATCH_BI_DATABASE_URL", setting="bi.database_url")
    read_engine = create_sync_engine(settings.database_url.get_secret_value())
    engines = [read_engine]
    service = BiService(
        read_engine,
        platforms=platforms,
        clock=clock,
        reporting_currency=settings.reporting_currency,
        default_fee_rate=settings.default_fee_rate,
        cache_ttl=settings.cache_ttl_seconds,
        cache_entries=settings.cache_entries,
        use_rollups=settings.use_rollups,
    )
    collector = BiMetricsCollector(
        service, window=parse_duration(settings.metrics_window), ttl=settings.metrics_ttl_seconds
    )
    refresher = runner = None
    if settings.use_rollups:
        if settings.rollup_url is None:
            write_engine = read_engine
        else:
            write_engine = create_sync_engine(settings.rollup_url.get_secret_value())
            engines.append(write_engine)
        refresher = RollupRefresher(
            write_engine, clock=clock, change_margin=timedelta(seconds=settings.change_margin_seconds)
        )
        if settings.refresh_rollups:
            # Every refresh (and rebuild) makes cached reports and gauges stale: both recompute
            # on their next use instead of serving figures up to their TTL old.
            runner = BiRunner(
                refresher,
                interval=settings.rollup_interval_seconds,
                after_refresh=[service.invalidate, collector.invalidate],
            )
    return BiComponents(
        service=service, collector=collector, refresher=refresher, runner=runner, engines=tuple(engines)
    )

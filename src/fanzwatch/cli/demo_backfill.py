"""``fanzwatch demo backfill``: weeks of metrics and months of platform data before the demo starts.

``fanzwatch up --demo`` runs it once (see ``stack.plan.backfill_argv``); run by hand it
needs Prometheus stopped (the blocks go into its data dir before it opens it).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from ._common import platform_list

# The model's aggregates and the recorded series (catalog names) they stand for.
_RECORDED_OF = {
    "request_rate": "HTTP_REQUEST_RATE",
    "error_ratio_5xx": "HTTP_5XX_RATIO",
    "error_ratio_4xx": "HTTP_4XX_RATIO",
    "latency_p95": "HTTP_P95",
    "latency_p50": "HTTP_P50",
    "payment_failed_ratio": "PAYMENT_FAILURE_RATIO",
    "payment_completed_ratio": "PAYMENT_SUCCESS_RATIO",
    "payment_attempts": "PAYMENT_ATTEMPTS",
    "registrations_hourly": "REGISTRATIONS_HOURLY",
}


def demo_backfill(
    data_dir: Annotated[Path, typer.Option(help="The stack's data dir (prometheus/ and history.json in it).")],
    database_url: Annotated[str, typer.Option(help="The demo platform's database (sqlite:///PATH or postgresql://).")],
    platforms: Annotated[str, typer.Option(help="Platforms, comma-separated.")],
    instance: Annotated[str, typer.Option(help="host:port Prometheus scrapes the demo platform at.")],
    peak_rps: Annotated[float, typer.Option(help="The simulator's peak requests per second.")],
    rate_window: Annotated[float, typer.Option(help="Seconds of the rules' rate window.")] = 300.0,
    metrics_days: Annotated[int, typer.Option(min=1, max=90, help="Days of metrics history.")] = 28,
    platform_days: Annotated[int, typer.Option(min=1, max=730, help="Days of platform data.")] = 90,
    scale: Annotated[float, typer.Option(min=0.0, max=100.0, help="Volume of the platform data.")] = 0.25,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 1,
    end: Annotated[datetime | None, typer.Option(help="End of the history, ISO 8601 with offset [now].")] = None,
) -> None:
    """Backfill the demo's history (skips what a previous run already wrote)."""
    from ..core.catalog import recording
    from ..core.catalog.http import HTTP_DURATION_BUCKETS
    from ..demo.history import BackfillError, HistoryParams
    from ..demo.history.run import DemoHistoryPlan, backfill_demo

    if end is not None and end.tzinfo is None:
        typer.secho("--end needs an offset, e.g. 2026-03-01T00:00:00+00:00", err=True, fg="red")
        raise typer.Exit(2)
    tenants = platform_list(platforms)
    # Checked before anything is written: accepted, either would record an empty history as
    # done in history.json, and every later `up --demo` of this data dir would skip it.
    if not tenants:
        typer.secho("--platforms: give at least one platform, e.g. fanz-1,fanz-2", err=True, fg="red")
        raise typer.Exit(2)
    if not peak_rps > 0:
        typer.secho(f"--peak-rps must be above 0, got {peak_rps:g}", err=True, fg="red")
        raise typer.Exit(2)
    params = HistoryParams(
        platforms=tenants,
        peak_rps=peak_rps,
        buckets=HTTP_DURATION_BUCKETS,
        instance=instance,
        rate_window_seconds=rate_window,
        seed=seed,
    )
    recorded = {key: getattr(recording, const).name for key, const in _RECORDED_OF.items()}
    plan = DemoHistoryPlan(
        data_dir=data_dir,
        tsdb_dir=data_dir / "prometheus",
        database_url=database_url,
        params=params,
        recorded=recorded,
        metrics_days=metrics_days,
        platform_days=platform_days,
        platform_scale=scale,
        end=end,
        after_platform_data=build_bi_rollups,
    )
    try:
        backfill_demo(plan, progress=lambda msg: typer.echo(msg))
    except BackfillError as exc:
        typer.secho(str(exc), err=True, fg="red")
        raise typer.Exit(1) from None


def build_bi_rollups(database_url: str) -> str:
    """Build BI's rollups over the new history (in the backfill's worker), while nothing else writes the database.

    Left to the server's first refresh, the rebuild of months of rows holds SQLite's write
    lock for minutes, and the demo platform's own writes time out meanwhile.
    """
    import time

    from ..bi.refresh import RollupRefresher
    from ..core.clock import SystemClock
    from ..store import create_sync_engine

    began = time.perf_counter()
    engine = create_sync_engine(database_url)
    try:
        result = RollupRefresher(engine, clock=SystemClock()).refresh()
    finally:
        engine.dispose()
    return f"BI rollups: built up to {result.covered_until.isoformat()} in {time.perf_counter() - began:.1f} s"

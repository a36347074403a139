"""``fanzwatch demo generate``: fill a platform database with seeded history for BI."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Annotated

import typer

from ._common import platform_list


def demo_generate(
    database_url: Annotated[str, typer.Option(help="sqlite:///PATH (created if missing) or postgresql://...")],
    days: Annotated[int, typer.Option(min=1, max=3660, help="Days of history ending at --end.")] = 90,
    end: Annotated[
        datetime | None, typer.Option(help="End of the history, ISO 8601 with offset (default: now).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same rows.")] = 1,
    platforms: Annotated[str, typer.Option(help="Platforms, comma-separated.")] = "fanz-1,fanz-2,fanz-3",
    scale: Annotated[
        float, typer.Option(min=0.0, max=1000.0, help="Volume multiplier (1.0: ~1 M rows per platform per 90 days).")
    ] = 1.0,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress lines.")] = False,
) -> None:
    """Generate users, content, subscriptions, payments (refunds landing later), sessions and engagement."""
    from ..demo.generate import GenerationError, GenerationProgress, generate_platform_data

    if end is not None and end.tzinfo is None:
        typer.secho("--end needs an offset, e.g. 2026-03-01T00:00:00+00:00", err=True, fg="red")
        raise typer.Exit(2)
    stop = (end or datetime.now(UTC)).astimezone(UTC)
    tenants = platform_list(platforms)
    last = [0.0]

    def report(p: GenerationProgress) -> None:
        now = time.monotonic()
        if quiet or now - last[0] < 1.0:
            return
        last[0] = now
        typer.echo(
            f"  {p.platforms_done}/{p.platforms_total} platforms, {p.platform} {p.table}: "
            f"{p.rows:,} rows in {p.seconds:.1f} s",
            err=True,
        )

    try:
        summary = generate_platform_data(
            database_url, start=stop - timedelta(days=days), end=stop, platforms=tenants, seed=seed, scale=scale,
            progress=report,
        )  # fmt: skip
    except GenerationError as exc:
        typer.secho(str(exc), err=True, fg="red")
        raise typer.Exit(2) from None
    typer.echo(
        f"{summary.database}: {summary.total_rows:,} rows for {len(summary.platforms)} platforms "
        f"({summary.start.isoformat()} .. {summary.end.isoformat()}) in {summary.seconds:.1f} s "
        f"({summary.rows_per_second:,.0f} rows/s)"
    )
    for table, n in summary.rows.items():
        typer.echo(f"  {table:<16}{n:>12,}")

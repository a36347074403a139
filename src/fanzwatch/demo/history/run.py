"""The demo's whole backfill: metrics into Prometheus and platform data into the demo database.

Both parts end at the same moment (now, by default) and follow the same seasonal model,
so the live traffic continues them. They run side by side: the platform data in a worker
process, the metrics in this one (and two promtool processes). ``history.json`` in the
data dir records what was written; a part already recorded, a Prometheus data dir that
already holds data, or a database that already has the range, is skipped with a message,
so a second ``fanzwatch up --demo`` starts at once.

Who runs it: ``fanzwatch up --demo`` runs ``fanzwatch demo backfill`` once, before any
child starts, under the data dir's lock (one ``up`` per data dir), so two backfills of
one data dir never run at once.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ..generate import GenerationError, GenerationProgress, generate_platform_data
from .backfill import backfill_metrics
from .model import HistoryParams

MARKER = "history.json"


@dataclass(frozen=True, slots=True)
class DemoHistoryPlan:
    """What to backfill, and where."""

    data_dir: Path
    tsdb_dir: Path
    database_url: str
    params: HistoryParams
    recorded: Mapping[str, str]
    metrics_days: int = 28
    platform_days: int = 90
    platform_scale: float = 0.25
    end: datetime | None = None
    after_platform_data: Callable[[str], str] | None = None
    """Run in the worker once the platform data is written (given the database URL; returns
    a line to print): the CLI builds BI's rollups there, beside the metrics backfill."""


def read_marker(data_dir: Path) -> dict[str, Any]:
    """What earlier backfills of this data dir wrote (empty when none, or unreadable)."""
    try:
        found: dict[str, Any] = json.loads((data_dir / MARKER).read_text())
    except (OSError, ValueError):
        return {}
    return found


def _write_marker(data_dir: Path, marker: dict[str, Any]) -> None:
    tmp = data_dir / f".{MARKER}.tmp"
    tmp.write_text(json.dumps(marker, indent=2, sort_keys=True))
    os.replace(tmp, data_dir / MARKER)


def _tsdb_has_data(tsdb_dir: Path) -> bool:
    return tsdb_dir.is_dir() and any(p.name not in {"lock", "queries.active"} for p in tsdb_dir.iterdir())


def _print_progress(p: GenerationProgress) -> None:
    print(f"platform data: {p.platforms_done}/{p.platforms_total} platforms, {p.rows:,} rows", flush=True)


def _platform_data(database_url: str, start: datetime, end: datetime, platforms: tuple[str, ...], seed: int,
                   scale: float, after: Callable[[str], str] | None) -> dict[str, Any]:  # fmt: skip
    last = [0.0]

    def progress(p: GenerationProgress) -> None:
        if time.monotonic() - last[0] >= 2.0:
            last[0] = time.monotonic()
            _print_progress(p)

    summary = generate_platform_data(
        database_url, start=start, end=end, platforms=platforms, seed=seed, scale=scale, progress=progress
    )
    done = {
        "start": summary.start.isoformat(),
        "end": summary.end.isoformat(),
        "rows": summary.total_rows,
        "seconds": round(summary.seconds, 1),
    }
    print(f"platform data: {summary.total_rows:,} rows in {summary.seconds:.1f} s", flush=True)
    if after is not None:
        print(after(database_url), flush=True)
    return done


def backfill_demo(plan: DemoHistoryPlan, *, progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Backfill what is missing; returns the marker (what the data dir now holds)."""
    say = progress or (lambda msg: print(msg, flush=True))
    began = time.perf_counter()
    end = (plan.end or datetime.now(UTC)).astimezone(UTC)
    marker = read_marker(plan.data_dir)
    p = plan.params
    with ProcessPoolExecutor(max_workers=1) as pool:
        platform_job = None
        if "platform_data" in marker:
            say(f"platform data: already backfilled up to {marker['platform_data']['end']}")
        else:
            say(f"platform data: {plan.platform_days} days for {len(p.platforms)} platforms (in a worker process)")
            start = end - timedelta(days=plan.platform_days)
            args = (plan.database_url, start, end, p.platforms, p.seed, plan.platform_scale, plan.after_platform_data)
            platform_job = pool.submit(_platform_data, *args)
        if "metrics" in marker:
            say(f"metrics history: already backfilled up to {marker['metrics']['end']}")
        elif _tsdb_has_data(plan.tsdb_dir):
            reason = f"Prometheus already holds data in {plan.tsdb_dir} (use a new --data-dir)"
            say(f"metrics history: skipped, {reason}")
            marker["metrics"] = {"skipped": reason, "end": end.isoformat()}
            _write_marker(plan.data_dir, marker)
        else:
            say(f"metrics history: {plan.metrics_days} days for {len(p.platforms)} platforms")
            result = backfill_metrics(
                plan.tsdb_dir,
                params=p,
                start=end - timedelta(days=plan.metrics_days),
                end=end,
                recorded=plan.recorded,
                progress=say,
            )
            marker["metrics"] = asdict(result) | {
                "end": datetime.fromtimestamp(result.end, UTC).isoformat(),
                "start": datetime.fromtimestamp(result.start, UTC).isoformat(),
            }
            say(
                f"metrics history: {result.samples:,} samples, {result.blocks} blocks "
                f"(drawn in {result.generate_seconds:.1f} s, blocks in {result.promtool_seconds:.1f} s)"
            )
            _write_marker(plan.data_dir, marker)
        if platform_job is not None:
            try:
                marker["platform_data"] = platform_job.result()
            except GenerationError as exc:
                say(f"platform data: skipped, {exc}")
                marker["platform_data"] = {"skipped": str(exc), "end": end.isoformat()}
            except Exception as exc:
                say(f"platform data: failed ({type(exc).__name__}: {exc}); the demo starts without it")
            _write_marker(plan.data_dir, marker)
    say(f"history backfilled in {time.perf_counter() - began:.1f} s")
    sys.stdout.flush()
    return marker

"""Backfill weeks of the demo's metrics into Prometheus's TSDB before Prometheus starts.

The real way: the series are written as OpenMetrics text and turned into TSDB blocks by
``promtool tsdb create-blocks-from openmetrics``; the blocks are moved into the data dir
Prometheus is about to open. The history ends where live traffic starts and follows the
same seasonal model with the same labels (``job``, ``instance``, route templates), so
``rate()`` and ``offset 1w`` run across the seam; the live counters start again from 0,
which Prometheus reads as a counter reset.

Besides the platform's own series it writes what the recording rules would have
recorded (the rules' short demo windows cannot be evaluated over history sampled every
``step`` seconds): ``recorded`` maps the model's aggregate names (``request_rate``,
``latency_p95``, ...) to the recorded series names, which the caller takes from the
catalog.

>>> result = backfill_metrics(data / "prometheus", params=params, start=start, end=end,
...                           recorded={"request_rate": "platform:http_server_requests:rate5m"})  # doctest: +SKIP
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

import numpy as np

from .model import HistoryParams, PlatformHistory, Series
from .openmetrics import OpenMetricsWriter

DEFAULT_STEP_SECONDS = 150
"""Spacing of recent history samples: every 5-minute ``rate()`` window holds two of them."""
OLDER_STEP_SECONDS = 300
"""Spacing beyond ``DETAILED_DAYS``: enough for 15-minute and hourly windows and for instant
lookups (Prometheus looks back 5 minutes), which is what reads older history."""
DETAILED_DAYS = 8
"""The anomaly engine replays 7 days at 5-minute windows; one more for the seam."""
PROMTOOL_PROCESSES = 2
AGGREGATES = frozenset(
    {
        "request_rate",
        "error_ratio_5xx",
        "error_ratio_4xx",
        "latency_p95",
        "latency_p50",
        "payment_failed_ratio",
        "payment_completed_ratio",
        "payment_attempts",
        "registrations_hourly",
    }
)
"""What the model aggregates, for the recorded series the caller names."""
# promtool re-reads its input once per block; one block range (the largest of the TSDB's
# exponential ranges, 1458 h = 60.75 days) covers the whole history in one or two passes.
MAX_BLOCK_DURATION = "1458h"


class BackfillError(RuntimeError):
    """promtool is missing or refused the history (the message says which)."""


@dataclass(frozen=True, slots=True)
class MetricsBackfill:
    """What was written: samples, series, blocks, and how long each part took."""

    start: float
    end: float
    step_seconds: int
    samples: int
    series: int
    blocks: int
    generate_seconds: float
    promtool_seconds: float


def find_promtool(explicit: str | None = None) -> str:
    path = explicit or shutil.which("promtool")
    if path is None or not Path(path).exists():
        raise BackfillError(
            "promtool is not installed (it comes with Prometheus: `sudo apt-get install prometheus`, "
            "or `make system-deps`); run `fanzwatch up --demo --no-backfill` to start without history"
        )
    return path


def time_grid(
    start: datetime,
    end: datetime,
    step_seconds: int = DEFAULT_STEP_SECONDS,
    *,
    older_step_seconds: int = OLDER_STEP_SECONDS,
    detailed_days: float = DETAILED_DAYS,
) -> np.ndarray:
    """Unix seconds from ``start`` to ``end``: every ``older_step_seconds``, then every
    ``step_seconds`` over the last ``detailed_days`` (aligned, at least two points)."""
    last = int(end.timestamp()) // step_seconds * step_seconds
    split = max(int(start.timestamp()), last - int(detailed_days * 86400)) // older_step_seconds * older_step_seconds
    first = int(start.timestamp()) // older_step_seconds * older_step_seconds
    older = np.arange(first, split, older_step_seconds, dtype=np.int64)
    recent = np.arange(split + (-split) % step_seconds, last + 1, step_seconds, dtype=np.int64)
    grid = np.concatenate([older, recent])
    if len(grid) < 2:
        raise ValueError("the history must span at least two steps")
    return grid


def _write(
    path: Path,
    grid: np.ndarray,
    platforms: tuple[str, ...],
    params: HistoryParams,
    recorded: Mapping[str, str],
    progress: Callable[[str], None],
) -> tuple[int, int]:
    series = 0
    with OpenMetricsWriter(path, grid) as writer:
        for platform in platforms:
            history = PlatformHistory.build(platform, grid, params)
            for s in history.series:
                writer.write(s)
            for key, name in recorded.items():
                writer.write(Series(name, (("platform", platform),), history.aggregates[key], decimals=6))
            series += len(history.series) + len(recorded)
            progress(f"metrics history: {platform} drawn")
        samples = writer.samples
    return samples, series


def _promtool(tool: str, source: Path, out: Path) -> subprocess.Popen[str]:
    argv = [tool, "tsdb", "create-blocks-from", "openmetrics", f"--max-block-duration={MAX_BLOCK_DURATION}"]
    return subprocess.Popen(
        [*argv, str(source), str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )


def backfill_metrics(
    tsdb_dir: Path,
    *,
    params: HistoryParams,
    start: datetime,
    end: datetime,
    recorded: Mapping[str, str],
    step_seconds: int = DEFAULT_STEP_SECONDS,
    promtool: str | None = None,
    processes: int = PROMTOOL_PROCESSES,
    progress: Callable[[str], None] | None = None,
) -> MetricsBackfill:
    """Write the platforms' history for ``[start, end]`` as TSDB blocks into ``tsdb_dir``.

    The platforms are split over ``processes`` files, each turned into blocks by its own
    promtool while the next file is drawn. Nothing is moved into ``tsdb_dir`` unless every
    promtool succeeded.
    """
    say = progress or (lambda _msg: None)
    tool = find_promtool(promtool)
    unknown = set(recorded) - AGGREGATES
    if unknown:
        raise ValueError(f"no such aggregate in the history model: {sorted(unknown)}")
    grid = time_grid(start, end, step_seconds)
    params = replace(params, buckets_since=float(grid[-1]) - DETAILED_DAYS * 86400)
    groups = [params.platforms[i :: max(1, processes)] for i in range(max(1, processes))]
    tsdb_dir.mkdir(parents=True, exist_ok=True)
    began = time.perf_counter()
    samples = series = 0
    with tempfile.TemporaryDirectory(prefix=".history-", dir=tsdb_dir.parent) as tmp:
        work = Path(tmp)
        running: list[tuple[subprocess.Popen[str], Path]] = []
        try:
            for n, group in enumerate(g for g in groups if g):
                source, out = work / f"history-{n}.om", work / f"blocks-{n}"
                counts = _write(source, grid, group, params, recorded, say)
                samples, series = samples + counts[0], series + counts[1]
                running.append((_promtool(tool, source, out), out))
            generated = time.perf_counter()
            say(f"metrics history: {samples:,} samples in {series:,} series drawn; promtool is building blocks")
            failures = []
            for proc, _ in running:
                _, stderr = proc.communicate()
                if proc.returncode != 0:
                    failures.append(stderr.strip()[-500:])
        finally:
            for proc, _ in running:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
        if failures:
            raise BackfillError(f"promtool could not build the history blocks: {failures[0]}")
        blocks = sorted(p for _, out in running for p in out.iterdir() if p.is_dir())
        for block in blocks:
            os.replace(block, tsdb_dir / block.name)
        finished = time.perf_counter()
    return MetricsBackfill(
        start=float(grid[0]),
        end=float(grid[-1]),
        step_seconds=step_seconds,
        samples=samples,
        series=series,
        blocks=len(blocks),
        generate_seconds=generated - began,
        promtool_seconds=finished - generated,
    )

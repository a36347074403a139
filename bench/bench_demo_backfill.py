"""How long ``fanzwatch up --demo`` spends on its history, and the OpenMetrics writer against a plain one.

1. The OpenMetrics writer (fixed-width byte matrices) against the obvious one (an f-string
   per sample), on the same drawn series: time per sample, same number of samples.
2. The whole default backfill as ``fanzwatch up --demo`` runs it (13 platforms, 28 days of
   metrics through promtool, 90 days of platform data at scale 0.25, BI rollups): wall
   time and CPU time (this process and its children), with the load average, since the
   2 cores are shared.

    python bench/bench_demo_backfill.py                 # both parts
    python bench/bench_demo_backfill.py --writer-only
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from fanzwatch.core.catalog.http import HTTP_DURATION_BUCKETS
from fanzwatch.core.platforms import DEFAULT_PLATFORMS
from fanzwatch.demo.history import HistoryParams, PlatformHistory, Series, time_grid
from fanzwatch.demo.history.openmetrics import OpenMetricsWriter


def _cpu() -> float:
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _plain(path: Path, grid: np.ndarray, series: list[Series]) -> int:
    """The obvious writer: one formatted line per sample."""
    n = 0
    with path.open("w") as f:
        ts = grid.tolist()
        for s in series:
            labels = ",".join(f'{k}="{v}"' for k, v in s.labels)
            prefix = f"{s.name}{{{labels}}} "
            values = s.values.tolist()
            lines = [f"{prefix}{v:.{s.decimals}f} {t}\n" for v, t in zip(values, ts, strict=True) if v == v]
            n += len(lines)
            f.write("".join(lines))
        f.write("# EOF\n")
    return n


def bench_writer(work: Path) -> None:
    end = datetime.now(UTC)
    grid = time_grid(end - timedelta(days=28), end)
    params = HistoryParams(platforms=DEFAULT_PLATFORMS, peak_rps=16, buckets=HTTP_DURATION_BUCKETS)
    series = PlatformHistory.build("fanz-1", grid, params).series + PlatformHistory.build("fanz-2", grid, params).series
    began = time.perf_counter()
    with OpenMetricsWriter(work / "fast.om", grid) as w:
        for s in series:
            w.write(s)
    fast = time.perf_counter() - began
    began = time.perf_counter()
    plain_samples = _plain(work / "plain.om", grid, series)
    plain = time.perf_counter() - began
    assert plain_samples == w.samples
    print(f"writer: {w.samples:,} samples of {len(series)} series")
    print(f"  OpenMetricsWriter  {fast:6.2f} s  {fast / w.samples * 1e9:7.0f} ns/sample")
    print(f"  f-string per line  {plain:6.2f} s  {plain / plain_samples * 1e9:7.0f} ns/sample  ({plain / fast:.1f}x)")


def bench_backfill(work: Path) -> None:
    data = work / "data"
    data.mkdir()
    argv = [
        sys.executable, "-c", "import sys; sys.argv[0] = 'fanzwatch'; from fanzwatch.cli import main; main()",
        "demo", "backfill", "--data-dir", str(data), "--database-url", f"sqlite:///{data / 'platform.db'}",
        "--platforms", ",".join(DEFAULT_PLATFORMS), "--instance", "127.0.0.1:8300", "--peak-rps", "16",
        "--rate-window", "60", "--metrics-days", "28", "--platform-days", "90", "--scale", "0.25",
    ]  # fmt: skip
    load = os.getloadavg()
    cpu, began = _cpu(), time.perf_counter()
    result = subprocess.run(argv, capture_output=True, text=True, check=True)
    wall, used = time.perf_counter() - began, _cpu() - cpu
    print(result.stdout.rstrip().splitlines()[-1])
    for line in result.stdout.splitlines():
        if line.startswith(("metrics history: 8", "metrics history: 1", "platform data: 5", "BI rollups")):
            print(f"  {line}")
    print(f"default demo backfill: {wall:.1f} s wall, {used:.1f} s CPU (load average before: {load[0]:.1f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writer-only", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        bench_writer(Path(tmp))
        if not args.writer_only:
            bench_backfill(Path(tmp))


if __name__ == "__main__":
    main()

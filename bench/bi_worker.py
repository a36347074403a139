"""One side of the BI benchmark, in its own process: time full dashboards on one database.

Run by ``bench_bi.py`` once with this checkout's code and once with the baseline's source
on ``PYTHONPATH`` (only public ``fanzwatch.bi`` names are used, which both versions have).
Prints one JSON object on stdout.

Besides wall time it records the CPU time of each timed report: this process's (Python,
and SQLite's own work) and, on a local PostgreSQL, that of the server backends of the
worker's connections (``/proc/<pid>/stat``, clock ticks). On a shared machine the CPU
time is what a report costs whatever the load; the wall time is what it waited too.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from fanzwatch.bi import BiService, RollupRefresher, Window, parse_duration
from fanzwatch.core import FrozenClock

NOW = datetime(2026, 1, 1, tzinfo=UTC) - timedelta(minutes=30)  # the dashboards' "now": a partial hour
PLATFORMS = tuple(f"fanz-{n}" for n in range(1, 14))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True, help="platform database URL (PostgreSQL or SQLite)")
    parser.add_argument("--windows", default="24h,7d,30d,90d")
    parser.add_argument("--iterations", type=int, default=15)
    parser.add_argument("--max-seconds", type=float, default=300.0)
    parser.add_argument("--raw-check", default="", help="window lengths to compare with raw SQL once")
    parser.add_argument("--previous-path", action="store_true", help="the earlier per-user partial-day counts")
    args = parser.parse_args()
    engine = sa.create_engine(args.url)
    backends: list[int] = []
    if engine.dialect.name == "postgresql":
        sa.event.listen(engine, "connect", lambda dbapi, _: backends.append(dbapi.info.backend_pid))
    clock = FrozenClock(NOW)
    out: dict[str, Any] = {"windows": {}, "checks": {}}
    started = time.perf_counter()
    refresh = RollupRefresher(engine, clock=clock).refresh()  # incremental: a no-op when current
    out["refresh_seconds"] = time.perf_counter() - started
    out["refresh_rebuilt"] = refresh.rebuilt
    service = BiService(engine, platforms=PLATFORMS, clock=clock, edge_hours=not args.previous_path)
    for label in args.windows.split(","):
        length = parse_duration(label)
        service.compute(Window.ending(NOW, length))  # warm-up: statement built, caches warm
        times, deadline, report = [], time.perf_counter() + args.max_seconds, None
        cpu0, server0 = time.process_time(), _server_cpu(backends)
        for i in range(args.iterations):
            window = Window.ending(NOW - timedelta(minutes=7 * i), length)  # a new window each run
            t = time.perf_counter()
            report = service.compute(window)
            times.append(time.perf_counter() - t)
            if time.perf_counter() > deadline:
                break
        cpu, server = time.process_time() - cpu0, _server_cpu(backends) - server0
        assert report is not None
        r = report.current.revenue
        out["windows"][label] = {
            "ms": [x * 1000 for x in times],
            "revenue": str(r.total),
            "payments": r.completed_transactions,
            "active_users": report.current.users.active_users,
            "source": report.source,
            "client_cpu_ms": cpu * 1000 / len(times),
            "server_cpu_ms": server * 1000 / len(times),
        }
        if label in args.raw_check.split(","):
            t = time.perf_counter()
            raw = service.compute(Window(report.window.start, report.window.end), raw=True)
            same = raw.current == report.current and raw.previous == report.previous
            out["checks"][label] = {"raw_ms": (time.perf_counter() - t) * 1000, "identical": same}
    engine.dispose()
    print(json.dumps(out))


def _server_cpu(pids: list[int]) -> float:
    """Seconds of CPU the PostgreSQL backends ``pids`` used so far (0 where /proc cannot tell)."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


if __name__ == "__main__":
    main()

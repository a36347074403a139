"""Engine throughput: how many watched series one core evaluates at a 60 s step.

Usage: ``.venv/bin/python bench/bench_anomaly_engine.py [--series 10000] [--days 1]``

Builds ``--series`` series states as the engine does (detector + episode tracker + window),
warms them with ``--days`` of one-minute history, then measures steady-state evaluations:
one new point per series per tick through ``SeriesState.absorb`` (detection, episodes,
window), the alert outbox plan and the per-series gauges, with the process CPU clock.
It prints series per second of CPU and the CPU share of a 60 s step that 10,000 series
need, for the default detector and for today's (``seasonal``) in the same run. Parsing
Prometheus's JSON is not included (``orjson`` + numpy, measured separately as the first
line).
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime

import numpy as np
import orjson
from prometheus_client import CollectorRegistry

from fanzwatch.anomaly.detectors import make_detector
from fanzwatch.anomaly.engine.metrics import EngineMetrics
from fanzwatch.anomaly.engine.outbox import AlertOutbox
from fanzwatch.anomaly.engine.prometheus import _parse_values
from fanzwatch.anomaly.engine.series import SeriesState
from fanzwatch.anomaly.engine.watchlist import build_watchlist

STEP = 60.0
BASELINE = (
    "baseline (docs/benchmarks.md before the fix): `seasonal-cusum` 381 series/s at --series 2000, "
    "its warm-up one point short of the detector's day, so each series' start-up replay fell in a measured tick"
)


def run(detector: str, n: int, days: float, ticks: int) -> tuple[float, float, float]:
    signals = build_watchlist(rate_window_seconds=300)
    rng = np.random.default_rng(1)
    t0 = 1_767_225_600.0
    # The engine's start-up grid is inclusive of both ends (``history_seconds / step + 1``
    # points): a history one point shorter leaves ``seasonal-cusum`` still buffering its
    # one-day warm-up, and the first measured tick then replays the whole day for every
    # series (the 8,700 -> 381 series/s "regression" was that one-off replay, not the step).
    hist_t = t0 + np.arange(0, days * 86400 + STEP, STEP)
    states = []
    warm_cpu = time.process_time()
    for i in range(n):
        st = SeriesState(
            signals[i % len(signals)], f"p{i}", make_detector(detector), fire_after=2, resolve_after=5, capacity=1440
        )
        level = 10 + 5 * np.sin(2 * np.pi * hist_t / 86400)
        st.absorb(hist_t, level * (1 + 0.05 * rng.standard_normal(hist_t.size)))
        states.append(st)
    warm_cpu = time.process_time() - warm_cpu
    metrics = EngineMetrics(CollectorRegistry())
    outbox = AlertOutbox(resend_seconds=60, ttl_seconds=300)
    cpu = 0.0
    first = 0.0
    for k in range(ticks + 1):
        ts = np.array([hist_t[-1] + (k + 1) * STEP])
        values = 10 + 5 * np.sin(2 * np.pi * ts / 86400) * (1 + 0.05 * rng.standard_normal(n))
        began = time.process_time()
        for st, v in zip(states, values.tolist(), strict=True):
            st.absorb(ts, np.array([v]))
        outbox.plan(states, now=datetime.now(UTC), monotonic=float(k))
        for st in states:
            metrics.observe_series(st, float(ts[0]))
        if k == 0:  # the engine's first live tick, kept apart: it must cost no more than the others
            first = time.process_time() - began
        else:
            cpu += time.process_time() - began
    per_tick = cpu / ticks
    return n / per_tick, n / first, warm_cpu


def parse_rate(n: int) -> float:
    body = orjson.dumps(
        {"data": {"result": [{"metric": {"platform": f"p{i}"}, "values": [[1.0, "1.5"]]} for i in range(n)]}}
    )
    began = time.process_time()
    for item in orjson.loads(body)["data"]["result"]:
        _parse_values(item["values"])
    return n / (time.process_time() - began)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=10_000)
    parser.add_argument("--days", type=float, default=1.0)
    parser.add_argument("--ticks", type=int, default=5)
    args = parser.parse_args()
    print(BASELINE)
    print(f"parsing query_range answers: {parse_rate(args.series):,.0f} series/s per core")
    print(
        "| detector | series/s per core (steady state) | first live tick after warm-up "
        "| CPU of a 60 s step for 10,000 series | warm-up CPU |"
    )
    print("|---|---|---|---|---|")
    for detector in ("seasonal-cusum", "seasonal"):
        rate, first, warm = run(detector, args.series, args.days, args.ticks)
        print(
            f"| `{detector}` | {rate:,.0f} | {first:,.0f} "
            f"| {10_000 / rate:.2f} s ({10_000 / rate / 60:.1%}) "
            f"| {warm:.0f} s for {args.series:,} × {args.days:g} day |",
            flush=True,
        )


if __name__ == "__main__":
    main()

"""CPU cost of pricing one incident: forecasting every revenue series of a platform.

Usage: ``.venv/bin/python bench/bench_impact.py``.

One platform with 3 streams × 9 currencies (27 revenue series, the catalogue's bound),
14 days of one-minute history, incident windows of 10 minutes, 1.5 hours and 5.5 hours,
each priced twice: its first round (every series forecast) and the round a minute later
(forecasts kept, see ``HORIZON_QUANTUM``; a round crossing a whole hour of the window
refits, like the first). The history is generated and served through the same
``query_range`` interface Prometheus answers (``tests/impact/_history.py``'s fake), so the
figure is forecasting and bookkeeping alone, timed with the process CPU clock (all
threads). Prints a markdown table.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parents[1] / "tests"))

from fanzwatch.anomaly.forecast import forecast
from fanzwatch.core.catalog.business import CURRENCIES, PAYMENT_TYPES
from fanzwatch.impact import RevenueEstimator
from fanzwatch.settings.impact import ImpactSettings
from impact._history import DAY, STEP, FakeRevenuePrometheus, revenue_curve

END = 1_780_000_020.0 // STEP * STEP


async def main() -> None:
    t = np.arange(END - 15 * DAY, END + STEP / 2, STEP)
    revenue = {
        ("fanz-1", stream, currency): revenue_curve(t, base=5.0 + i, seed=i)
        for i, (stream, currency) in enumerate((s, c) for s in PAYMENT_TYPES for c in CURRENCIES)
    }
    fake = FakeRevenuePrometheus(t, revenue=revenue)
    estimator = RevenueEstimator(fake, forecast, ImpactSettings(history_days=14))
    print(f"load average {os.getloadavg()[0]:.2f}")
    print("| window | series | CPU s per incident | CPU ms per series |")
    print("|---|---:|---:|---:|")
    for minutes in (10, 90, 330):
        for label in ("first round", "next round"):
            start = time.process_time()
            # the next round: one minute later, the same incident (its forecasts are kept)
            first = label == "first round"
            estimate = await estimator.estimate(("fanz-1",), END - minutes * 60 - 60, END - 60 * first)
            spent = time.process_time() - start
            n = len(estimate.streams)
            print(f"| {minutes} min, {label} | {n} | {spent:.2f} | {1000 * spent / n:.0f} |")


if __name__ == "__main__":
    asyncio.run(main())

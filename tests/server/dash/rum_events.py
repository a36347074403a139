"""Stored RUM events for the stack: vitals on three pages and a few JavaScript errors.

Rows in ``fanzwatch.rum.tables.COLUMNS`` order, as the RUM writer stores them. Values
are seeded; /checkout is slow (poor LCP) so the page shows all three ratings.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from fanzwatch.rum.records import Row

PAGES = {"/": 1.0, "/creator/:id": 1.4, "/checkout": 2.2}
MEDIANS = {"LCP": 1.9, "INP": 0.11, "CLS": 0.05, "FCP": 1.2, "TTFB": 0.4}
ERRORS = (
    ("a1b2c3d4e5f6", "error", "TypeError: Cannot read properties of undefined (reading 'price')", 14),
    ("0f1e2d3c4b5a", "unhandledrejection", "Error: payment widget failed to load", 5),
    ("9a8b7c6d5e4f", "error", "ReferenceError: gtag is not defined", 2),
)


def rum_rows(now: datetime, *, seed: int = 11) -> list[Row]:
    rng = random.Random(seed)
    now_ms = int(now.timestamp() * 1000)
    rows: list[Row] = []
    for i in range(900):
        platform = ("fanz-1", "fanz-2", "fanz-3")[i % 3]
        page, slowness = list(PAGES.items())[(i // 3) % len(PAGES)]
        at = now_ms - rng.randrange(int(timedelta(hours=20).total_seconds() * 1000))
        sid = f"s{i // 4:05d}"
        for name, median in MEDIANS.items():
            value = median * slowness * rng.lognormvariate(0, 0.35)
            rows.append(
                (
                    at,
                    at + 50,
                    "vital",
                    platform,
                    page,
                    "mobile",
                    sid,
                    name,
                    value,
                    None,
                    f"https://{platform}.test{page}",
                    None,
                    None,
                )
            )
    for fingerprint, kind, message, count in ERRORS:
        for j in range(count):
            at = now_ms - rng.randrange(3_600_000)
            rows.append(
                (
                    at,
                    at + 50,
                    "error",
                    "fanz-1",
                    "/checkout",
                    "desktop",
                    f"e{j % 4}",
                    kind,
                    None,
                    fingerprint,
                    "https://fanz-1.test/checkout",
                    message,
                    None,
                )
            )
    return rows

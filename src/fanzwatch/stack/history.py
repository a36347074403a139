"""The stack's side of the demo's history: the backfill step's command, the retention that keeps it.

The backfill itself is ``fanzwatch demo backfill`` (``fanzwatch.demo.history``), run by
the runner once before any child starts; it records what it wrote in
``<data_dir>/history.json``, which the runner reads to skip it on the next run.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from ..settings.demo import DemoSettings
from ..settings.stack import StackSettings
from .plan import StackPaths, _addr, demo_database_url, fanzwatch_argv

HISTORY_MARKER = "history.json"

_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400, "y": 365 * 86400}


def prometheus_retention(stack: StackSettings, demo: DemoSettings | None) -> str:
    """The TSDB retention: the settings', or long enough to keep the demo's backfilled history
    (its days plus a week, so "last week" still has data at the end of it)."""
    configured = stack.prometheus_retention
    if demo is None or not demo.backfill:
        return configured
    seconds = int(configured[:-1]) * _UNIT_SECONDS[configured[-1]]
    needed = (demo.metrics_history_days + 7) * 86400
    return configured if seconds >= needed else f"{demo.metrics_history_days + 7}d"


def backfill_argv(
    stack: StackSettings, demo: DemoSettings, paths: StackPaths, *, rate_window: timedelta
) -> tuple[str, ...]:
    """``fanzwatch demo backfill`` for this stack: its platforms, traffic, database, scrape address."""
    return fanzwatch_argv(
        "demo",
        "backfill",
        "--data-dir",
        str(paths.root),
        "--database-url",
        demo_database_url(demo, paths),
        "--platforms",
        ",".join(demo.platforms),
        "--instance",
        _addr(stack, demo.platform_port),
        "--peak-rps",
        f"{demo.peak_rps:g}",
        "--rate-window",
        f"{rate_window.total_seconds():g}",
        "--metrics-days",
        str(demo.metrics_history_days),
        "--platform-days",
        str(demo.platform_history_days),
        "--scale",
        f"{demo.platform_history_scale:g}",
        "--seed",
        str(demo.seed if demo.seed is not None else 1),
    )


def read_history_marker(data_dir: Path) -> dict[str, Any]:
    """What the demo's backfill recorded in ``history.json`` (empty when nothing, or unreadable)."""
    try:
        found: dict[str, Any] = json.loads((data_dir / HISTORY_MARKER).read_text())
    except (OSError, ValueError):
        return {}
    return found

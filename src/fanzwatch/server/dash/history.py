"""``HealthHistory``: the last results of every health check, kept in memory, bounded.

The health runner keeps only the latest result per check; FanzDash shows how each
check went over the last hour or so. A background task copies the runner's latest
results every ``interval`` seconds (no check is run for it), skipping results already
recorded, into one ring buffer per check.

>>> history = HealthHistory(runner, points=240, interval=15)   # doctest: +SKIP
>>> await history.start(); ...; await history.stop()           # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque

from ...health import HealthCheckRunner, HealthReport
from .sources import HealthPoint

logger = logging.getLogger(__name__)


class HealthHistory:
    """Bounded per-check history of ``runner``'s results."""

    def __init__(self, runner: HealthCheckRunner, *, points: int = 240, interval: float = 15.0) -> None:
        if points < 1 or interval <= 0:
            raise ValueError("points must be at least 1 and interval positive")
        self.runner = runner
        self.points = points
        self.interval = interval
        self._by_check: dict[str, deque[HealthPoint]] = {}
        self._task: asyncio.Task[None] | None = None

    def record(self, report: HealthReport) -> int:
        """Add the results of ``report`` not seen yet; returns how many were added."""
        added = 0
        for check in report.checks:
            ring = self._by_check.setdefault(check.name, deque(maxlen=self.points))
            if ring and ring[-1].time >= check.time:
                continue
            value = check.result.observed_value
            ring.append(
                HealthPoint(
                    time=check.time,
                    status=check.status.value,
                    observed_value=float(value) if isinstance(value, int | float) else None,
                    duration=check.duration,
                    output=check.result.output,
                )
            )
            added += 1
        return added

    def history(self, name: str) -> list[HealthPoint]:
        return list(self._by_check.get(name, ()))

    async def start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="fanzdash-health-history")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        while True:
            try:
                self.record(self.runner.snapshot())
            except Exception:  # the history must outlive one odd report
                logger.exception("recording health history failed")
            await asyncio.sleep(self.interval)

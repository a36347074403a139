"""The runner: timeouts, concurrency, a result cache, periodic runs and metrics.

Three rules make health checks safe to expose to probes:

1. **Each check has its own timeout**, well under the period (2 s against 15 s by
   default), enforced by the runner: a check that ignores cancellation is abandoned, not
   awaited, and is not started again while its previous run is still hanging, so a dead
   dependency can neither hang an endpoint nor pile up connections.
2. **Results are cached for ``max_age`` seconds, and concurrent callers share one
   in-flight run**, so a burst of probes (Kubernetes, load balancers, people) costs each
   dependency at most one query per ``max_age``, plus one per background ``period``.
3. **Checks run concurrently**, so a full run takes as long as the slowest check.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from prometheus_client import CollectorRegistry

from ..core.clock import Clock, SystemClock
from ..core.errors import ConfigError
from ..core.models import HealthStatus
from ..core.platforms import OTHER_PLATFORM
from ._check import CheckReport, CheckResult, HealthCheck, HealthReport
from ._metrics import HealthMetrics
from ._registry import HealthCheckRegistry

logger = logging.getLogger(__name__)

DEFAULT_PERIOD = 15.0
DEFAULT_TIMEOUT = 2.0
DEFAULT_MAX_AGE = 10.0
_OUTPUT_LIMIT = 500
_STOP_GRACE = 1.0


@dataclass(eq=False, slots=True)
class _Slot:
    """Per-check state: the last report, the run in flight, a run that would not stop."""

    check: HealthCheck
    report: CheckReport | None = None
    fetched_at: float = 0.0
    running: asyncio.Task[CheckReport] | None = None
    straggler: asyncio.Task[CheckResult] | None = None
    straggler_since: float = 0.0


def describe_error(exc: BaseException) -> str:
    """A one-line description of an exception for a check's ``output``.

    Client libraries often wrap the operating system's error in their own and keep only
    part of its text (asyncio says "Connect call failed"); the errno's meaning, e.g.
    "Connection refused", is added when the message lacks it.
    """
    text = " ".join(str(exc).split())
    line = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    reason = _os_reason(exc)
    if reason and reason.lower() not in line.lower():
        line = f"{line} ({reason})"
    return line if len(line) <= _OUTPUT_LIMIT else line[: _OUTPUT_LIMIT - 1] + "…"


def _os_reason(exc: BaseException) -> str | None:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno:
            return os.strerror(current.errno)
        current = current.__cause__ or current.__context__
    return None


def _consume(task: asyncio.Task[CheckResult]) -> None:
    # An abandoned check's late exception is expected; retrieve it so asyncio does not warn.
    if not task.cancelled():
        task.exception()


class HealthCheckRunner:
    """Runs a registry of checks with timeouts, a cache and a background period.

    >>> runner = HealthCheckRunner([SqlCheck("database", url=url)], registry=registry)
    >>> async with runner:            # start(): a run every ``period`` seconds
    ...     report = await runner.health()   # cached for ``max_age`` seconds
    ...     report.status
    <HealthStatus.PASS: 'pass'>

    ``stop()`` ends the background runs, abandons runs in flight and closes the checks.
    """

    def __init__(
        self,
        checks: HealthCheckRegistry | Iterable[HealthCheck],
        *,
        registry: CollectorRegistry,
        platform: str = OTHER_PLATFORM,
        period: float = DEFAULT_PERIOD,
        default_timeout: float = DEFAULT_TIMEOUT,
        max_age: float = DEFAULT_MAX_AGE,
        clock: Clock | None = None,
    ) -> None:
        if period <= 0 or default_timeout <= 0 or max_age < 0:
            raise ConfigError("period and default_timeout must be positive and max_age not negative")
        self.checks = checks if isinstance(checks, HealthCheckRegistry) else HealthCheckRegistry(checks)
        for check in self.checks:
            timeout = check.timeout or default_timeout
            if timeout >= period:
                raise ConfigError(
                    f"health check {check.name!r}: timeout {timeout:g} s must be shorter than the period {period:g} s",
                    setting="health.checks.timeout",
                )
        self.period = period
        self.default_timeout = default_timeout
        self.max_age = max_age
        self._clock = clock or SystemClock()
        self._metrics = HealthMetrics(registry, platform=platform)
        self._slots: dict[str, _Slot] = {}
        self._background: asyncio.Task[None] | None = None
        for check in self.checks:
            self._slot(check)

    # -- reading ---------------------------------------------------------------------------

    async def health(self, *, max_age: float | None = None) -> HealthReport:
        """Every check, from the cache when younger than ``max_age`` (default: the runner's)."""
        return await self._gather(list(self.checks), max_age)

    async def readiness(self, *, max_age: float | None = None) -> HealthReport:
        """The critical checks only: what decides whether the service can take traffic."""
        return await self._gather([c for c in self.checks if c.critical], max_age)

    async def check(self, name: str, *, max_age: float | None = None) -> CheckReport:
        """One check by name; ``UnknownCheckError`` if there is none."""
        check = self.checks.get(name)
        return await self._get(self._slot(check), self.max_age if max_age is None else max_age)

    async def run_now(self) -> HealthReport:
        """Run every check now (joining runs already in flight) and return the results."""
        return await self.health(max_age=0.0)

    def snapshot(self) -> HealthReport:
        """The last results, without running anything (checks never run yet are left out)."""
        reports = [slot.report for slot in self._slots.values() if slot.report is not None]
        return HealthReport(tuple(reports))

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._background is not None and not self._background.done()

    async def start(self) -> None:
        """Start the background runs (the first one at once); idempotent."""
        if not self.running:
            self._background = asyncio.create_task(self._periodically(), name="fanzwatch-health-runner")

    async def stop(self) -> None:
        """Stop the background runs, abandon runs in flight and close every check."""
        background, self._background = self._background, None
        pending: set[asyncio.Future[Any]] = set()
        if background is not None:
            background.cancel()
            pending.add(background)
        for slot in self._slots.values():
            for task in (slot.running, slot.straggler):
                if task is not None and not task.done():
                    task.cancel()
                    pending.add(task)
        if pending:
            # A check that ignores cancellation must not hang shutdown either.
            await asyncio.wait(pending, timeout=_STOP_GRACE)
        for check in self.checks:
            try:
                await asyncio.wait_for(check.aclose(), timeout=_STOP_GRACE)
            except Exception:
                logger.exception("closing health check %s failed", check.name)

    async def __aenter__(self) -> HealthCheckRunner:
        await self.start()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.stop()

    # -- internals -------------------------------------------------------------------------

    def _slot(self, check: HealthCheck) -> _Slot:
        slot = self._slots.get(check.name)
        if slot is None:
            slot = self._slots[check.name] = _Slot(check)
            self._metrics.declare(check.name, critical=check.critical)
        return slot

    async def _periodically(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            started = loop.time()
            try:
                await self.run_now()
            except Exception:  # a bug in a check's reporting must not end the background runs
                logger.exception("health check run failed")
            await asyncio.sleep(max(0.0, self.period - (loop.time() - started)))

    async def _gather(self, checks: list[HealthCheck], max_age: float | None) -> HealthReport:
        age = self.max_age if max_age is None else max_age
        reports = await asyncio.gather(*(self._get(self._slot(c), age) for c in checks))
        return HealthReport(tuple(reports))

    async def _get(self, slot: _Slot, max_age: float) -> CheckReport:
        if slot.report is not None and self._clock.monotonic() - slot.fetched_at <= max_age and max_age > 0:
            return slot.report
        if slot.running is None or slot.running.done():
            slot.running = asyncio.create_task(self._execute(slot), name=f"fanzwatch-health:{slot.check.name}")
        # Shielded: one impatient caller (a probe that disconnects) must not cancel the shared run.
        return await asyncio.shield(slot.running)

    async def _execute(self, slot: _Slot) -> CheckReport:
        check = slot.check
        timeout = check.timeout or self.default_timeout
        started = time.perf_counter()
        result = await self._observe(slot, timeout)
        duration = time.perf_counter() - started
        report = CheckReport(
            name=check.name,
            component_type=check.component_type,
            measurement=check.measurement,
            critical=check.critical,
            result=result,
            time=self._clock.now(),
            duration=duration,
        )
        self._store(slot, report)
        return report

    async def _observe(self, slot: _Slot, budget: float) -> CheckResult:
        """Run the check within ``budget`` seconds; never raise, never wait longer."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + budget
        if slot.straggler is not None and not slot.straggler.done():
            # The last run timed out and has not ended since: give it this run's budget to
            # finish, and never start a second one beside it.
            await asyncio.wait({slot.straggler}, timeout=budget)
            if not slot.straggler.done():
                hung = self._clock.monotonic() - slot.straggler_since
                return CheckResult.failed(
                    f"timed out: the previous run has still not finished {hung:.1f} s after it was abandoned"
                )
        slot.straggler = None
        try:
            task = asyncio.ensure_future(slot.check.check())
        except Exception as exc:
            return CheckResult.failed(describe_error(exc))
        try:
            await asyncio.wait({task}, timeout=max(0.0, deadline - loop.time()))
        except asyncio.CancelledError:
            task.cancel()
            raise
        if not task.done():
            task.cancel()
            task.add_done_callback(_consume)
            slot.straggler, slot.straggler_since = task, self._clock.monotonic()
            return CheckResult.failed(f"timed out after {budget:g} s")
        if task.cancelled():
            return CheckResult.failed("the check was cancelled")
        error = task.exception()
        if error is not None:
            return CheckResult.failed(describe_error(error))
        result = task.result()
        if not isinstance(result, CheckResult):
            return CheckResult.failed(f"the check returned {type(result).__name__}, not a CheckResult")
        return result

    def _store(self, slot: _Slot, report: CheckReport) -> None:
        previous = slot.report.status if slot.report is not None else None
        slot.report, slot.fetched_at = report, self._clock.monotonic()
        self._metrics.record(report)
        if previous is not None and previous is not report.status:
            log = logger.warning if report.status is not HealthStatus.PASS else logger.info
            log(
                "health check %s: %s -> %s %s",
                report.name,
                previous.value,
                report.status.value,
                report.result.output,
                extra={"check": report.name, "status": report.status.value},
            )

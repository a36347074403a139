"""Test helpers for code that uses health checks: a check whose answer the test controls."""

from __future__ import annotations

import asyncio

from ..core.models import HealthStatus
from ._check import CheckResult, ComponentType
from .checks._base import BaseCheck


class InMemoryCheck(BaseCheck):
    """A check that answers what the test says, counts its runs, and can be slow or hang.

    >>> check = InMemoryCheck("payments", status=HealthStatus.FAIL, output="down")
    >>> check.set(HealthStatus.PASS)
    """

    component_type = ComponentType.COMPONENT
    measurement = "status"

    def __init__(
        self,
        name: str,
        *,
        status: HealthStatus = HealthStatus.PASS,
        output: str = "",
        observed_value: float | None = None,
        delay: float = 0.0,
        critical: bool = True,
        timeout: float | None = None,
    ) -> None:
        super().__init__(name, critical=critical, timeout=timeout)
        self.status, self.output, self.observed_value, self.delay = status, output, observed_value, delay
        self.calls = 0
        self.error: Exception | None = None
        self.ignore_cancellation = False
        self.closed = False

    def set(self, status: HealthStatus, output: str = "") -> None:
        """What the next runs answer."""
        self.status, self.output = status, output

    async def check(self) -> CheckResult:
        self.calls += 1
        if self.delay:
            if self.ignore_cancellation:
                await _sleep_ignoring_cancellation(self.delay)
            else:
                await asyncio.sleep(self.delay)
        if self.error is not None:
            raise self.error
        return CheckResult(
            self.status, self.observed_value, "s" if self.observed_value is not None else None, self.output
        )

    async def aclose(self) -> None:
        self.closed = True


async def _sleep_ignoring_cancellation(seconds: float) -> None:
    # Like a client library that swallows cancellation while it waits on a socket.
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    while (remaining := end - loop.time()) > 0:
        try:
            await asyncio.sleep(remaining)
        except asyncio.CancelledError:
            continue

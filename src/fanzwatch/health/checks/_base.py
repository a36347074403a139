"""What the built-in checks share: naming, flags, and running blocking calls safely."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TypeVar

import anyio
import anyio.to_thread

from .._check import validate_check_name

T = TypeVar("T")


class BaseCheck:
    """Name, critical flag and timeout handling for the built-in checks.

    Subclasses set ``component_type`` and ``measurement`` and implement ``check()``.
    """

    component_type: str = "component"
    measurement: str = "responseTime"

    def __init__(self, name: str, *, critical: bool = True, timeout: float | None = None) -> None:
        self.name = validate_check_name(name)
        self.critical = critical
        self.timeout = timeout

    async def aclose(self) -> None:
        """Nothing to release by default."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, critical={self.critical})"


class BlockingCalls:
    """Runs a check's blocking calls in a worker thread, one at a time.

    A thread cannot be cancelled: when the runner gives up on a hung call (an NFS stat, an
    S3 request without an answer) the thread stays blocked. One token per check means that
    a hung call makes later runs time out waiting for the token instead of piling up threads.
    """

    def __init__(self) -> None:
        self._limiter: anyio.CapacityLimiter | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def run(self, func: Callable[[], T]) -> T:
        loop = asyncio.get_running_loop()
        if self._limiter is None or self._loop is not loop:
            # A limiter belongs to one event loop; an app restarted in a new loop gets a new one.
            self._limiter, self._loop = anyio.CapacityLimiter(1), loop
        return await anyio.to_thread.run_sync(func, abandon_on_cancel=True, limiter=self._limiter)


def elapsed_since(started: float) -> float:
    """Seconds since ``started`` (a ``time.perf_counter()`` value), to the microsecond."""
    return round(time.perf_counter() - started, 6)

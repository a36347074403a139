"""The one piece of process-wide state: which Telemetry this process initialised.

Why a process-wide holder at all, when everything else is built and passed in:
OpenTelemetry's global tracer provider can be set only once per process,
auto-instrumentation patches httpx/requests/SQLAlchemy/redis for the whole process,
and prometheus_client multiprocess mode writes per-process files. Initialising twice
would double-register instruments and double-patch libraries, so ``init_telemetry``
must be idempotent per process, and module-level helpers (``record_payment``,
``trace_operation``) need to find the telemetry without it being threaded through
every call. The holder is guarded by a lock, holds nothing at import time, and tests
swap it with :meth:`TelemetryHolder.installed` instead of touching globals.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from opentelemetry import trace

from ...core import FanzwatchError

if TYPE_CHECKING:
    from .telemetry import Telemetry

INSTRUMENTATION_NAME = "fanzwatch.sdk"


class TelemetryNotInitialisedError(FanzwatchError, RuntimeError):
    """A helper needed the process's telemetry before ``init_telemetry()`` ran."""

    def __init__(self, what: str) -> None:
        super().__init__(f"{what} needs telemetry: call fanzwatch.sdk.init_telemetry() at start-up first")


class TelemetryHolder:
    """Lock-guarded reference to the process's Telemetry (None until initialised)."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self._current: Telemetry | None = None

    @property
    def current(self) -> Telemetry | None:
        return self._current

    def set(self, telemetry: Telemetry | None) -> None:
        with self.lock:
            self._current = telemetry

    @contextmanager
    def installed(self, telemetry: Telemetry) -> Iterator[Telemetry]:
        """Make ``telemetry`` the process's for the duration (tests, benchmarks)."""
        with self.lock:
            previous, self._current = self._current, telemetry
        try:
            yield telemetry
        finally:
            with self.lock:
                self._current = previous


PROCESS = TelemetryHolder()


def current_telemetry(what: str = "this call") -> Telemetry:
    """The process's telemetry, or a clear error saying to call ``init_telemetry``."""
    telemetry = PROCESS.current
    if telemetry is None:
        raise TelemetryNotInitialisedError(what)
    return telemetry


def current_tracer() -> trace.Tracer:
    """The process telemetry's tracer, else the global API's (a no-op until configured)."""
    telemetry = PROCESS.current
    if telemetry is not None:
        return telemetry.tracer
    return trace.get_tracer(INSTRUMENTATION_NAME)

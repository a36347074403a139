"""FanzDash's source of traces and logs: the server's ``TelemetryReader``.

The reader is found when asked (``get_reader``), so the store (or the client of the
process owning it) may come and go; its failures become ``SourceError`` sentences, and a
bad parameter a ``SourceRejectedError`` (the page answers 400).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar

from ...telemetry.client import TelemetryStoreUnavailableError
from ...telemetry.queries import QueryParameterError
from ...telemetry.reader import (
    LogCursor,
    LogPage,
    LogRecord,
    LogSearch,
    Span,
    TelemetryReader,
    TraceSearch,
    TraceSummary,
)
from .errors import SourceRejectedError, SourceUnavailableError

logger = logging.getLogger(__name__)
T = TypeVar("T")
NAME = "the trace and log store"


class TelemetrySource(Protocol):
    async def search_traces(self, q: TraceSearch) -> list[TraceSummary]: ...

    async def spans_of_trace(self, trace_id: str) -> list[Span]: ...

    async def search_logs(self, q: LogSearch) -> list[LogRecord]: ...

    async def tail_logs(self, q: LogSearch, after: LogCursor) -> LogPage: ...


class ReaderTelemetrySource:
    """``TelemetrySource`` over ``get_reader()`` (``None``: the store is not running)."""

    def __init__(self, get_reader: Callable[[], TelemetryReader | None]) -> None:
        self._get_reader = get_reader

    async def _call(self, what: str, call: Callable[[TelemetryReader], Awaitable[T]]) -> T:
        reader = self._get_reader()
        if reader is None:
            raise SourceUnavailableError(NAME, "The trace and log store is not running in this server.")
        try:
            return await call(reader)
        except QueryParameterError as exc:
            raise SourceRejectedError(NAME, str(exc)) from None
        except TelemetryStoreUnavailableError as exc:
            raise SourceUnavailableError(NAME, f"The trace and log store is unavailable ({exc}); try again.") from None
        except Exception as exc:
            logger.exception("reading %s from the trace and log store failed", what)
            raise SourceUnavailableError(
                NAME, f"The trace and log store could not read {what} ({type(exc).__name__}); try again shortly."
            ) from None

    async def search_traces(self, q: TraceSearch) -> list[TraceSummary]:
        return await self._call("traces", lambda r: r.search_traces(q))

    async def spans_of_trace(self, trace_id: str) -> list[Span]:
        return await self._call("the trace", lambda r: r.spans_of_trace(trace_id))

    async def search_logs(self, q: LogSearch) -> list[LogRecord]:
        return await self._call("logs", lambda r: r.search_logs(q))

    async def tail_logs(self, q: LogSearch, after: LogCursor) -> LogPage:
        return await self._call("the log tail", lambda r: r.tail_logs(q, after))

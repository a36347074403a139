"""Tracing helpers for business operations, database operations and outgoing calls.

Each helper is a context manager (sync and async) and, for ``trace_operation``, a
decorator of sync and async functions too. They take their tracer from the
process's telemetry when one is initialised (or installed by
``fanzwatch.sdk.testing``), else from the global OpenTelemetry API, so decorating a
function at import time, before ``init_telemetry``, works.

>>> @trace_operation("payment.process")
... async def process(payment): ...
>>> with trace_db(operation="SELECT", table="payments", system="postgresql"):
...     rows = session.execute(query)
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from types import TracebackType
from typing import Any, ParamSpec, TypeVar, cast
from urllib.parse import urlsplit

from opentelemetry import propagate, trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode
from opentelemetry.util.types import AttributeValue

from .process import current_tracer

P = ParamSpec("P")
R = TypeVar("R")
Attributes = Mapping[str, AttributeValue]


class trace_operation:
    """A span around a business operation; decorator or context manager, sync or async.

    Exceptions are recorded on the span, which is marked as an error, and re-raised.

    >>> with trace_operation("fraud.check", attributes={"payment.type": "tip"}) as span:
    ...     span.set_attribute("fraud.score", 0.02)
    """

    def __init__(self, name: str, *, attributes: Attributes | None = None, kind: SpanKind = SpanKind.INTERNAL) -> None:
        self.name = name
        self.attributes = dict(attributes or {})
        self.kind = kind
        self._active: list[AbstractContextManager[Span]] = []

    def _start(self) -> AbstractContextManager[Span]:
        return current_tracer().start_as_current_span(
            self.name, kind=self.kind, attributes=self.attributes, record_exception=True, set_status_on_exception=True
        )

    def __enter__(self) -> Span:
        cm = self._start()
        self._active.append(cm)
        return cm.__enter__()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._active.pop().__exit__(exc_type, exc, tb)

    async def __aenter__(self) -> Span:
        return self.__enter__()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.__exit__(exc_type, exc, tb)

    def __call__(self, func: Callable[P, R]) -> Callable[P, R]:
        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def async_wrapper(*args: P.args, **kwargs: P.kwargs) -> Any:
                with self._start():
                    return await func(*args, **kwargs)

            return cast(Callable[P, R], async_wrapper)

        @functools.wraps(func)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            with self._start():
                return func(*args, **kwargs)

        return wrapper


def trace_db(
    *, operation: str, table: str, system: str, statement: str | None = None, attributes: Attributes | None = None
) -> trace_operation:
    """A client span for one database operation, named ``"{operation} {table}"``.

    Attributes follow the OTel database conventions: ``db.system`` (and its newer
    name ``db.system.name``), ``db.operation.name``, ``db.collection.name`` and,
    when given, ``db.query.text`` (pass a parameterised statement, never values).
    """
    attrs: dict[str, AttributeValue] = {
        "db.system": system,
        "db.system.name": system,
        "db.operation.name": operation,
        "db.collection.name": table,
    }
    if statement is not None:
        attrs["db.query.text"] = statement
    attrs.update(attributes or {})
    return trace_operation(f"{operation} {table}", attributes=attrs, kind=SpanKind.CLIENT)


class ExternalCall:
    """The outgoing call being traced: its span and the headers to send with it."""

    def __init__(self, span: Span, headers: dict[str, str]) -> None:
        self.span = span
        self.headers = headers

    def record_response(self, status_code: int) -> None:
        """Note the peer's answer; 5xx marks the span as an error (4xx is the caller's to judge)."""
        self.span.set_attribute("http.response.status_code", status_code)
        if status_code >= 500:
            self.span.set_status(Status(StatusCode.ERROR, f"HTTP {status_code}"))
            self.span.set_attribute("error.type", str(status_code))


@contextmanager
def trace_external(
    service: str,
    *,
    method: str = "GET",
    url: str | None = None,
    headers: Mapping[str, str] | None = None,
    attributes: Attributes | None = None,
) -> Iterator[ExternalCall]:
    """A client span for a call to ``service``; its trace context is injected into ``call.headers``.

    >>> with trace_external("fraud-service", method="POST", url=url) as call:
    ...     response = client.post(url, json=body, headers=call.headers)
    ...     call.record_response(response.status_code)
    """
    attrs: dict[str, AttributeValue] = {"peer.service": service, "http.request.method": method.upper()}
    if url is not None:
        parts = urlsplit(url)
        # Never the query string: it may carry tokens or personal data.
        attrs["url.full"] = f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}{parts.path}"
        if parts.hostname:
            attrs["server.address"] = parts.hostname
        if parts.port:
            attrs["server.port"] = parts.port
    attrs.update(attributes or {})
    with current_tracer().start_as_current_span(
        f"{method.upper()} {service}", kind=SpanKind.CLIENT, attributes=attrs
    ) as span:
        out = dict(headers or {})
        propagate.inject(out)
        yield ExternalCall(span, out)


def set_attributes(attributes: Attributes | None = None, /, **kwargs: AttributeValue) -> None:
    """Set attributes on the current span (no-op outside a recording span)."""
    span = trace.get_current_span()
    if span.is_recording():
        span.set_attributes({**(attributes or {}), **kwargs})


def add_event(name: str, attributes: Attributes | None = None, /, **kwargs: AttributeValue) -> None:
    """Add a timestamped event to the current span (no-op outside a recording span)."""
    span = trace.get_current_span()
    if span.is_recording():
        span.add_event(name, {**(attributes or {}), **kwargs})


def current_traceparent() -> str | None:
    """The W3C ``traceparent`` of the current span, or None outside a valid one.

    Server-rendered pages put it in ``<meta name="traceparent" content="...">``: fanz-rum.js
    then reports the page view, and the page's fetch/XHR calls, under the page's trace.

    >>> f'<meta name="traceparent" content="{current_traceparent()}">'
    """
    ctx = trace.get_current_span().get_span_context()
    if not ctx.is_valid:
        return None
    return f"00-{ctx.trace_id:032x}-{ctx.span_id:016x}-{int(ctx.trace_flags):02x}"

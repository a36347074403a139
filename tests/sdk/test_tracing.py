"""Tracing helpers: decorator and context manager, sync and async; DB and client spans."""

from __future__ import annotations

import pytest
from opentelemetry import trace
from opentelemetry.trace import SpanKind, StatusCode

from fanzwatch.sdk import add_event, set_attributes, trace_db, trace_external, trace_operation
from fanzwatch.sdk.testing import TelemetryCapture


@trace_operation("creator.payout", attributes={"payout.kind": "weekly"})
def payout(amount: int) -> int:
    set_attributes(**{"payout.amount": amount})
    return amount * 2


@trace_operation("creator.payout_async")
async def payout_async(amount: int) -> int:
    add_event("payout.queued", position=3)
    return amount + 1


def test_decorator_on_a_sync_function(cap: TelemetryCapture) -> None:
    assert payout(21) == 42
    span = cap.span("creator.payout")
    assert span.kind is SpanKind.INTERNAL
    assert dict(span.attributes or {}) == {"payout.kind": "weekly", "payout.amount": 21}
    assert payout.__name__ == "payout"


async def test_decorator_on_an_async_function(cap: TelemetryCapture) -> None:
    assert await payout_async(1) == 2
    span = cap.span("creator.payout_async")
    assert [(e.name, dict(e.attributes or {})) for e in span.events] == [("payout.queued", {"position": 3})]


async def test_context_managers_nest_sync_and_async(cap: TelemetryCapture) -> None:
    async with trace_operation("outer") as outer:
        outer.set_attribute("k", "v")
        with trace_operation("inner"):
            pass
    inner, outer_span = cap.spans()
    assert inner.parent is not None and inner.parent.span_id == outer_span.context.span_id
    assert outer_span.attributes == {"k": "v"}


def test_exceptions_are_recorded_and_re_raised(cap: TelemetryCapture) -> None:
    op = trace_operation("payment.capture")
    with pytest.raises(ValueError, match="card expired"), op:
        raise ValueError("card expired")
    span = cap.span("payment.capture")
    assert span.status.status_code is StatusCode.ERROR
    assert span.events[0].name == "exception"
    assert (span.events[0].attributes or {})["exception.type"] == "ValueError"


def test_trace_db_uses_database_conventions(cap: TelemetryCapture) -> None:
    with trace_db(
        operation="SELECT", table="payments", system="postgresql", statement="SELECT * FROM payments WHERE id = $1"
    ):
        pass
    span = cap.span("SELECT payments")
    assert span.kind is SpanKind.CLIENT
    assert dict(span.attributes or {}) == {
        "db.system": "postgresql",
        "db.system.name": "postgresql",
        "db.operation.name": "SELECT",
        "db.collection.name": "payments",
        "db.query.text": "SELECT * FROM payments WHERE id = $1",
    }


def test_trace_external_propagates_context_and_hides_secrets(cap: TelemetryCapture) -> None:
    with trace_operation("checkout"):
        url = "https://user:pw@api.processor.example:8443/v1/charges?token=secret"
        with trace_external("payment-processor", method="post", url=url, headers={"Accept": "json"}) as call:
            call.record_response(503)
            headers = call.headers
    client = cap.span("POST payment-processor")
    parent = cap.span("checkout")
    assert client.kind is SpanKind.CLIENT
    assert client.parent is not None and client.parent.span_id == parent.context.span_id
    assert headers["Accept"] == "json"
    assert (
        headers["traceparent"]
        == f"00-{client.context.trace_id:032x}-{client.context.span_id:016x}-{client.context.trace_flags:02x}"
    )
    assert dict(client.attributes or {}) == {
        "peer.service": "payment-processor",
        "http.request.method": "POST",
        "url.full": "https://api.processor.example:8443/v1/charges",
        "server.address": "api.processor.example",
        "server.port": 8443,
        "http.response.status_code": 503,
        "error.type": "503",
    }
    assert client.status.status_code is StatusCode.ERROR


def test_helpers_outside_any_span_are_harmless(cap: TelemetryCapture) -> None:
    assert not trace.get_current_span().is_recording()
    set_attributes(a=1)
    add_event("nothing")
    assert cap.spans() == ()


def test_helpers_work_before_telemetry_is_initialised() -> None:
    # Decorated at import time, called with no telemetry: the global no-op tracer.
    assert payout(1) == 2

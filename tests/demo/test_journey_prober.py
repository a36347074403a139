"""The journey prober (``fanzwatch.probes``) against the real demo platform and processor.

The platform runs in-process (ASGI) on a real processor served over HTTP; the prober's
spans go to an in-memory exporter, the platform's to its telemetry capture, so the test
sees the W3C trace context cross from one to the other.
"""

from __future__ import annotations

import httpx
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client import CollectorRegistry

from fanzwatch.probes import JourneyProber
from fanzwatch.sdk.testing import TelemetryCapture

from .conftest import ServedApp

STEPS = ["sign_in", "subscribe", "tip", "unlock_ppv"]


def _prober(client: httpx.AsyncClient, registry: CollectorRegistry, exporter: InMemorySpanExporter) -> JourneyProber:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return JourneyProber(
        client, platforms=("fanz-1",), location="eu-west", registry=registry, tracer=provider.get_tracer("test")
    )


def _value(registry: CollectorRegistry, name: str, **labels: str) -> float | None:
    return registry.get_sample_value(name, {"journey": "money", "platform": "fanz-1", "location": "eu-west", **labels})


async def test_a_healthy_journey_passes_every_step_timed_and_traced(
    client: httpx.AsyncClient, telemetry: TelemetryCapture
) -> None:
    registry, exporter = CollectorRegistry(), InMemorySpanExporter()
    prober = _prober(client, registry, exporter)
    first = await prober.walk("fanz-1")
    second = await prober.walk("fanz-1")  # the creator and the item are reused; a fresh fan buys again
    for result in (first, second):
        assert (result.ok, [s.step for s in result.steps], result.failed_step) == (True, STEPS, None)
    assert _value(registry, "fanz_journey_runs_total", result="success") == 2
    assert _value(registry, "fanz_journey_runs_total", result="failure") == 0
    assert _value(registry, "fanz_journey_success") == 1
    for step in STEPS:
        assert _value(registry, "fanz_journey_step_duration_seconds_count", step=step) == 2
        assert _value(registry, "fanz_journey_step_failures_total", step=step) == 0
    spans = exporter.get_finished_spans()
    roots = [s for s in spans if s.name == "journey.money"]
    assert len(roots) == 2
    children = [s.name for s in spans if s.parent is not None and s.parent.span_id == roots[0].context.span_id]
    assert children == [f"journey.step.{s}" for s in STEPS]
    # The platform's request spans belong to the journey's traces (traceparent sent with each call).
    journey_traces = {s.context.trace_id for s in roots}
    platform_traces = {s.context.trace_id for s in telemetry.spans()}
    assert journey_traces <= platform_traces


async def test_a_processor_outage_fails_the_journey_at_subscribe_and_stops_there(
    client: httpx.AsyncClient, processor: ServedApp
) -> None:
    registry, exporter = CollectorRegistry(), InMemorySpanExporter()
    prober = _prober(client, registry, exporter)
    async with httpx.AsyncClient(base_url=processor.url) as admin:
        await admin.put("/admin/faults/primary", json={"outage": True})
        result = await prober.walk("fanz-1")
    assert [(s.step, s.ok) for s in result.steps] == [("sign_in", True), ("subscribe", False)]
    assert result.steps[-1].reason == "HTTP 502, expected 201"
    assert _value(registry, "fanz_journey_success") == 0
    assert _value(registry, "fanz_journey_runs_total", result="failure") == 1
    assert _value(registry, "fanz_journey_step_failures_total", step="subscribe") == 1
    assert _value(registry, "fanz_journey_step_failures_total", step="tip") == 0
    assert _value(registry, "fanz_journey_step_duration_seconds_count", step="tip") is None  # never walked
    failed = [s for s in exporter.get_finished_spans() if s.name in ("journey.money", "journey.step.subscribe")]
    assert [s.status.description for s in failed] == ["HTTP 502, expected 201", "subscribe failed"]


class _BreakableTips(httpx.AsyncBaseTransport):
    """The platform; once ``broken``, a tip raises an exception httpx does not wrap (a bug, say)."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self._inner = inner
        self.broken = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.broken and request.url.path.endswith("/tips"):
            raise RuntimeError("tip handler bug")
        return await self._inner.handle_async_request(request)


async def test_a_step_that_raises_something_unexpected_fails_the_journey_and_is_counted(
    client: httpx.AsyncClient,
) -> None:
    registry, exporter = CollectorRegistry(), InMemorySpanExporter()
    transport = _BreakableTips(client._transport)
    async with httpx.AsyncClient(transport=transport, base_url=client.base_url) as breakable:
        prober = _prober(breakable, registry, exporter)
        assert (await prober.walk("fanz-1")).ok
        assert _value(registry, "fanz_journey_success") == 1
        transport.broken = True
        result = await prober.walk("fanz-1")
    assert [(s.step, s.ok) for s in result.steps] == [("sign_in", True), ("subscribe", True), ("tip", False)]
    assert result.steps[-1].reason == "RuntimeError: tip handler bug"
    assert _value(registry, "fanz_journey_success") == 0
    assert _value(registry, "fanz_journey_runs_total", result="failure") == 1
    assert _value(registry, "fanz_journey_step_failures_total", step="tip") == 1


async def test_a_platform_that_cannot_be_prepared_fails_sign_in_without_a_duration() -> None:
    registry, exporter = CollectorRegistry(), InMemorySpanExporter()
    async with httpx.AsyncClient(base_url="http://127.0.0.1:9", timeout=2.0) as unreachable:
        result = await _prober(unreachable, registry, exporter).walk("fanz-1")
    assert [(s.step, s.ok, s.seconds) for s in result.steps] == [("sign_in", False, None)]
    assert result.steps[0].reason.startswith("preparing: ConnectError")
    assert _value(registry, "fanz_journey_step_failures_total", step="sign_in") == 1
    # never started: no zero-second sign-in that would pull its p95 down during an outage
    assert _value(registry, "fanz_journey_step_duration_seconds_count", step="sign_in") is None

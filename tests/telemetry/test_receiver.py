"""The OTLP/HTTP receiver on a real ``fanzwatch serve`` and a real ``fanzwatch telemetry-store``.

The real OpenTelemetry SDK exporters send; what they sent is read back from the store
process exactly. Bad bodies get the documented 4xx and leave nothing behind; a store that
goes away turns the receiver to 503 ``Retry-After`` and back without a restart, and a server
stopped while the store is away spools what it had accepted and delivers it on its next start.
"""

from __future__ import annotations

import gzip
import logging
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span
from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, Status, StatusCode

from _waiting import wait_until

from ._processes import server_process, store_process

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1500)]  # two real processes, started more than once
LIMIT, INFLATED_LIMIT = 64 * 1024, 256 * 1024
PROTOBUF = {"content-type": "application/x-protobuf"}


class Stack:
    def __init__(self, data: Path) -> None:
        self.data = data
        self.store = store_process(data)
        self.server = server_process(
            data,
            store=self.store,
            env={
                "FANZWATCH_OTLP_MAX_REQUEST_BYTES": str(LIMIT),
                "FANZWATCH_OTLP_MAX_DECOMPRESSED_BYTES": str(INFLATED_LIMIT),
                "FANZWATCH_OTLP_RETRY_AFTER_SECONDS": "2",
                "FANZWATCH_OTLP_SHUTDOWN_FLUSH_SECONDS": "1",
            },
        )

    @property
    def otlp_token(self) -> str:
        return (self.data / "secrets" / "otlp_token").read_text().strip()

    def auth(self, **headers: str) -> dict[str, str]:
        return {"authorization": f"Bearer {self.otlp_token}", **headers}

    def query(self, name: str, **params: Any) -> list[dict[str, Any]]:
        token = (self.data / "secrets" / "telemetry_store_token").read_text().strip()
        answer = httpx.post(
            f"{self.store.url}/query/{name}", json=params, headers={"authorization": f"Bearer {token}"}, timeout=30
        )
        assert answer.status_code == 200, answer.text
        rows: list[dict[str, Any]] = answer.json()["rows"]
        return rows

    def counts(self) -> tuple[int, int]:
        row = self.query("counts")[0]
        return int(row["spans"]), int(row["logs"])


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    running = Stack(tmp_path_factory.mktemp("otlp"))
    try:
        running.store.start()
        running.server.start()
        yield running
    finally:
        for process in (running.server, running.store):
            if process.proc is not None:
                process.stop()


def _span(trace: int, span: int, name: str) -> Span:
    now = time.time_ns()
    return Span(
        trace_id=trace.to_bytes(16, "big"),
        span_id=span.to_bytes(8, "big"),
        name=name,
        start_time_unix_nano=now,
        end_time_unix_nano=now + 1000,
    )


def _body(*spans: Span) -> bytes:
    return ExportTraceServiceRequest(
        resource_spans=[ResourceSpans(scope_spans=[ScopeSpans(spans=spans)])]
    ).SerializeToString()


def _hex(value: int, width: int) -> str:
    return f"{value:0{width}x}"


def test_the_sdk_exporters_send_a_trace_and_its_logs_and_they_read_back_exactly(stack: Stack) -> None:
    resource = Resource.create({"service.name": "fanz-platform", "fanz.platform": "fanz-1"})
    auth = {"Authorization": f"Bearer {stack.otlp_token}"}
    tracer_provider = TracerProvider(resource=resource)
    kept = InMemorySpanExporter()
    tracer_provider.add_span_processor(SimpleSpanProcessor(kept))
    tracer_provider.add_span_processor(
        SimpleSpanProcessor(OTLPSpanExporter(endpoint=f"{stack.server.url}/v1/traces", headers=auth, timeout=10))
    )
    log_provider = LoggerProvider(resource=resource)
    log_provider.add_log_record_processor(
        SimpleLogRecordProcessor(OTLPLogExporter(endpoint=f"{stack.server.url}/v1/logs", headers=auth, timeout=10))
    )
    logger = logging.getLogger("tests.telemetry.payments")
    logger.propagate = False
    handler = LoggingHandler(level=logging.INFO, logger_provider=log_provider)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    tracer = tracer_provider.get_tracer("payments", "1.2")
    try:
        with tracer.start_as_current_span("POST /payments", kind=SpanKind.SERVER) as root:
            root.set_attribute("http.route", "/payments")
            root.set_attribute("http.response.status_code", 502)
            root.add_event("fraud.checked", {"fraud.score": 0.93})
            with tracer.start_as_current_span("fraud-check", kind=SpanKind.CLIENT) as child:
                child.set_status(Status(StatusCode.ERROR, "declined"))
                logger.error("payment declined for jane.doe@example.com: fraud score 0.93")
            logger.info("answered 502")
    finally:
        logger.removeHandler(handler)
        tracer_provider.shutdown()
        log_provider.shutdown()
    sdk_spans: dict[str, ReadableSpan] = {s.name: s for s in kept.get_finished_spans()}
    sdk_root, sdk_child = sdk_spans["POST /payments"], sdk_spans["fraud-check"]
    trace_id = _hex(sdk_root.context.trace_id, 32)
    spans = wait_until(
        lambda: stack.query("trace", trace_id=trace_id), until=lambda r: len(r) == 2, timeout=60, message="2 spans"
    )
    by_name = {s["SpanName"]: s for s in spans}
    server, client = by_name["POST /payments"], by_name["fraud-check"]
    assert server["SpanId"] == _hex(sdk_root.context.span_id, 16)
    assert client["SpanId"] == _hex(sdk_child.context.span_id, 16)
    assert client["ParentSpanId"] == server["SpanId"] and server["ParentSpanId"] == ""
    assert int(server["StartNanos"]) == sdk_root.start_time
    assert int(server["Duration"]) == sdk_root.end_time - sdk_root.start_time  # type: ignore[operator]
    assert (server["SpanKind"], client["SpanKind"]) == ("Server", "Client")
    assert (client["StatusCode"], client["StatusMessage"]) == ("Error", "declined")
    assert server["SpanAttributes"] == {"http.route": "/payments", "http.response.status_code": "502"}
    assert server["Events.Name"] == ["fraud.checked"] and server["Events.Attributes"] == [{"fraud.score": "0.93"}]
    assert server["ResourceAttributes"]["fanz.platform"] == "fanz-1"
    assert (server["ServiceName"], server["ScopeName"], server["ScopeVersion"]) == ("fanz-platform", "payments", "1.2")
    logs = wait_until(
        lambda: stack.query("logs_of_trace", trace_id=trace_id),
        until=lambda r: len(r) == 2,
        timeout=60,
        message="2 logs",
    )
    assert [(r["SeverityText"], r["SeverityNumber"], r["SpanId"]) for r in logs] == [
        ("ERROR", 17, client["SpanId"]),
        ("INFO", 9, server["SpanId"]),
    ]
    # The log body is scrubbed by the RUM rules before it is stored.
    assert logs[0]["Body"] == "payment declined for [email]: fraud score 0.93"
    assert logs[0]["ServiceName"] == "fanz-platform" and logs[0]["ResourceAttributes"]["fanz.platform"] == "fanz-1"
    searched = stack.query("search_logs", text="declined", trace_id=trace_id)
    assert [r["Body"] for r in searched] == ["payment declined for [email]: fraud score 0.93"]


def test_otlp_json_and_gzip_are_read_back_like_protobuf(stack: Stack) -> None:
    """A hand-built OTLP/JSON body (hex ids, camelCase, int64 as strings, enums as integers),
    gzip-compressed: the same rows as the SDK's protobuf encoding of the same span."""
    now = time.time_ns()
    trace_id, span_id = "5b8efff798038103d269b633813fc60c", "eee19b7ec3c1b174"
    body = {
        "resourceSpans": [
            {
                "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "payment-processor"}}]},
                "scopeSpans": [
                    {
                        "scope": {"name": "processor", "version": "2.0"},
                        "spans": [
                            {
                                "traceId": trace_id,
                                "spanId": span_id,
                                "name": "charge",
                                "kind": 2,
                                "startTimeUnixNano": str(now),
                                "endTimeUnixNano": str(now + 5_000_000),
                                "attributes": [
                                    {"key": "amount.cents", "value": {"intValue": "1999"}},
                                    {"key": "ok", "value": {"boolValue": True}},
                                ],
                                "status": {"code": 1},
                                "unknownField": "ignored, as the specification requires",
                            }
                        ],
                    }
                ],
            }
        ]
    }
    answer = httpx.post(
        f"{stack.server.url}/v1/traces",
        content=gzip.compress(httpx.Request("POST", "/", json=body).content),
        headers=stack.auth(**{"content-type": "application/json", "content-encoding": "gzip"}),
    )
    assert (answer.status_code, answer.headers["content-type"], answer.json()) == (200, "application/json", {})
    [row] = wait_until(lambda: stack.query("trace", trace_id=trace_id), timeout=60, message="the JSON span")
    assert (row["SpanId"], row["SpanName"], row["SpanKind"], row["StatusCode"]) == (span_id, "charge", "Server", "Ok")
    assert int(row["StartNanos"]) == now and int(row["Duration"]) == 5_000_000
    assert row["SpanAttributes"] == {"amount.cents": "1999", "ok": "true"}
    assert (row["ServiceName"], row["ScopeName"], row["ScopeVersion"]) == ("payment-processor", "processor", "2.0")


def test_a_request_with_a_bad_span_is_a_partial_success(stack: Stack) -> None:
    good = _span(0xABC, 0xDEF, "kept")
    bad = Span(trace_id=b"\x01" * 3, span_id=b"\x02" * 8, name="bad id")
    answer = httpx.post(f"{stack.server.url}/v1/traces", content=_body(good, bad), headers=stack.auth(**PROTOBUF))
    assert answer.status_code == 200
    response = ExportTraceServiceResponse.FromString(answer.content)
    assert response.partial_success.rejected_spans == 1
    assert response.partial_success.error_message == "1 spans with a malformed trace or span id were rejected"
    wait_until(lambda: stack.query("trace", trace_id=_hex(0xABC, 32)), timeout=60, message="the kept span")


def _bomb() -> bytes:
    return gzip.compress(b"\x00" * (INFLATED_LIMIT * 8))


BAD = [
    ("no token", {}, b"", {"authorization": ""}, 401),
    ("wrong token", {}, b"", {"authorization": "Bearer not-the-token"}, 401),
    ("not protobuf", PROTOBUF, b"\xff\xff\xff\xff not protobuf", {}, 400),
    ("not json", {"content-type": "application/json"}, b"{not json", {}, 400),
    ("json, not an object", {"content-type": "application/json"}, b"[1, 2]", {}, 400),
    ("broken gzip", PROTOBUF | {"content-encoding": "gzip"}, b"\x1f\x8b not gzip", {}, 400),
    ("truncated gzip", PROTOBUF | {"content-encoding": "gzip"}, gzip.compress(b"x" * 1000)[:20], {}, 400),
    ("over the limit", PROTOBUF, b"\x00" * (LIMIT + 1), {}, 413),
    ("gzip bomb", PROTOBUF | {"content-encoding": "gzip"}, _bomb(), {}, 413),
    ("text", {"content-type": "text/plain"}, b"hello", {}, 415),
    ("no content type", {}, b"hello", {}, 415),
    ("brotli", PROTOBUF | {"content-encoding": "br"}, b"hello", {}, 415),
]


def test_bad_bodies_get_the_documented_4xx_and_nothing_is_stored(stack: Stack) -> None:
    before = stack.counts()
    wrong: list[str] = []
    for path in ("/v1/traces", "/v1/logs"):
        for name, headers, content, auth, status in BAD:
            answer = httpx.post(f"{stack.server.url}{path}", content=content, headers=stack.auth(**headers) | auth)
            if answer.status_code != status or not answer.content:
                wrong.append(f"{path} {name}: {answer.status_code} {answer.content[:120]!r}")
            if status == 401 and answer.headers.get("www-authenticate") != "Bearer":
                wrong.append(f"{path} {name}: no WWW-Authenticate: Bearer")
    assert wrong == []
    # A good span sent after them is stored; the queue is in order, so nothing else came first.
    answer = httpx.post(
        f"{stack.server.url}/v1/traces", content=_body(_span(0xF00D, 0xBEEF, "marker")), headers=stack.auth(**PROTOBUF)
    )
    assert answer.status_code == 200
    wait_until(lambda: stack.query("trace", trace_id=_hex(0xF00D, 32)), timeout=60, message="the marker span")
    assert stack.counts() == (before[0] + 1, before[1])


def _send_until_refused(stack: Stack, first_id: int) -> tuple[list[int], httpx.Response]:
    """Send one-span requests until one is refused; the trace ids accepted before it, and the refusal."""
    accepted: list[int] = []
    for n in range(first_id, first_id + 200):
        answer = httpx.post(
            f"{stack.server.url}/v1/traces", content=_body(_span(n, 1, "while down")), headers=stack.auth(**PROTOBUF)
        )
        if answer.status_code != 200:
            return accepted, answer
        accepted.append(n)
        time.sleep(0.05)  # give the drainer its chance to find the store gone
    raise AssertionError(f"200 requests were all accepted with the store down: {accepted[:5]}...")


def test_store_down_is_503_with_retry_after_and_it_recovers_without_a_restart(stack: Stack) -> None:
    stack.store.stop()
    accepted, refused = _send_until_refused(stack, 0x1000)
    assert refused.status_code == 503 and refused.headers["retry-after"] == "2"
    assert "unavailable" in refused.content.decode(errors="replace")
    stack.store.start()

    def sent() -> int | None:
        n = 0x2000 + len(accepted)
        answer = httpx.post(
            f"{stack.server.url}/v1/traces", content=_body(_span(n, 1, "back")), headers=stack.auth(**PROTOBUF)
        )
        return n if answer.status_code == 200 else None

    back = wait_until(sent, timeout=60, message="the receiver never accepted again once the store was back")
    for n in [*accepted, back]:  # nothing accepted while the store was down is lost
        wait_until(lambda n=n: stack.query("trace", trace_id=_hex(n, 32)), timeout=60, message=f"span of trace {n}")


def test_a_server_stopped_while_the_store_is_down_spools_and_delivers_on_its_next_start(stack: Stack) -> None:
    stack.store.stop()
    accepted, _ = _send_until_refused(stack, 0x3000)
    assert accepted, "the first request after the store went away should have been accepted and held"
    assert stack.server.stop() in (0, -signal.SIGTERM)  # uvicorn re-raises the signal once shut down
    assert "Application shutdown complete" in stack.server.log_path.read_text()
    spooled = list((stack.data / "otlp-spool").glob("*.ndjson"))
    assert sum(path.read_bytes().count(b"\n") + 1 for path in spooled) == len(accepted)
    stack.store.start()
    stack.server.start()
    for n in accepted:
        wait_until(lambda n=n: stack.query("trace", trace_id=_hex(n, 32)), timeout=60, message=f"span of trace {n}")
    wait_until(lambda: not list((stack.data / "otlp-spool").iterdir()), timeout=30, message="spool not emptied")

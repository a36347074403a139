"""The pipeline's metrics move with what happens: each refusal by its reason, records queued and written,
write errors, queue depth, store state and the spool; gzip bombs cost nothing and decoding is bounded.

The receiver's own ASGI routes are driven with httpx; its queue posts through the real
``TelemetryStoreClient`` to the real store app (``build_store_app`` over a chDB store, in
process), to a TCP listener that never answers (a store stuck mid-merge) or to a closed port.
"""

from __future__ import annotations

import asyncio
import gzip
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord, ResourceLogs, ScopeLogs
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span, Status
from prometheus_client import CollectorRegistry

from _waiting import async_wait_until
from fanzwatch.core.catalog import otlp as catalog
from fanzwatch.telemetry import LOGS_TABLE, TRACES_TABLE, ChdbTelemetryStore
from fanzwatch.telemetry.client import TelemetryStoreClient
from fanzwatch.telemetry.metrics import OtlpMetrics
from fanzwatch.telemetry.queue import StoreQueue
from fanzwatch.telemetry.receiver import OtlpReceiver
from fanzwatch.telemetry.service import build_store_app

from ._processes import free_port

TOKEN = "otlp-token"
STORE_TOKEN = "store-token"
LIMIT, INFLATED_LIMIT = 4096, 16384
PROTOBUF = "application/x-protobuf"
AUTH = {"authorization": f"Bearer {TOKEN}", "content-type": PROTOBUF}


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChdbTelemetryStore]:
    opened = ChdbTelemetryStore(tmp_path_factory.mktemp("pipeline") / "telemetry")
    try:
        yield opened
    finally:
        opened.close()


def _spans(n: int, *, bad_ids: int = 0, first: int = 1) -> bytes:
    """Spans with a status message: free text the receiver scrubs (on its decoding thread)."""
    now = time.time_ns()
    spans = [
        Span(
            trace_id=(first + i).to_bytes(16, "big"),
            span_id=(first + i).to_bytes(8, "big") if i >= bad_ids else b"\x01\x02",  # 2-byte id: rejected
            name="POST /payments",
            start_time_unix_nano=now,
            end_time_unix_nano=now + 1000,
            status=Status(code=Status.STATUS_CODE_ERROR, message="card declined"),
        )
        for i in range(n)
    ]
    request = ExportTraceServiceRequest(resource_spans=[ResourceSpans(scope_spans=[ScopeSpans(spans=spans)])])
    return request.SerializeToString()


def _logs(n: int) -> bytes:
    now = time.time_ns()
    records = [LogRecord(time_unix_nano=now, severity_text="INFO") for _ in range(n)]
    request = ExportLogsServiceRequest(resource_logs=[ResourceLogs(scope_logs=[ScopeLogs(log_records=records)])])
    return request.SerializeToString()


class Pipeline:
    """A receiver, its queue and metrics, and an httpx client on the receiver's routes."""

    def __init__(self, receiver: OtlpReceiver, queue: StoreQueue, registry: CollectorRegistry) -> None:
        self.receiver, self.queue, self.registry = receiver, queue, registry
        app = FastAPI()
        app.include_router(receiver.router())
        self.http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://fanzwatch")

    def sample(self, name: str, **labels: str) -> float:
        return self.registry.get_sample_value(name, labels) or 0.0

    def requests(self) -> dict[tuple[str, str], float]:
        return {
            (signal, outcome): self.sample("fanz_otlp_requests_total", signal=signal, outcome=outcome)
            for signal in catalog.SIGNALS
            for outcome in catalog.REQUEST_OUTCOMES
        }

    def records(self, signal: str, outcome: str) -> float:
        return self.sample("fanz_otlp_records_total", signal=signal, outcome=outcome)

    async def post(self, path: str, body: bytes, headers: dict[str, str] | None = None) -> httpx.Response:
        return await self.http.post(path, content=body, headers=AUTH if headers is None else headers)


@asynccontextmanager
async def pipeline(
    store_url: str | None,
    *,
    store_http: httpx.AsyncClient | None = None,
    capacity_rows: int = 1000,
    spool_dir: Path | None = None,
    attach: bool = True,
    scrub: Callable[[str], str] | None = None,
) -> AsyncIterator[Pipeline]:
    """``store_url``: where the queue's client posts (None: the in-process store app, ``store_http``)."""
    registry = CollectorRegistry()
    metrics = OtlpMetrics(registry)
    receiver = OtlpReceiver(
        scrub=scrub, max_request_bytes=LIMIT, max_decompressed_bytes=INFLATED_LIMIT, metrics=metrics
    )
    async with httpx.AsyncClient() as own_http:
        client = TelemetryStoreClient(
            store_url or "http://store", STORE_TOKEN, http=store_http or own_http, timeout=30.0
        )
        queue = StoreQueue(client, capacity_rows=capacity_rows, batch_rows=1000, spool_dir=spool_dir, metrics=metrics)
        await queue.start()
        if attach:
            receiver.attach(queue, token=TOKEN)
        running = Pipeline(receiver, queue, registry)
        try:
            yield running
        finally:
            await running.http.aclose()
            await queue.stop(flush_seconds=0.5)


@pytest.fixture
async def store_http(store: ChdbTelemetryStore) -> AsyncIterator[httpx.AsyncClient]:
    app = build_store_app(store, token=STORE_TOKEN)  # its lifespan (which closes the store) is not run
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://store") as http:
        yield http


def _delta(before: dict[tuple[str, str], float], after: dict[tuple[str, str], float]) -> dict[tuple[str, str], float]:
    return {key: after[key] - before[key] for key in after if after[key] != before[key]}


BOMB = gzip.compress(b"\0" * (64 * INFLATED_LIMIT))  # ~1 KiB that inflates to 1 MiB


@pytest.mark.parametrize(
    ("path", "headers", "body", "status", "signal", "outcome"),
    [
        ("/v1/traces", {"content-type": PROTOBUF}, _spans(1), 401, "traces", "unauthorized"),
        ("/v1/logs", {**AUTH, "content-type": "text/plain"}, _logs(1), 415, "logs", "unsupported_media_type"),
        ("/v1/traces", {**AUTH, "content-encoding": "br"}, _spans(1), 415, "traces", "unsupported_media_type"),
        ("/v1/traces", AUTH, b"\0" * (LIMIT + 1), 413, "traces", "too_large"),
        ("/v1/logs", {**AUTH, "content-encoding": "gzip"}, BOMB, 413, "logs", "too_large"),
        ("/v1/traces", {**AUTH, "content-encoding": "gzip"}, b"\x1f\x8b not gzip", 400, "traces", "malformed"),
        ("/v1/logs", AUTH, b"\xff\xff\xff not protobuf", 400, "logs", "malformed"),
    ],
    ids=["no-token", "text-plain", "brotli", "over-limit", "gzip-bomb", "broken-gzip", "not-protobuf"],
)
async def test_each_refusal_is_counted_once_by_signal_and_reason_and_nothing_is_queued(
    store_http: httpx.AsyncClient,
    store: ChdbTelemetryStore,
    path: str,
    headers: dict[str, str],
    body: bytes,
    status: int,
    signal: str,
    outcome: str,
) -> None:
    async with pipeline(None, store_http=store_http) as p:
        before = p.requests()
        spans, logs = store.count(TRACES_TABLE), store.count(LOGS_TABLE)
        answer = await p.post(path, body, headers)
        assert answer.status_code == status, answer.text
        assert _delta(before, p.requests()) == {(signal, outcome): 1.0}
        assert p.queue.queued_rows == 0
        assert p.sample("fanz_otlp_queued_records", signal=signal) == 0
    assert (store.count(TRACES_TABLE), store.count(LOGS_TABLE)) == (spans, logs)  # nothing stored


async def test_a_client_gone_mid_body_is_a_counted_refusal_not_a_500(store_http: httpx.AsyncClient) -> None:
    """The client disconnects after part of its declared body: refused as malformed, counted, nothing queued."""
    body = _spans(3)
    assert len(body) < LIMIT
    async with pipeline(None, store_http=store_http) as p:
        app = FastAPI()
        app.include_router(p.receiver.router())
        messages = [
            {"type": "http.request", "body": body[: len(body) // 2], "more_body": True},
            {"type": "http.disconnect"},
        ]
        sent: list[dict[str, object]] = []

        async def receive() -> dict[str, object]:
            return messages.pop(0) if messages else {"type": "http.disconnect"}

        async def send(message: dict[str, object]) -> None:
            sent.append(message)

        headers = [(k.encode(), v.encode()) for k, v in {**AUTH, "content-length": str(len(body))}.items()]
        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
            "scheme": "http", "path": "/v1/traces", "raw_path": b"/v1/traces", "query_string": b"",
            "headers": headers, "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80),
        }  # fmt: skip
        before = p.requests()
        await app(scope, receive, send)
        assert sent[0]["type"] == "http.response.start" and sent[0]["status"] == 400, sent[0]
        assert _delta(before, p.requests()) == {("traces", "malformed"): 1.0}
        assert p.queue.queued_rows == 0


async def test_a_receiver_not_started_counts_not_ready() -> None:
    async with pipeline("http://127.0.0.1:9", attach=False) as p:
        answer = await p.post("/v1/logs", _logs(2))
        assert answer.status_code == 503 and answer.headers["retry-after"] == "5"
        assert _delta({k: 0.0 for k in p.requests()}, p.requests()) == {("logs", "not_ready"): 1.0}


async def test_accepted_records_are_queued_written_and_timed(
    store_http: httpx.AsyncClient, store: ChdbTelemetryStore
) -> None:
    async with pipeline(None, store_http=store_http) as p:
        spans, logs = store.count(TRACES_TABLE), store.count(LOGS_TABLE)
        traces = await p.post("/v1/traces", _spans(5, bad_ids=2, first=1000))
        assert traces.status_code == 200
        assert (await p.post("/v1/logs", _logs(4))).status_code == 200
        assert p.sample("fanz_otlp_requests_total", signal="traces", outcome="accepted") == 1
        assert p.sample("fanz_otlp_requests_total", signal="logs", outcome="accepted") == 1
        assert p.records("traces", "accepted") == 3
        assert p.records("traces", "invalid") == 2  # the partial success
        assert p.records("logs", "accepted") == 4
        await async_wait_until(
            lambda: (
                p.sample("fanz_otlp_stored_records_total", signal="logs") == 4
                and p.sample("fanz_otlp_stored_records_total", signal="traces") == 3
            ),
            timeout=60,
            message="both batches written",
        )
        for signal in catalog.SIGNALS:
            assert p.sample("fanz_otlp_queued_records", signal=signal) == 0
            assert p.sample("fanz_otlp_store_write_duration_seconds_count", signal=signal) == 1
            assert p.sample("fanz_otlp_store_write_duration_seconds_sum", signal=signal) > 0
            assert p.sample("fanz_otlp_store_write_errors_total", signal=signal, error="unavailable") == 0
        assert p.sample("fanz_otlp_store_up") == 1
        assert p.sample("fanz_otlp_queue_capacity_records") == 1000
    assert (store.count(TRACES_TABLE), store.count(LOGS_TABLE)) == (spans + 3, logs + 4)


async def test_a_full_queue_refuses_with_back_pressure_before_and_after_decoding() -> None:
    held: list[asyncio.StreamWriter] = []
    connected = asyncio.Event()

    async def never_answer(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)
        connected.set()

    server = await asyncio.start_server(never_answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server, pipeline(f"http://127.0.0.1:{port}", capacity_rows=5) as p:
        assert (await p.post("/v1/traces", _spans(3))).status_code == 200
        await asyncio.wait_for(connected.wait(), timeout=30)  # the batch is out, unanswered
        assert p.sample("fanz_otlp_queued_records", signal="traces") == 3
        # 3 + 4 > 5: decoded, then refused whole
        refused = await p.post("/v1/traces", _spans(4, first=10))
        assert refused.status_code == 503 and refused.headers["retry-after"] == "5"
        assert p.records("traces", "back_pressure") == 4
        assert (await p.post("/v1/logs", _logs(2))).status_code == 200  # 5: exactly full
        assert p.sample("fanz_otlp_queued_records", signal="logs") == 2
        # full: refused before the body is read, so no records are counted
        assert (await p.post("/v1/logs", _logs(1))).status_code == 503
        assert p.records("logs", "back_pressure") == 0
        assert p.sample("fanz_otlp_requests_total", signal="traces", outcome="back_pressure") == 1
        assert p.sample("fanz_otlp_requests_total", signal="logs", outcome="back_pressure") == 1
        assert p.sample("fanz_otlp_store_up") == 1  # busy, not down
        for writer in held:
            writer.close()


async def test_a_store_that_is_down_is_reported_and_refused_until_it_is_back(
    store_http: httpx.AsyncClient, tmp_path: Path
) -> None:
    spool = tmp_path / "spool"
    async with pipeline(f"http://127.0.0.1:{free_port()}", spool_dir=spool) as p:  # nothing listens there
        assert (await p.post("/v1/traces", _spans(2, first=2000))).status_code == 200
        await async_wait_until(
            lambda: p.sample("fanz_otlp_store_up") == 0, timeout=30, message="the store reported down"
        )
        assert p.sample("fanz_otlp_store_write_errors_total", signal="traces", error="unavailable") >= 1
        assert p.sample("fanz_otlp_stored_records_total", signal="traces") == 0
        refused = await p.post("/v1/logs", _logs(1))
        assert refused.status_code == 503 and refused.headers["retry-after"] == "5"
        assert p.sample("fanz_otlp_requests_total", signal="logs", outcome="store_unavailable") == 1
        assert p.sample("fanz_otlp_queued_records", signal="traces") == 2
        assert (p.sample("fanz_otlp_spool_files"), p.sample("fanz_otlp_spool_bytes")) == (0, 0)
    # stopped with the store away: the batch is spooled, and the next server sees it on disk
    files = list(spool.glob("*.ndjson"))
    assert len(files) == 1
    size = files[0].stat().st_size
    (spool / "notes.txt").write_text("not a batch")  # foreign files are not counted
    async with pipeline(f"http://127.0.0.1:{free_port()}", spool_dir=spool) as p:
        assert (p.sample("fanz_otlp_spool_files"), p.sample("fanz_otlp_spool_bytes")) == (1, size)
        assert p.sample("fanz_otlp_queued_records", signal="traces") == 2  # replayed into the queue
    async with pipeline(None, store_http=store_http, spool_dir=spool) as p:  # the store is back
        await async_wait_until(
            lambda: p.sample("fanz_otlp_stored_records_total", signal="traces") == 2,
            timeout=60,
            message="the spooled batch delivered",
        )
        await async_wait_until(
            lambda: p.sample("fanz_otlp_spool_files") == 0, timeout=30, message="the spool file removed"
        )
        assert p.sample("fanz_otlp_spool_bytes") == 0
        assert p.sample("fanz_otlp_store_up") == 1


async def test_decoding_runs_on_at_most_the_limiters_threads(store_http: httpx.AsyncClient) -> None:
    """Six requests at once: all reach the limiter, two decode (held inside), four wait; never three."""
    gate = threading.Event()
    lock = threading.Lock()
    inside = {"now": 0, "peak": 0}

    def scrub(text: str) -> str:  # called on the decoding thread, once per span's status message
        with lock:
            inside["now"] += 1
            inside["peak"] = max(inside["peak"], inside["now"])
        gate.wait(timeout=60)
        with lock:
            inside["now"] -= 1
        return text

    async with pipeline(None, store_http=store_http, scrub=scrub) as p:
        limiter = p.receiver.decode_limiter
        assert limiter.total_tokens == 2
        gzipped = {**AUTH, "content-encoding": "gzip"}  # inflated on the same limited threads
        sends = [
            asyncio.create_task(p.post("/v1/traces", gzip.compress(_spans(1, first=3000 + i)), gzipped))
            for i in range(6)
        ]

        def all_arrived() -> bool:
            stats = limiter.statistics()
            return stats.borrowed_tokens == 2 and stats.tasks_waiting == 4 and inside["now"] == 2

        await async_wait_until(all_arrived, timeout=60, message="two decoding, four waiting")
        assert inside["peak"] == 2
        # Four waiting is the bound here: the next request is refused before its body is read.
        p.receiver.max_waiting_decodes = 4
        seventh = await p.post("/v1/traces", gzip.compress(_spans(1, first=4000)), gzipped)
        assert seventh.status_code == 503 and seventh.headers["retry-after"] == "5"
        assert p.sample("fanz_otlp_requests_total", signal="traces", outcome="back_pressure") == 1
        gate.set()
        answers = await asyncio.gather(*sends)
    assert [a.status_code for a in answers] == [200] * 6
    assert inside["peak"] == 2
    assert limiter.statistics().borrowed_tokens == 0


async def test_a_request_larger_than_the_whole_queue_is_413_not_a_503_retried_for_ever(
    store_http: httpx.AsyncClient,
) -> None:
    async with pipeline(None, store_http=store_http, capacity_rows=5) as p:
        answer = await p.post("/v1/traces", _spans(6))
        assert answer.status_code == 413 and "retry-after" not in answer.headers
        assert "at most 5 records" in answer.text
        assert p.records("traces", "too_large") == 6
        assert p.sample("fanz_otlp_requests_total", signal="traces", outcome="too_large") == 1
        assert p.sample("fanz_otlp_queued_records", signal="traces") == 0
        assert (await p.post("/v1/traces", _spans(5, first=20))).status_code == 200  # exactly the queue: taken

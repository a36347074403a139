"""Traces: OTLP protobuf decode rate, and chDB vs a SQLite table store on the same spans.

A first, small run (issue 18): the HTTP receiver is not built yet, so "ingest" here is the
receiver's decode step alone (protobuf → exporter rows) on one core, then a batched insert
into each store; queries are trace by id and service+route+min-duration over 24 h, p50 of
``--repeats``. Run: ``nice -n 10 .venv/bin/python bench/bench_telemetry.py --spans 200000``.
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span

from fanzwatch.telemetry import TRACES_TABLE, ChdbTelemetryStore
from fanzwatch.telemetry.otlp import decode_traces

SERVICES = ("fanz-platform", "payment-processor", "fanzwatch")
ROUTES = ("/payments", "/creators/{id}", "/feed", "/subscriptions", "/health")


def _kv(key: str, value: str) -> KeyValue:
    return KeyValue(key=key, value=AnyValue(string_value=value))


def _requests(spans: int, batch: int, rng: random.Random) -> list[bytes]:
    now = time.time_ns()
    bodies = []
    for start in range(0, spans, batch):
        service = SERVICES[start // batch % len(SERVICES)]
        items = []
        for i in range(start, min(spans, start + batch)):
            t = now - rng.randrange(86_400 * 10**9)
            items.append(
                Span(
                    trace_id=(i // 8).to_bytes(16, "big"),
                    span_id=(i + 1).to_bytes(8, "big"),
                    name=f"GET {ROUTES[i % len(ROUTES)]}",
                    kind=2,
                    start_time_unix_nano=t,
                    end_time_unix_nano=t + rng.randrange(1, 2 * 10**9),
                    attributes=[_kv("http.route", ROUTES[i % len(ROUTES)]), _kv("http.request.method", "GET")],
                )
            )
        resource = Resource(attributes=[_kv("service.name", service), _kv("fanz.platform", f"fanz-{start % 13}")])
        request = ExportTraceServiceRequest(
            resource_spans=[ResourceSpans(resource=resource, scope_spans=[ScopeSpans(spans=items)])]
        )
        bodies.append(request.SerializeToString())
    return bodies


def _p50_ms(fn: object, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--spans", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=9)
    args = parser.parse_args()
    rng = random.Random(18)
    bodies = _requests(args.spans, args.batch, rng)
    cpu = time.process_time()
    rows = []
    for body in bodies:
        decoded, _ = decode_traces(body)
        rows.extend(decoded)
    decode_rate = len(rows) / (time.process_time() - cpu)
    print(f"decode OTLP protobuf → rows: {decode_rate:,.0f} spans/s of CPU ({len(rows):,} spans)")

    with tempfile.TemporaryDirectory() as tmp:
        store = ChdbTelemetryStore(Path(tmp) / "chdb", ttl_days=7)
        cpu = time.process_time()
        for i in range(0, len(rows), 50_000):
            store.insert(TRACES_TABLE, rows[i : i + 50_000])
        print(f"chDB insert (JSONEachRow, 50k batches): {len(rows) / (time.process_time() - cpu):,.0f} spans/s of CPU")

        db = sqlite3.connect(Path(tmp) / "spans.sqlite")
        db.execute(
            "CREATE TABLE spans (ts INTEGER, trace_id TEXT, span_id TEXT, service TEXT, route TEXT, "
            "duration INTEGER, attributes TEXT)"
        )
        db.execute("CREATE INDEX spans_trace ON spans (trace_id)")
        db.execute("CREATE INDEX spans_search ON spans (service, route, ts)")
        cpu = time.process_time()
        db.executemany(
            "INSERT INTO spans VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    int(r["Timestamp"].replace(".", "")),
                    r["TraceId"],
                    r["SpanId"],
                    r["ServiceName"],
                    r["SpanAttributes"]["http.route"],
                    r["Duration"],
                    str(r["SpanAttributes"]),
                )
                for r in rows
            ],
        )
        db.commit()
        print(f"SQLite insert (executemany, indexed): {len(rows) / (time.process_time() - cpu):,.0f} spans/s of CPU")

        trace_id = rows[len(rows) // 2]["TraceId"]
        since = time.time_ns() - 86_400 * 10**9
        sql_search = (
            f"SELECT TraceId, SpanId, Duration FROM {TRACES_TABLE} WHERE ServiceName = {{s:String}} "
            "AND HttpRoute = {r:String} AND Duration >= {d:UInt64} "
            "AND Timestamp >= fromUnixTimestamp64Nano({t:Int64}) ORDER BY Timestamp DESC LIMIT 100"
        )
        params = {"s": "fanz-platform", "r": "/payments", "d": 1_500_000_000, "t": since}
        results = {
            "trace by id": (
                _p50_ms(lambda: store.trace(trace_id), args.repeats),
                _p50_ms(
                    lambda: db.execute("SELECT * FROM spans WHERE trace_id = ? ORDER BY ts", (trace_id,)).fetchall(),
                    args.repeats,
                ),
            ),
            "service+route+min duration, 24 h": (
                _p50_ms(lambda: store.query(sql_search, params), args.repeats),
                _p50_ms(
                    lambda: db.execute(
                        "SELECT trace_id, span_id, duration FROM spans WHERE service = ? AND route = ? "
                        "AND duration >= ? AND ts >= ? ORDER BY ts DESC LIMIT 100",
                        ("fanz-platform", "/payments", 1_500_000_000, since),
                    ).fetchall(),
                    args.repeats,
                ),
            ),
        }
        print(f"\n{len(rows):,} spans stored; p50 of {args.repeats}, load average {os.getloadavg()[0]:.1f}")
        for name, (chdb_ms, sqlite_ms) in results.items():
            print(f"  {name:36s} chDB {chdb_ms:8.1f} ms   SQLite {sqlite_ms:8.1f} ms")
        store.close()


if __name__ == "__main__":
    main()

"""Traces: ingest through the OTLP/HTTP receiver, decode rate, and chDB vs a SQLite table store.

``--http`` (issue 18's ingest figure): a real ``fanzwatch telemetry-store`` and a real
``fanzwatch serve`` (one worker: one core), OTLP protobuf requests of ``--batch`` spans
posted by ``--senders`` concurrent connections from this process; the figure is spans per
CPU-second of the server process (from /proc), and spans/s of wall time until every span is
in the store (counted by the store). Then, as without it: the receiver's decode step alone
(protobuf → exporter rows) on one core, a batched insert into each store; queries are trace
by id and service+route+min-duration over 24 h, p50 of ``--repeats``.
Run: ``nice -n 10 .venv/bin/python bench/bench_telemetry.py --spans 200000 [--http]``.

Side by side with a baseline (``--baseline main``, the default; ``--baseline ''`` for none):
that git ref's ``src/`` is exported to a temporary directory and, in the same invocation,
both trees run the same figures, each in its own interpreter (``PYTHONPATH``): the decode
step (``decode_traces`` + ``encode_rows``, what the receiver runs per request) with the
garbage collections it causes over a server-sized heap, and with ``--http`` a whole stack
(server and store of that tree, ``--warmup`` requests sent first and not counted),
``--rounds`` times, alternating, with the load average before each run (figures from a
loaded machine are not comparable: see docs/benchmarks.md).

``--queries`` (``bench_queries``): the read side at scale, ``--spans`` spans and as many logs
filled inside each engine, then FanzDash's own reads (``TelemetryReader`` named queries:
trace by id, service+route+min duration over 24 h, log words over 24 h, a common and a rare
word) against indexed SQLite tables. Run:
``nice -n 10 .venv/bin/python bench/bench_telemetry.py --queries --spans 10000000``.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import random
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span

from fanzwatch.telemetry import TRACES_TABLE, ChdbTelemetryStore
from fanzwatch.telemetry.client import encode_rows
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


def _span_count(body: bytes) -> int:
    request = ExportTraceServiceRequest.FromString(body)
    return sum(len(scope.spans) for resource in request.resource_spans for scope in resource.scope_spans)


def _p50_ms(fn: object, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


# -- queries at scale (issue 18: 10 M spans) ------------------------------------------------
# The stores are filled by SQL inside each engine (INSERT ... SELECT over a number series):
# the query figures need 10 M stored rows, not 10 M rows pushed through Python (the ingest
# figures above measure that path). Spans: 8 per trace over the last 24 h, 6 services,
# 6 routes, 13 platforms, durations 0-2 s; logs: one per span, a few words from a small
# vocabulary plus a payment id, so a common word (~1/12 of records) and a rare one (one
# payment id) are both searched.

_LOG_WORDS = ("accepted", "queued", "retried", "declined", "settled", "refunded", "started", "checked",
              "cached", "renewed", "expired", "flagged")  # fmt: skip


def _chdb_fill(store: ChdbTelemetryStore, n: int, now_ns: int) -> None:
    services = "['fanz-platform','payment-processor','fanzwatch','fanz-feed','fanz-media','fanz-auth']"
    routes = (
        "['/payments','/creators/{id}','/feed','/subscriptions','/health',"
        "'/p/{platform}/api/v1/content/{content_id}/purchases']"
    )
    platform = "concat('fanz-', toString(cityHash64(number, 4) % 13 + 1))"
    words = "[" + ",".join(f"'{w}'" for w in _LOG_WORDS) + "]"
    trace = "lower(concat(hex(cityHash64(intDiv(number, 8))), hex(cityHash64(intDiv(number, 8), 1))))"
    start = f"toInt64({now_ns} - (cityHash64(intDiv(number, 8), 3) % 86400000000000) + (number % 8) * 1000000)"
    store.query(
        f"""INSERT INTO otel_traces (Timestamp, TraceId, SpanId, ParentSpanId, SpanName, SpanKind, ServiceName,
        ResourceAttributes, SpanAttributes, Duration, StatusCode)
        SELECT fromUnixTimestamp64Nano({start}), {trace}, lower(hex(cityHash64(number, 2))),
          if(number % 8 = 0, '', lower(hex(cityHash64(number - 1, 2)))),
          concat('GET ', {routes}[number % 6 + 1]), 'Server', {services}[intDiv(number, 8) % 6 + 1],
          map('service.name', {services}[intDiv(number, 8) % 6 + 1], 'fanz.platform', {platform}),
          map('http.route', {routes}[number % 6 + 1], 'http.request.method', 'GET'),
          cityHash64(number, 5) % 2000000000, if(cityHash64(number, 6) % 100 = 0, 'Error', 'Unset')
        FROM numbers({n})"""
    )
    store.query(
        f"""INSERT INTO otel_logs (Timestamp, TraceId, SpanId, SeverityText, SeverityNumber, ServiceName, Body,
        ResourceAttributes)
        SELECT fromUnixTimestamp64Nano({start} + 500000), {trace}, lower(hex(cityHash64(number, 2))),
          if(cityHash64(number, 6) % 100 = 0, 'ERROR', 'INFO'), if(cityHash64(number, 6) % 100 = 0, 17, 9),
          {services}[intDiv(number, 8) % 6 + 1],
          concat('payment ', {words}[cityHash64(number, 7) % 12 + 1], ' for creator c-',
            toString(cityHash64(number, 8) % 100000), ' payment pay-', toString(number)),
          map('fanz.platform', {platform})
        FROM numbers({n})"""
    )


def _sqlite_fill(db: sqlite3.Connection, n: int, now_ns: int) -> None:
    """The same shape as ``_chdb_fill``, generated by SQLite itself (a recursive series)."""
    services = '\'["fanz-platform","payment-processor","fanzwatch","fanz-feed","fanz-media","fanz-auth"]\''
    routes = (
        '\'["/payments","/creators/{id}","/feed","/subscriptions","/health",'
        '"/p/{platform}/api/v1/content/{content_id}/purchases"]\''
    )
    words = "'[" + ",".join(f'"{w}"' for w in _LOG_WORDS) + "]'"
    db.executescript(
        """CREATE TABLE spans (ts INTEGER, trace_id TEXT, span_id TEXT, parent TEXT, name TEXT, service TEXT,
             platform TEXT, route TEXT, duration INTEGER, status TEXT, attributes TEXT);
           CREATE TABLE logs (ts INTEGER, trace_id TEXT, span_id TEXT, severity INTEGER, service TEXT,
             platform TEXT, body TEXT);"""
    )
    series = f"WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < {n - 1})"
    ts = f"({now_ns} - ((i / 8) * 2654435761 % 86400000000000) + (i % 8) * 1000000)"
    trace = "printf('%016x%016x', (i / 8) * 40503 % 4294967296, i / 8)"
    service = f"json_extract({services}, '$[' || ((i / 8) % 6) || ']')"
    route = f"json_extract({routes}, '$[' || (i % 6) || ']')"
    platform = "'fanz-' || (abs(random()) % 13 + 1)"
    db.execute(
        f"""INSERT INTO spans {series}
        SELECT {ts}, {trace}, printf('%016x', i), CASE WHEN i % 8 = 0 THEN '' ELSE printf('%016x', i - 1) END,
          'GET ' || {route}, {service}, {platform}, {route}, abs(random()) % 2000000000,
          CASE WHEN abs(random()) % 100 = 0 THEN 'Error' ELSE 'Unset' END,
          json_object('http.route', {route}, 'http.request.method', 'GET')
        FROM s"""
    )
    db.execute(
        f"""INSERT INTO logs {series}
        SELECT {ts} + 500000, {trace}, printf('%016x', i), CASE WHEN abs(random()) % 100 = 0 THEN 17 ELSE 9 END,
          {service}, {platform},
          'payment ' || json_extract({words}, '$[' || (abs(random()) % 12) || ']') || ' for creator c-'
            || (abs(random()) % 100000) || ' payment pay-' || i
        FROM s"""
    )
    db.executescript(
        """CREATE INDEX spans_trace ON spans (trace_id);
           CREATE INDEX spans_search ON spans (service, route, ts);
           CREATE INDEX logs_ts ON logs (ts);
           CREATE INDEX logs_trace ON logs (trace_id);"""
    )
    db.commit()


def bench_queries(n: int, repeats: int, keep: Path | None) -> None:
    """Trace by id, service+route+min duration over 24 h, log text search over 24 h (common and
    rare word), at ``n`` spans and ``n`` logs, chDB (the FanzDash queries) vs SQLite (indexed)."""
    import asyncio

    from fanzwatch.telemetry.reader import EmbeddedQueries, LogSearch, TelemetryReader, TraceSearch

    now_ns = time.time_ns()
    with tempfile.TemporaryDirectory(dir=keep) as tmp:
        t = time.perf_counter()
        store = ChdbTelemetryStore(Path(tmp) / "chdb", ttl_days=7)
        _chdb_fill(store, n, now_ns)
        print(f"chDB filled with {n:,} spans and {n:,} logs in {time.perf_counter() - t:.0f} s")
        t = time.perf_counter()
        db = sqlite3.connect(Path(tmp) / "telemetry.sqlite")
        db.execute("PRAGMA journal_mode=WAL")
        _sqlite_fill(db, n, now_ns)
        print(f"SQLite filled with {n:,} spans and {n:,} logs in {time.perf_counter() - t:.0f} s")
        reader = TelemetryReader(EmbeddedQueries(store))  # the named queries FanzDash and the API run
        day = {"start_ns": now_ns - 86_400 * 10**9, "end_ns": now_ns + 10**9}
        chdb_trace = store.query("SELECT TraceId FROM otel_traces WHERE ServiceName = 'fanz-feed' LIMIT 1")[0][
            "TraceId"
        ]
        sqlite_trace = db.execute("SELECT trace_id FROM spans WHERE rowid = ?", (n // 2,)).fetchone()[0]
        route, rare = "/payments", f"pay-{n // 3}"
        search = TraceSearch(**day, service="fanz-platform", route=route, min_duration_ns=1_500_000_000, limit=100)
        since = day["start_ns"]

        def sqlite_search() -> object:
            return db.execute(
                "SELECT trace_id, min(ts), max(duration), count(*) FROM spans WHERE service = ? AND route = ? "
                "AND duration >= ? AND ts >= ? GROUP BY trace_id ORDER BY min(ts) DESC LIMIT 100",
                ("fanz-platform", route, 1_500_000_000, since),
            ).fetchall()

        def sqlite_logs(word: str) -> object:
            return db.execute(
                "SELECT ts, trace_id, severity, service, body FROM logs WHERE ts >= ? AND body LIKE ? "
                "ORDER BY ts DESC LIMIT 100",
                (since, f"%{word}%"),
            ).fetchall()

        assert len(asyncio.run(reader.spans_of_trace(chdb_trace))) == 8
        assert len(asyncio.run(reader.search_logs(LogSearch(**day, text=rare, limit=100)))) == 1
        results = {
            "trace by id (8 spans)": (
                lambda: asyncio.run(reader.spans_of_trace(chdb_trace)),
                lambda: db.execute("SELECT * FROM spans WHERE trace_id = ? ORDER BY ts", (sqlite_trace,)).fetchall(),
            ),
            "service+route+min duration, 24 h": (lambda: asyncio.run(reader.search_traces(search)), sqlite_search),
            "log words, 24 h: common (declined)": (
                lambda: asyncio.run(reader.search_logs(LogSearch(**day, text="declined", limit=100))),
                lambda: sqlite_logs("declined"),
            ),
            f"log words, 24 h: rare ({rare})": (
                lambda: asyncio.run(reader.search_logs(LogSearch(**day, text=rare, limit=100))),
                lambda: sqlite_logs(rare),
            ),
        }
        print(f"\n{n:,} spans + {n:,} logs stored; p50 of {repeats}, load average {os.getloadavg()[0]:.1f}")
        for name, (on_chdb, on_sqlite) in results.items():
            chdb_ms, sqlite_ms = _p50_ms(on_chdb, repeats), _p50_ms(on_sqlite, repeats)
            print(f"  {name:40s} chDB {chdb_ms:8.1f} ms   SQLite {sqlite_ms:8.1f} ms")
        store.close()
        db.close()


FANZWATCH = (sys.executable, "-c", "import sys; sys.argv[0] = 'fanzwatch'; from fanzwatch.cli import main; main()")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def _start(argv: tuple[str, ...], url: str, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(argv, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{argv[3]} exited: {log.read_text()[-2000:]}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return proc
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"{argv[3]} not ready: {log.read_text()[-2000:]}")


def _env(src: Path | None) -> dict[str, str]:
    """The environment of a child running ``src``'s fanzwatch (None: the installed one)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FANZWATCH_")}
    if src is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(src), *filter(None, [os.environ.get("PYTHONPATH")])])
    return env


def _http_ingest(
    bodies: list[bytes], spans: int, senders: int, tmp: Path, src: Path | None, *, warmup_requests: int = 0
) -> dict[str, float]:
    """Spans/s through the receiver: CPU of the server process (and of the store process),
    and wall time until all are stored."""
    data = tmp / "stack"
    store_port, server_port = _free_port(), _free_port()
    env = _env(src)
    env |= {"FANZWATCH_ANOMALY_ENABLED": "false", "FANZWATCH_DASH_PROMETHEUS_URL": ""}
    env |= {
        "FANZWATCH_TELEMETRY_STORE_URL": f"http://127.0.0.1:{store_port}",
        "FANZWATCH_HEALTH_SERVER_CHECKS": "false",
    }
    store = _start(
        (*FANZWATCH, "telemetry-store", "--port", str(store_port), "--data-dir", str(data)),
        f"http://127.0.0.1:{store_port}/health",
        env,
        tmp / "store.log",
    )
    server = _start(
        (*FANZWATCH, "serve", "--port", str(server_port), "--data-dir", str(data)),
        f"http://127.0.0.1:{server_port}/health/live",
        env,
        tmp / "server.log",
    )
    otlp = (data / "secrets" / "otlp_token").read_text().strip()
    internal = (data / "secrets" / "telemetry_store_token").read_text().strip()
    headers = {"authorization": f"Bearer {otlp}", "content-type": "application/x-protobuf"}

    def stored() -> int:
        answer = httpx.post(
            f"http://127.0.0.1:{store_port}/query/counts", json={}, headers={"authorization": f"Bearer {internal}"}
        )
        return int(answer.json()["rows"][0]["spans"])

    async def send(bodies: list[bytes]) -> int:
        pending = list(reversed(bodies))
        refused = 0
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server_port}", timeout=60) as http:

            async def sender() -> None:
                nonlocal refused
                while pending:
                    body = pending.pop()
                    answer = await http.post("/v1/traces", content=body, headers=headers)
                    if answer.status_code == 503:  # back-pressure: wait as told, send it again
                        refused += 1
                        pending.append(body)
                        await asyncio.sleep(float(answer.headers.get("retry-after", "1")))
                    elif answer.status_code != 200:
                        raise SystemExit(f"receiver answered {answer.status_code}: {answer.text[:200]}")

            await asyncio.gather(*(sender() for _ in range(senders)))
        return refused

    try:
        # Warm-up, not counted: a fresh server's first requests import and build what the
        # rest reuse (code paths, the store client's connection, the store's first parts).
        warmup = bodies[:warmup_requests]
        asyncio.run(send(warmup))
        before = sum(_span_count(body) for body in warmup)
        while stored() < before:
            time.sleep(0.05)
        load = os.getloadavg()[0]
        cpu, store_cpu, wall = _cpu_seconds(server.pid), _cpu_seconds(store.pid), time.perf_counter()
        refused = asyncio.run(send(bodies))
        answered = time.perf_counter() - wall
        while stored() < before + spans:
            time.sleep(0.05)
        wall = time.perf_counter() - wall
        cpu, store_cpu = _cpu_seconds(server.pid) - cpu, _cpu_seconds(store.pid) - store_cpu
        return {
            "load": load,
            "server": spans / cpu,
            "store": spans / store_cpu,
            "wall": spans / wall,
            "answered": spans / answered,
            "refused": refused,
        }
    finally:
        for proc in (server, store):
            proc.terminate()
            proc.wait(timeout=60)


def _decode_figures(bodies: list[bytes], spans: int) -> dict[str, float]:
    """The receiver's per-request step on one core: decode to rows and encode the store's
    batch, best of 3 (CPU time), and the garbage collections it causes per 1,000 spans over a
    heap the size of a running server's (~250 k objects: a small heap hides the collector's cost)."""
    heap = [{"n": [i]} for i in range(125_000)]  # noqa: F841 (kept alive: the server's own objects)
    collections = [0, 0, 0]
    started: list[float] = []
    in_gc = [0.0]

    def count(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started[:] = [time.process_time()]
        else:
            collections[info["generation"]] += 1
            in_gc[0] += time.process_time() - started[0]

    best = total = 0.0
    gc.callbacks.append(count)
    try:
        for _ in range(3):
            cpu = time.process_time()
            for body in bodies:
                rows, _ = decode_traces(body)
                encode_rows(rows)
            cpu = time.process_time() - cpu
            best, total = max(best, spans / cpu), total + cpu
    finally:
        gc.callbacks.remove(count)
    per_k = [c * 1000 / (3 * spans) for c in collections]
    return {"rate": best, "gc0": per_k[0], "gc1": per_k[1], "gc2": per_k[2], "gc_share": in_gc[0] / total}


def _in_tree(src: Path | None, argv: list[str]) -> dict[str, float]:
    """This script's ``--figures-only`` run in a fresh interpreter over ``src``'s fanzwatch."""
    out = subprocess.run(
        [sys.executable, __file__, "--figures-only", *argv], env=_env(src), capture_output=True, text=True, check=False
    )
    if out.returncode != 0:
        raise SystemExit(f"the figures of {src or 'this tree'} failed: {out.stderr[-2000:]}")
    figures: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return figures


def _export_tree(ref: str, into: Path) -> Path:
    """``ref``'s ``src/`` (a git ref of this repository) under ``into``: the baseline's code."""
    repo = Path(__file__).resolve().parent.parent
    archive = subprocess.run(["git", "-C", str(repo), "archive", ref, "src"], capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    commit = subprocess.run(["git", "-C", str(repo), "rev-parse", "--short", ref], capture_output=True, text=True)
    print(f"baseline: {ref} ({commit.stdout.strip()}), exported to {into}")
    return into / "src"


def _side_by_side(args: argparse.Namespace, bodies: list[bytes]) -> None:
    """The decode step, and with ``--http`` the whole receiver, for the baseline and this tree."""
    with tempfile.TemporaryDirectory() as tmp:
        trees: list[tuple[str, Path | None]] = [("this tree", None)]
        if args.baseline:
            trees.insert(0, (f"baseline {args.baseline}", _export_tree(args.baseline, Path(tmp))))
        width = max(len(name) for name, _ in trees)
        print(f"\ndecode + encode, {args.spans:,} spans in {args.batch:,}-span requests (CPU time, best of 3):")
        for name, src in trees:
            f = _in_tree(src, ["--spans", str(args.spans), "--batch", str(args.batch)])
            print(
                f"  {name:{width}s} {f['rate']:9,.0f} spans/s of CPU; GC per 1,000 spans: "
                f"{f['gc0']:.1f} young, {f['gc1']:.2f} middle, {f['gc2']:.2f} full ({f['gc_share']:.0%} of the CPU)"
            )
        if not args.http:
            return
        print(
            f"\nHTTP receiver (protobuf, {len(bodies):,} requests of {args.batch:,} spans after {args.warmup} not "
            f"counted, {args.senders} senders; fanzwatch serve, one worker, + fanzwatch telemetry-store):"
        )
        runs: dict[str, list[dict[str, float]]] = {name: [] for name, _ in trees}
        for round_ in range(args.rounds):
            for name, src in trees:
                with tempfile.TemporaryDirectory() as stack:
                    r = _http_ingest(bodies, args.spans, args.senders, Path(stack), src, warmup_requests=args.warmup)
                runs[name].append(r)
                print(
                    f"  round {round_ + 1} {name:{width}s} load {r['load']:4.1f}: {r['server']:9,.0f} spans per "
                    f"CPU-second of the server, {r['store']:9,.0f} of the store; {r['wall']:7,.0f} spans/s wall "
                    f"until stored ({r['answered']:,.0f} answered, {r['refused']:.0f} 503s retried)"
                )
        if args.rounds > 1:
            for name, done in runs.items():
                server = statistics.median(r["server"] for r in done)
                store = statistics.median(r["store"] for r in done)
                print(
                    f"  median of {args.rounds} {name:{width}s}: {server:9,.0f} spans per CPU-second of the server, "
                    f"{store:9,.0f} of the store"
                )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--spans", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--queries", action="store_true", help="only the query figures, at --spans spans and logs")
    parser.add_argument("--tmp", type=Path, default=None, help="where the stores are built (default: the system tmp)")
    parser.add_argument("--http", action="store_true", help="also ingest through a real server's receiver")
    parser.add_argument("--senders", type=int, default=4)
    parser.add_argument("--baseline", default="main", help="git ref measured side by side ('' for none)")
    parser.add_argument("--rounds", type=int, default=1, help="HTTP runs of each tree, alternating")
    parser.add_argument("--warmup", type=int, default=5, help="requests sent before the HTTP figures (not counted)")
    parser.add_argument("--figures-only", action="store_true", help=argparse.SUPPRESS)  # one tree's decode figures
    args = parser.parse_args()
    if args.queries:
        bench_queries(args.spans, args.repeats, args.tmp)
        return
    rng = random.Random(18)
    bodies = _requests(args.spans, args.batch, rng)
    if args.figures_only:
        print(json.dumps(_decode_figures(bodies, args.spans)))
        return
    print(f"load average {os.getloadavg()[0]:.1f} at the start (2 cores shared; the rule: bench below 4)")
    _side_by_side(args, bodies)
    print("\nthis tree alone:")
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

"""Beacons accepted per second on one core: fanzwatch RUM against two baselines, same run.

    .venv/bin/python bench/bench_rum.py [--duration 10] [--connections 16] [--batch 50]

Each server is one uvicorn worker (uvloop + httptools, access log off) pinned to one
CPU; wrk runs pinned to the other CPU over loopback with a Lua script that POSTs a
fixed body. Measured, in this order and in the same run:

1. a bare ASGI callable answering 204 (the floor: uvicorn itself);
2. a bare FastAPI route taking a 5-field pydantic body, answering 204;
3. fanzwatch ``/api/v1/analytics/rum``, one vital per beacon, wired three ways:
   ``app.add_middleware(RumBeaconMiddleware, ...)`` (inside FastAPI's own error and
   telemetry layers), ``RumBeaconMiddleware(app, ...)`` around the FastAPI app object
   (outermost: beacons never enter FastAPI), and Starlette's ``Mount``;
4. fanzwatch ``/api/v1/analytics/batch`` with ``--batch`` events per beacon;
5. both fanzwatch endpoints again, paced at the issue's target rates (5,000 beacons/s;
   25,000 events/s), for the p99 at those rates rather than at saturation.

fanzwatch runs for real: CORS origin check, rate limiter (limits raised so one
loopback client is not throttled, but checked on every request), bot filter, body
limits, pydantic validation, URL templating, Prometheus histograms and the
background writer into a SQLite store. After each run the store is counted to show
the events were written, not just accepted.

Besides wall-clock req/s, each row reports requests per second of *server CPU time*
(utime + stime of the server process, all threads, read from /proc): on a shared
machine the wall figure depends on what else runs, the CPU figure much less. It is
the rate one dedicated core would sustain. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
ORIGIN = "https://fanz-1.example"
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36"

# -- the servers (uvicorn --factory bench_rum:<name>) ----------------------------------


def plain_app() -> Any:
    """A bare ASGI app: read the body, answer 204."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            if scope["type"] == "lifespan":
                while True:
                    message = await receive()
                    await send({"type": message["type"] + ".complete"})
                    if message["type"] == "lifespan.shutdown":
                        return
            return
        more = True
        while more:
            message = await receive()
            more = message.get("more_body", False)
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    return app


def fastapi_app() -> Any:
    """A bare FastAPI route with a 5-field pydantic body."""
    from fastapi import FastAPI, Response

    app = FastAPI()

    @app.post("/api/v1/analytics/rum")
    async def rum(beacon: FiveFieldBeacon) -> Response:
        return Response(status_code=204)

    return app


class FiveFieldBeacon(BaseModel):
    """The baseline's body: the guide's beacon shape, five plain fields."""

    session_id: str
    metric: str
    value: float
    timestamp: int
    url: str


def rum_app() -> Any:
    """The fanzwatch RUM ingestion, as the server wires it, on a SQLite store."""
    from collections.abc import AsyncIterator
    from contextlib import asynccontextmanager

    from fastapi import FastAPI
    from prometheus_client import CollectorRegistry

    from fanzwatch.rum import ANALYTICS_PREFIX, RumBeaconMiddleware, RumIngestor, build_rum_app, build_rum_router
    from fanzwatch.settings.rum import RumSettings
    from fanzwatch.store import create_store_engine, upgrade

    url = f"sqlite:///{os.environ['FANZ_BENCH_DB']}"
    settings = RumSettings(
        allowed_origins=(ORIGIN,),
        rate_limit_per_second=1_000_000,
        rate_limit_burst=1_000_000,
        queue_max_events=1_000_000,
        writer_flush_interval_seconds=float(os.environ.get("FANZ_BENCH_FLUSH", "0.5")),
        writer_batch_size=int(os.environ.get("FANZ_BENCH_WBATCH", "2000")),
    )
    platforms = ("fanz-1", "fanz-2")
    ingestor = RumIngestor(registry=CollectorRegistry(), settings=settings, platforms=platforms)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        upgrade(url)
        engine = create_store_engine(url)
        await ingestor.start(engine)
        try:
            yield
        finally:
            await ingestor.stop(drain_seconds=60)
            await engine.dispose()

    app = FastAPI(lifespan=lifespan)
    beacon = build_rum_app(ingestor)
    app.include_router(build_rum_router(ingestor, platforms=platforms))
    wiring = os.environ.get("FANZ_BENCH_WIRING", "middleware")
    if wiring == "mount":
        app.mount(ANALYTICS_PREFIX, beacon)
    elif wiring == "outermost":  # in front of the FastAPI app object itself
        return RumBeaconMiddleware(app, beacon)
    else:  # app.add_middleware: inside FastAPI's error/telemetry layers
        app.add_middleware(RumBeaconMiddleware, beacon=beacon)
    return app


# -- bodies ----------------------------------------------------------------------------


def single_body(now_ms: int) -> dict[str, Any]:
    return {
        "sid": "3f2a9c0b1d4e5f60",
        "platform": "fanz-1",
        "sent": now_ms,
        "url": "https://fanz-1.example/creator/4711",
        "name": "LCP",
        "value": 1834.5,
    }


def fastapi_body(now_ms: int) -> dict[str, Any]:
    return {
        "session_id": "3f2a9c0b1d4e5f60",
        "metric": "lcp",
        "value": 1834.5,
        "timestamp": now_ms,
        "url": "https://fanz-1.example/creator/4711",
    }


def batch_body(now_ms: int, n: int) -> dict[str, Any]:
    kinds: list[dict[str, Any]] = [
        {"type": "vital", "name": "LCP", "value": 1834.5, "rating": "good", "attribution": {"target": "main>img#hero"}},
        {"type": "vital", "name": "CLS", "value": 0.04, "rating": "good"},
        {"type": "vital", "name": "INP", "value": 136.0, "attribution": {"target": "button#tip", "input_delay": 3.1}},
        {"type": "interaction", "kind": "click", "target": {"tag": "button", "id": "tip"}},
        {"type": "page_load", "load": 2212.4, "ttfb": 180.2, "dom_content_loaded": 1204.9},
    ]
    events = [
        kinds[i % len(kinds)] | {"t": now_ms - 1000 + i, "url": f"https://fanz-1.example/creator/{i % 20}/posts/p{i}"}
        for i in range(n)
    ]
    return {
        "v": 1,
        "sid": "3f2a9c0b1d4e5f60",
        "platform": "fanz-1",
        "sent": now_ms,
        "url": "https://fanz-1.example/creator/4711",
        "events": events,
    }


LUA = """
wrk.method = "POST"
wrk.body = {body}
wrk.headers["Content-Type"] = "{ctype}"
wrk.headers["Origin"] = "{origin}"
wrk.headers["User-Agent"] = "{ua}"
{pacing}
"""
# Pacing: each connection waits this many ms before its next request, which holds the
# offered rate near a target (wrk has no -R; wrk2 is not packaged), so p99 is measured
# at the target rate instead of at saturation.
PACING = "function delay() return {ms} end"

# -- running ---------------------------------------------------------------------------


@dataclass
class Result:
    name: str
    requests: int
    seconds: float
    server_cpu_seconds: float
    events_per_request: int
    p99_ms: float
    failed: int
    stored: int | None = None

    @property
    def requests_per_second(self) -> float:
        return self.requests / self.seconds

    @property
    def requests_per_cpu_second(self) -> float:
        """What one dedicated core sustains: requests per second of server CPU time."""
        return self.requests / self.server_cpu_seconds if self.server_cpu_seconds else 0.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pin(cpu: int) -> list[str]:
    return ["taskset", "-c", str(cpu)] if shutil.which("taskset") and (os.cpu_count() or 1) > 1 else []


@contextlib.contextmanager
def serve(factory: str, env: dict[str, str], cpu: int) -> Iterator[tuple[int, int]]:
    """Run one uvicorn worker; yields (pid, port)."""
    port = _free_port()
    cmd = [
        *_pin(cpu),
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        f"bench_rum:{factory}",
        "--app-dir",
        str(HERE),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
        "--loop",
        "uvloop",
        "--http",
        "httptools",
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    proc = subprocess.Popen(cmd, env={**os.environ, **env}, cwd=ROOT)
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{factory} did not start")
            time.sleep(0.05)
        yield proc.pid, port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=90)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _latency_ms(text: str) -> float:
    value, unit = float(text[:-2] if text.endswith(("us", "ms")) else text[:-1]), text.lstrip("0123456789.")
    return {"us": value / 1000, "ms": value, "s": value * 1000}[unit]


def _cpu_seconds(pid: int) -> float:
    """utime + stime of a process (all its threads: the SQLite writer thread counts)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_wrk(
    pid: int,
    port: int,
    path: str,
    body: dict[str, Any],
    ctype: str,
    args: argparse.Namespace,
    cpu: int,
    *,
    rate: float | None = None,
) -> tuple[int, float, float, float, int]:
    """(requests, seconds, server CPU seconds, p99 ms, failed requests) of one measured run.

    ``rate``: requests per second to aim for (paced); None saturates the server.
    """
    pacing = PACING.format(ms=max(0, int(args.connections / rate * 1000) - 1)) if rate else ""
    lua = LUA.format(body=json.dumps(json.dumps(body)), ctype=ctype, origin=ORIGIN, ua=USER_AGENT, pacing=pacing)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(lua)
    url = f"http://127.0.0.1:{port}{path}"
    base = [*_pin(cpu), "wrk", "-t1", f"-c{args.connections}", "--latency", "-s", f.name]
    try:
        subprocess.run([*base, "-d2s", url], check=True, capture_output=True, text=True)  # warm-up
        cpu_before = _cpu_seconds(pid)
        out = subprocess.run([*base, f"-d{args.duration}s", url], check=True, capture_output=True, text=True).stdout
        cpu_used = _cpu_seconds(pid) - cpu_before
    finally:
        os.unlink(f.name)
    done = re.search(r"(\d+) requests in ([\d.]+)(m?s)", out)
    if not done:
        raise RuntimeError(f"unexpected wrk output:\n{out}")
    seconds = float(done.group(2)) * (0.001 if done.group(3) == "ms" else 1.0)
    p99 = _latency_ms(re.search(r"99%\s+([\d.]+\w+)", out).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    failed = (int(non2xx.group(1)) if non2xx else 0) + (sum(map(int, errors.groups())) if errors else 0)
    return int(done.group(1)), seconds, cpu_used, p99, failed


# -- in-process CPU cost (no sockets, no uvicorn) ---------------------------------------


async def _in_process(rounds: int) -> dict[str, float]:
    """Best-of-``rounds`` CPU microseconds per request of each app, called directly.

    The ASGI callables are driven with a prepared scope; the writer's cost per event is
    measured separately by timing ``flush()`` of what the requests queued.
    """

    from fanzwatch.rum import RumBeaconMiddleware

    now = int(time.time() * 1000)
    rum = rum_app()
    beacon = rum.user_middleware[0].kwargs["beacon"]
    ingestor = beacon.ingestor

    def driver(app: Any, path: str, body: bytes, ctype: bytes) -> Any:
        headers = [
            (b"host", b"127.0.0.1:8000"),
            (b"user-agent", USER_AGENT.encode()),
            (b"content-type", ctype),
            (b"origin", ORIGIN.encode()),
            (b"content-length", str(len(body)).encode()),
        ]
        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
            "path": path, "raw_path": path.encode(), "root_path": "", "query_string": b"", "headers": headers,
            "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000),
        }  # fmt: skip
        message = {"type": "http.request", "body": body, "more_body": False}
        statuses: set[int] = set()

        async def receive() -> dict[str, Any]:
            return message

        async def send(m: dict[str, Any]) -> None:
            if m["type"] == "http.response.start":
                statuses.add(m["status"])

        async def run(n: int) -> float:
            start = time.process_time()
            for _ in range(n):
                await app(dict(scope, state={}), receive, send)
            spent = time.process_time() - start
            if not statuses <= {202, 204}:
                raise RuntimeError(f"{path}: unexpected statuses {statuses}")
            return spent / n * 1e6

        return run

    single = json.dumps(single_body(now)).encode()
    batched = json.dumps(batch_body(now, 50)).encode()
    text, js = b"text/plain;charset=UTF-8", b"application/json"
    apps = {
        "plain ASGI": (driver(plain_app(), "/x", single, text), 1),
        "bare FastAPI route": (
            driver(fastapi_app(), "/api/v1/analytics/rum", json.dumps(fastapi_body(now)).encode(), js),
            1,
        ),
        "RUM app alone, /rum": (driver(beacon, "/api/v1/analytics/rum", single, text), 1),
        "RUM via add_middleware, /rum": (driver(rum, "/api/v1/analytics/rum", single, text), 1),
        "RUM outermost, /rum": (driver(RumBeaconMiddleware(rum, beacon), "/api/v1/analytics/rum", single, text), 1),
        "RUM app alone, /batch (50 events)": (driver(beacon, "/api/v1/analytics/batch", batched, text), 50),
    }
    best = dict.fromkeys([*apps, "store writer, per event"], float("inf"))
    async with rum.router.lifespan_context(rum):
        for _ in range(rounds):
            for name, (run, events) in apps.items():
                best[name] = min(best[name], await run(200 if events > 1 else 2000))
                queued = ingestor.pending
                if queued:
                    start = time.process_time()
                    await ingestor.flush()
                    per_event = (time.process_time() - start) / queued * 1e6
                    best["store writer, per event"] = min(best["store writer, per event"], per_event)
    return best


def in_process(rounds: int) -> None:
    import asyncio

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["FANZ_BENCH_DB"] = str(Path(tmp) / "micro.db")
        best = asyncio.run(_in_process(rounds))
    print("\nIn-process CPU time per request (best of", rounds, "rounds; no sockets, no uvicorn):\n")
    print("| app | CPU µs per request |")
    print("|---|---:|")
    for name, us in best.items():
        print(f"| {name} | {us:.1f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per measured run (plus 2 s warm-up)")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--batch", type=int, default=50, help="events per batched beacon")
    parser.add_argument("--in-process", action="store_true", help="only the in-process CPU cost table")
    args = parser.parse_args()
    if args.in_process:
        in_process(rounds=5)
        return
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed: apt-get install wrk")
    server_cpu, wrk_cpu = 1, 0
    now = int(time.time() * 1000)
    results: list[Result] = []
    single, fastapi, batched = single_body(now), fastapi_body(now), batch_body(now, args.batch)
    mount, outermost = {"FANZ_BENCH_WIRING": "mount"}, {"FANZ_BENCH_WIRING": "outermost"}
    rum, batch_path = "/api/v1/analytics/rum", "/api/v1/analytics/batch"
    batch_rate = 25_000 / args.batch  # the target: 25,000 events/s
    runs: list[tuple[str, str, dict[str, str], str, dict[str, Any], int, float | None]] = [
        ("plain ASGI, 204", "plain_app", {}, rum, single, 1, None),
        ("bare FastAPI, 5-field pydantic body", "fastapi_app", {}, rum, fastapi, 1, None),
        ("fanzwatch /rum, single event (add_middleware)", "rum_app", {}, rum, single, 1, None),
        ("fanzwatch /rum, single event, outermost wrapper", "rum_app", outermost, rum, single, 1, None),
        ("fanzwatch /rum, single event, via Mount", "rum_app", mount, rum, single, 1, None),
        (f"fanzwatch /batch, {args.batch} events", "rum_app", outermost, batch_path, batched, args.batch, None),
        ("fanzwatch /rum, paced at 5,000 req/s", "rum_app", outermost, rum, single, 1, 5000.0),
        (
            f"fanzwatch /batch, paced at {batch_rate:,.0f} req/s",
            "rum_app",
            outermost,
            batch_path,
            batched,
            args.batch,
            batch_rate,
        ),
    ]
    with tempfile.TemporaryDirectory() as tmp:
        for i, (name, factory, env, path, body, per_request, rate) in enumerate(runs):
            db = Path(tmp) / f"rum{i}.db"
            with serve(factory, {"FANZ_BENCH_DB": str(db), **env}, server_cpu) as (pid, port):
                # The script sends text/plain (no CORS preflight); FastAPI wants JSON.
                ctype = "application/json" if factory == "fastapi_app" else "text/plain;charset=UTF-8"
                measured = run_wrk(pid, port, path, body, ctype, args, wrk_cpu, rate=rate)
                requests, seconds, cpu_used, p99, failed = measured
            stored = None
            if factory == "rum_app":
                with contextlib.closing(sqlite3.connect(db)) as conn:
                    stored = int(conn.execute("SELECT count(*) FROM rum_events").fetchone()[0])
            result = Result(name, requests, seconds, cpu_used, per_request, p99, failed, stored)
            results.append(result)
            print(
                f"{name}: {result.requests_per_second:,.0f} req/s wall, "
                f"{result.requests_per_cpu_second:,.0f} req/CPU-s, p99 {p99:.2f} ms",
                file=sys.stderr,
            )
    print(
        f"\nwrk -t1 -c{args.connections} -d{args.duration}s over loopback; one uvicorn worker pinned to CPU "
        f"{server_cpu}, wrk on CPU {wrk_cpu}; load average before: {os.getloadavg()[0]:.2f}\n"
    )
    print("| server | req/s (wall) | req per server CPU-second | events per CPU-second | p99 | failed | stored |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for r in results:
        stored = f"{r.stored:,}" if r.stored is not None else "n/a"
        print(
            f"| {r.name} | {r.requests_per_second:,.0f} | {r.requests_per_cpu_second:,.0f} "
            f"| {r.requests_per_cpu_second * r.events_per_request:,.0f} | {r.p99_ms:.2f} ms | {r.failed} | {stored} |"
        )
    in_process(rounds=5)


if __name__ == "__main__":
    main()

"""Per-request overhead of fanzwatch's TelemetryMiddleware against the usual alternatives.

    .venv/bin/python bench/bench_middleware.py            # in-process + wrk, ~2 minutes
    .venv/bin/python bench/bench_middleware.py --no-wrk   # in-process only, ~30 s

Every variant is the same small FastAPI app (``GET /items/{item_id}`` returning JSON):

* ``bare``: no telemetry (FastAPI's native telemetry explicitly off);
* ``fanzwatch metrics``: TelemetryMiddleware, metrics only (no span, no request id);
* ``fanzwatch metrics+trace``: metrics + one server span (batch processor) + request id;
* ``fanzwatch metrics+trace 10% sampled``: the same with a 10% trace-id ratio sampler;
* ``otel FastAPIInstrumentor``: opentelemetry-instrumentation-fastapi (traces + metrics);
* ``fastapi native``: FastAPI's built-in ``FastAPI(telemetry=...)`` (traces + metrics);
* ``prometheus-fastapi-instrumentator``: its default metrics;
* ``minimal prometheus_client``: a 15-line hand-written middleware, the floor for metrics;
* ``passthrough middleware``: a middleware that does nothing (the cost of one more layer).

Spans go to a BatchSpanProcessor whose exporter drops them, so the figures are the
request path's cost, not an exporter's. Two measurements, in the same run:

1. in-process: the ASGI app is called directly; per variant the minimum over many
   trials of the mean time per request; overhead = variant - bare. Trials of all
   variants are interleaved so background load hits them alike.
   The same middlewares are also timed around a trivial ASGI app, which isolates their
   own cost from FastAPI's (and from the cache effects of a larger code path).
2. loopback HTTP: each variant under uvicorn (one worker, httptools) loaded by wrk for a
   few seconds; overhead = the server process's CPU time per request (from /proc) minus
   the bare app's. Requests/s and latency are printed too, but on 2 shared cores they
   measure the neighbours as much as the server.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from prometheus_client import CollectorRegistry, Histogram

TARGET_METRICS_US = 10.0
TARGET_TRACING_US = 50.0


class DropExporter(SpanExporter):
    """Accepts spans and drops them: measures the request path, not an exporter."""

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return SpanExportResult.SUCCESS


def _tracer_provider() -> TracerProvider:
    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(DropExporter()))
    return provider


def _app(**fastapi_kwargs: Any) -> FastAPI:
    kwargs: dict[str, Any] = {"telemetry": {"tracing": False, "metrics": False, "logs": False}}
    kwargs.update(fastapi_kwargs)
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None, **kwargs)

    @app.get("/items/{item_id}")
    async def item(item_id: int) -> dict[str, int]:
        return {"item_id": item_id}

    return app


def _fanzwatch(tracing: bool, ratio: float = 1.0) -> Any:
    from fanzwatch.sdk import TelemetryMiddleware, build_telemetry
    from fanzwatch.settings.telemetry import TelemetrySettings

    settings = TelemetrySettings(
        service_name="bench",
        platform="fanz-1",
        tracing=tracing,
        otlp_endpoint=None,
        otlp_traces_endpoint=None,
        traces_sampler="parentbased_traceidratio",
        traces_sampler_arg=ratio,
    )
    telemetry = build_telemetry(settings)
    telemetry.tracer_provider.add_span_processor(BatchSpanProcessor(DropExporter()))
    app = _app()
    app.add_middleware(TelemetryMiddleware, telemetry=telemetry, tracing=tracing, request_id=tracing)
    return app


def _otel_instrumentor() -> Any:
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    app = _app()
    FastAPIInstrumentor.instrument_app(app, tracer_provider=_tracer_provider(), meter_provider=MeterProvider())
    return app


def _fastapi_native() -> Any:
    return _app(telemetry={"tracer_provider": _tracer_provider(), "meter_provider": MeterProvider()})


def _instrumentator() -> Any:
    from prometheus_fastapi_instrumentator import Instrumentator

    app = _app()
    Instrumentator(registry=CollectorRegistry()).instrument(app)
    return app


def _passthrough() -> Any:
    """Calibration: a middleware that does nothing, i.e. the cost of one more layer."""

    class Passthrough:
        def __init__(self, inner: Any) -> None:
            self.inner = inner

        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            await self.inner(scope, receive, send)

    app = _app()
    app.add_middleware(Passthrough)
    return app


def _minimal() -> Any:
    """The floor: what a hand-written prometheus_client middleware costs."""
    hist = Histogram("req_seconds", "x", ["method", "route", "status"], registry=CollectorRegistry())
    app = _app()

    class Minimal:
        def __init__(self, inner: Any) -> None:
            self.inner = inner

        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            if scope["type"] != "http":
                await self.inner(scope, receive, send)
                return
            start = time.perf_counter()
            status = [500]

            async def wrapped(message: Any) -> None:
                if message["type"] == "http.response.start":
                    status[0] = message["status"]
                await send(message)

            await self.inner(scope, receive, wrapped)
            route = scope.get("route")
            hist.labels(scope["method"], route.path if route else "unmatched", status[0]).observe(
                time.perf_counter() - start
            )

    app.add_middleware(Minimal)
    return app


VARIANTS: dict[str, Callable[[], Any]] = {
    "bare": _app,
    "passthrough middleware (calibration)": _passthrough,
    "fanzwatch metrics": lambda: _fanzwatch(False),
    "fanzwatch metrics+trace": lambda: _fanzwatch(True),
    "fanzwatch metrics+trace 10% sampled": lambda: _fanzwatch(True, 0.1),
    "otel FastAPIInstrumentor": _otel_instrumentor,
    "fastapi native": _fastapi_native,
    "prometheus-fastapi-instrumentator": _instrumentator,
    "minimal prometheus_client": _minimal,
}

# ---------------------------------------------------------------------------------- in-process

_SCOPE: dict[str, Any] = {
    "type": "http",
    "asgi": {"version": "3.0", "spec_version": "2.4"},
    "http_version": "1.1",
    "method": "GET",
    "scheme": "http",
    "path": "/items/42",
    "raw_path": b"/items/42",
    "root_path": "",
    "query_string": b"",
    "headers": [(b"host", b"127.0.0.1"), (b"user-agent", b"bench"), (b"accept", b"*/*")],
    "client": ("127.0.0.1", 50000),
    "server": ("127.0.0.1", 8000),
    "state": {},
}


async def _receive() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}


async def _send(message: dict[str, Any]) -> None:
    return None


async def _trial(app: Any, n: int) -> float:
    # CPU time of this thread, not wall time: other processes on the 2 shared cores
    # then cannot inflate a trial; the collector is paused as timeit does.
    scope = _SCOPE
    gc.collect()
    gc.disable()
    try:
        start = time.thread_time()
        for _ in range(n):
            await app({**scope, "state": {}}, _receive, _send)
        return (time.thread_time() - start) / n
    finally:
        gc.enable()


async def _lifespan_started(app: Any) -> None:
    # Middleware stacks are built on the first call; warm every app up before timing.
    for _ in range(200):
        await app({**_SCOPE, "state": {}}, _receive, _send)


class _Route:
    path_format = "/items/{item_id}"
    path = "/items/{item_id}"


_ROUTE = _Route()


async def _trivial(scope: Any, receive: Any, send: Any) -> None:
    """The smallest ASGI app that routes: isolates the middleware's own cost."""
    scope["route"] = _ROUTE
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": b"{}"})


def middleware_alone(trials: int, per_trial: int) -> dict[str, float]:
    """Each middleware around ``_trivial`` (FastAPI left out)."""
    from fanzwatch.sdk import TelemetryMiddleware

    def fanzwatch(tracing: bool) -> Any:
        app = _fanzwatch(tracing)
        # Reuse the telemetry the FastAPI variant built, around the trivial app instead.
        mw = next(m for m in app.user_middleware if m.cls is TelemetryMiddleware)
        return TelemetryMiddleware(_trivial, mw.kwargs["telemetry"], tracing=tracing, request_id=tracing)

    minimal = _minimal().user_middleware[0].cls(_trivial)
    apps = {"trivial app": _trivial, "fanzwatch metrics": fanzwatch(False), "fanzwatch metrics+trace": fanzwatch(True)}
    apps["minimal prometheus_client"] = minimal
    return _best(apps, trials, per_trial)


def _best(apps: dict[str, Any], trials: int, per_trial: int) -> dict[str, float]:
    best = dict.fromkeys(apps, float("inf"))

    async def run() -> None:
        for app in apps.values():
            await _lifespan_started(app)
        names = list(apps)
        for t in range(trials):
            rotated = names[t % len(names) :] + names[: t % len(names)]
            for name in rotated:
                best[name] = min(best[name], await _trial(apps[name], per_trial))

    asyncio.run(run())
    return best


def in_process(trials: int, per_trial: int) -> dict[str, float]:
    return _best({name: build() for name, build in VARIANTS.items()}, trials, per_trial)


# ---------------------------------------------------------------------------------- wrk


def serve(variant: str, port: int) -> None:
    import uvicorn

    uvicorn.run(VARIANTS[variant](), host="127.0.0.1", port=port, log_level="error", http="httptools", lifespan="off")


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, from /proc (clock ticks)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wrk_run(variant: str, seconds: int, connections: int) -> tuple[float, float, str]:
    """(requests/s, server CPU seconds per request, p50 latency) under wrk."""
    import httpx

    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, __file__, "--serve", variant, "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/items/42"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(url, timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        subprocess.run(["wrk", "-t1", "-c4", "-d1s", url], capture_output=True, check=True)  # warm-up
        cpu_before = _cpu_seconds(proc.pid)
        out = subprocess.run(
            ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", url],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        cpu = _cpu_seconds(proc.pid) - cpu_before
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    p50 = re.search(r"^\s+50%\s+(\S+)", out, re.MULTILINE)
    return rps, cpu / total, p50.group(1) if p50 else "?"


# ---------------------------------------------------------------------------------- report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--serve", choices=list(VARIANTS), help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--trials", type=int, default=60, help="in-process trials per variant (default 60)")
    parser.add_argument("--per-trial", type=int, default=250, help="requests per trial (default 250)")
    parser.add_argument("--no-wrk", action="store_true", help="skip the loopback HTTP measurement")
    parser.add_argument("--wrk-seconds", type=int, default=4, help="wrk duration per variant (default 4)")
    parser.add_argument("--wrk-connections", type=int, default=16)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.port)
        return

    from importlib.metadata import version

    import fastapi
    import opentelemetry.sdk.version

    print(
        f"python {sys.version.split()[0]}, fastapi {fastapi.__version__}, "
        f"opentelemetry-sdk {opentelemetry.sdk.version.__version__}, prometheus_client {version('prometheus_client')}"
    )
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at start")
    print()
    print(f"In-process (ASGI called directly; min over {args.trials} trials of {args.per_trial} requests)")
    best = in_process(args.trials, args.per_trial)
    bare = best["bare"]
    print(f"{'variant':36} {'µs/request':>11} {'overhead µs':>12}")
    for name, seconds in best.items():
        print(f"{name:36} {seconds * 1e6:11.1f} {(seconds - bare) * 1e6:12.1f}")
    metrics = (best["fanzwatch metrics"] - bare) * 1e6
    tracing = (best["fanzwatch metrics+trace"] - bare) * 1e6
    print(
        f"target metrics only <= {TARGET_METRICS_US:.0f} µs: {metrics:.1f} µs "
        f"{'PASS' if metrics <= TARGET_METRICS_US else 'MISS'}"
    )
    print(
        f"target metrics+trace <= {TARGET_TRACING_US:.0f} µs: {tracing:.1f} µs "
        f"{'PASS' if tracing <= TARGET_TRACING_US else 'MISS'}"
    )

    print()
    print("The middleware alone, around a trivial ASGI app (no FastAPI): its own cost")
    alone = middleware_alone(args.trials, args.per_trial * 4)
    floor = alone["trivial app"]
    print(f"{'variant':36} {'µs/request':>11} {'overhead µs':>12}")
    for name, seconds in alone.items():
        print(f"{name:36} {seconds * 1e6:11.2f} {(seconds - floor) * 1e6:12.2f}")

    if args.no_wrk:
        return
    print()
    print(f"Loopback HTTP (uvicorn 1 worker, httptools; wrk -t1 -c{args.wrk_connections} -d{args.wrk_seconds}s)")
    print("overhead = server CPU time per request (from /proc) minus the bare app's")
    results = {name: wrk_run(name, args.wrk_seconds, args.wrk_connections) for name in VARIANTS}
    bare_cpu = results["bare"][1]
    print(f"{'variant':40} {'req/s':>8} {'p50':>9} {'CPU µs/req':>11} {'overhead µs':>12}")
    for name, (rps, cpu, p50) in results.items():
        print(f"{name:40} {rps:8.0f} {p50:>9} {cpu * 1e6:11.1f} {(cpu - bare_cpu) * 1e6:12.1f}")


if __name__ == "__main__":
    main()

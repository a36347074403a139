"""Real servers for the health tests: dependencies that work, count, hang or die on demand."""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import redis
import uvicorn
from fastapi import FastAPI


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Blackhole:
    """A TCP server that accepts every connection and never sends a byte."""

    def __init__(self) -> None:
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._sock.getsockname()[1]
        self._held: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        self._sock.settimeout(0.05)
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self._held.append(conn)

    @property
    def accepted(self) -> int:
        return len(self._held)

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        for conn in self._held:
            conn.close()
        self._sock.close()


class ResettingServer:
    """A TCP server that accepts every connection and resets it at once, counting them.

    A client that retries connects again: ``accepted`` says how many attempts it made.
    """

    def __init__(self) -> None:
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._sock.getsockname()[1]
        self.accepted = 0
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            self.accepted += 1
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # RST, not FIN
            conn.close()

    def close(self) -> None:
        self._sock.shutdown(socket.SHUT_RDWR)
        self._sock.close()
        self._thread.join(timeout=5)


@dataclass
class HttpBehaviour:
    """What the fake dependency answers; tests change it between requests."""

    status: int = 200
    body: bytes = b'{"status":"pass"}'
    content_type: str = "application/health+json"
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


class CountingHttpServer:
    """A real HTTP server (stdlib, own thread) that counts the requests it gets."""

    def __init__(self) -> None:
        self.behaviour = HttpBehaviour()
        self.hits = 0
        self._lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with outer._lock:
                    outer.hits += 1
                b = outer.behaviour
                if b.delay:
                    time.sleep(b.delay)
                self.send_response(b.status)
                self.send_header("Content-Type", b.content_type)
                self.send_header("Content-Length", str(len(b.body)))
                for name, value in b.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(b.body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/health"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def answer(self, status: int, body: dict[str, object] | None = None, **kwargs: object) -> None:
        raw = json.dumps(body).encode() if body is not None else b""
        self.behaviour = HttpBehaviour(status=status, body=raw, **kwargs)  # type: ignore[arg-type]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class RedisProcess:
    """``redis-server`` started by the test on a free port, killable and restartable."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._workdir = workdir
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        self._proc = subprocess.Popen(
            [
                binary,
                *("--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"),
                *("--daemonize", "no", "--dir", str(self._workdir), "--loglevel", "warning"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                with redis.Redis(port=self.port, socket_connect_timeout=0.2) as client:
                    client.ping()
                return
            except redis.ConnectionError:
                if time.monotonic() > deadline or self._proc.poll() is not None:
                    raise RuntimeError("redis-server did not start within 30 s") from None
                time.sleep(0.02)

    def kill(self) -> None:
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait(timeout=5)
            self._proc = None

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, socket_timeout=2)

    def command_calls(self, command: str) -> int:
        """How many times the server has run ``command`` (from INFO commandstats)."""
        with self.client() as client:
            stats = client.info("commandstats")
        entry = stats.get(f"cmdstat_{command.lower()}")
        return int(entry["calls"]) if entry else 0


class MotoS3:
    """moto's standalone server: a real HTTP server speaking the S3 API, in a subprocess."""

    def __init__(self, binary: Path) -> None:
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self._proc = subprocess.Popen(
            [str(binary), "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(self.endpoint, timeout=0.5)
                return
            except httpx.TransportError:
                if time.monotonic() > deadline or self._proc.poll() is not None:
                    self.close()
                    raise RuntimeError("moto_server did not start within 60 s") from None
                time.sleep(0.05)

    def close(self) -> None:
        self._proc.kill()
        self._proc.wait(timeout=5)


@contextmanager
def refused_port() -> Iterator[int]:
    """A loopback port nothing listens on (bound, never listening, so nobody can take it)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        yield s.getsockname()[1]


@asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[str]:
    """Serve ``app`` with uvicorn on a loopback port in this event loop; yield its base URL."""
    # A backlog above the burst size: an overflowing accept queue drops SYNs (1 s retransmits).
    sock = socket.create_server(("127.0.0.1", 0), backlog=1024)
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.005)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await task
        sock.close()


@dataclass(frozen=True)
class Burst:
    requests: int
    """Requests answered (any status)."""
    non_2xx: int
    socket_errors: str


_BURST = """
import asyncio, json, sys
import httpx

async def main(url, total, concurrency):
    gate = asyncio.Semaphore(concurrency)
    # A fresh connection per request: a kept-alive one the server closes when idle would be a ReadError.
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=0)
    async with httpx.AsyncClient(limits=limits, timeout=60) as client:
        async def one():
            async with gate:
                return await client.get(url)
        results = await asyncio.gather(*(one() for _ in range(total)), return_exceptions=True)
    failed = sorted({type(r).__name__ for r in results if not isinstance(r, httpx.Response)})
    answered = [r for r in results if isinstance(r, httpx.Response)]
    print(json.dumps([len(answered), sum(1 for r in answered if not r.is_success), ", ".join(failed)]))

asyncio.run(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))
"""


async def request_burst(url: str, *, total: int = 600, concurrency: int = 200) -> Burst:
    """``total`` GETs of ``url``, ``concurrency`` of them in flight at once: a fixed count, not a time.

    The client runs in its own process (as wrk did), so the server's event loop, and the
    health checks' own requests on it, do not share a loop with 200 client coroutines.
    """
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _BURST, url, str(total), str(concurrency), stdout=asyncio.subprocess.PIPE
    )
    out = (await proc.communicate())[0].decode()
    if proc.returncode != 0:
        raise RuntimeError(f"the burst client failed (exit code {proc.returncode}): {out}")
    answered, non_2xx, errors = json.loads(out)
    return Burst(answered, non_2xx, errors)

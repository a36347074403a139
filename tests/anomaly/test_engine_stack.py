"""Helpers for the engine tests: the real Prometheus (with history written by promtool),
the real Alertmanager, and a tiny exporter of FANZ series Prometheus scrapes live.

No tests here; the engine test modules import these.
"""

from __future__ import annotations

import math
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import numpy as np

DAY = 86400.0
SCRAPE_TIMEOUT = 3.0  # seconds; a scrape's samples are in Prometheus at most this long after their timestamp
NOISE_GRID = 5.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def binary(*names: str) -> str:
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    raise AssertionError(f"none of {names} is installed (apt-get install prometheus prometheus-alertmanager)")


def wait_for(what: str, probe: Callable[[], Any], timeout: float, interval: float = 0.1) -> Any:
    """Poll ``probe`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out after {timeout}s waiting for {what}"
        time.sleep(interval)


# --- synthetic FANZ platform -------------------------------------------------------------


def noise(t: np.ndarray | float, salt: int) -> np.ndarray:
    """Deterministic standard-normal-ish noise per whole second (same in history and live)."""
    k = np.floor(np.asarray(t, dtype=np.float64)).astype(np.uint64)
    x = (k * np.uint64(2654435761) + np.uint64(salt * 97 + 13)) % np.uint64(1_000_003)
    u1 = (x.astype(np.float64) + 0.5) / 1_000_003
    x2 = (x * np.uint64(48271) + np.uint64(7)) % np.uint64(999_983)
    u2 = (x2.astype(np.float64) + 0.5) / 999_983
    out: np.ndarray = np.sqrt(-2 * np.log(u1)) * np.cos(2 * np.pi * u2)
    return out


@dataclass
class Platform:
    """One platform's behaviour: a daily cycle, noise, and an incident switch."""

    name: str
    salt: int
    users: float = 500.0
    rps: float = 40.0
    incident: bool = False  # active users collapse to 20 %

    def daily(self, t: np.ndarray) -> np.ndarray:
        return 1 + 0.4 * np.sin(2 * np.pi * t / DAY)

    def active_users(self, t: np.ndarray, incident: np.ndarray | bool) -> np.ndarray:
        v = self.users * self.daily(t) * (1 + 0.02 * noise(t, self.salt))
        return np.where(incident, v * 0.2, v)

    def rates(self, t: np.ndarray) -> dict[str, np.ndarray]:
        """Per-second rates of each counter at ``t`` (noise drawn per 5 s, live as in history)."""
        g = np.floor(t / NOISE_GRID) * NOISE_GRID
        req = self.rps * self.daily(t) * (1 + 0.05 * noise(g, self.salt + 1))
        return {
            "ok": req * 0.99,
            "err": req * 0.01,
            "reg": 0.5 * self.daily(t) * (1 + 0.05 * noise(g, self.salt + 2)),
            "paid": 2.0 * self.daily(t) * 0.97,
            "declined": 2.0 * self.daily(t) * 0.03 * (1 + 0.2 * noise(g, self.salt + 3)),
        }


COUNTERS: dict[str, tuple[str, dict[str, str]]] = {
    "ok": ("http_server_request_duration_seconds_count", {"status_class": "2xx"}),
    "err": ("http_server_request_duration_seconds_count", {"status_class": "5xx"}),
    "reg": ("fanz_user_registrations_total", {"role": "fan", "source": "web"}),
    "paid": ("fanz_payment_transactions_total", {"status": "completed", "payment_type": "tip", "currency": "USD"}),
    "declined": ("fanz_payment_transactions_total", {"status": "declined", "payment_type": "tip", "currency": "USD"}),
}


def _labels(labels: dict[str, str]) -> str:
    return ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))


def write_history(
    path: Path,
    platforms: Sequence[Platform],
    *,
    start: float,
    end: float,
    step: float,
    job_labels: dict[str, str],
    incident_from: dict[str, float] | None = None,
) -> tuple[dict[tuple[str, str], float], float]:
    """OpenMetrics history for promtool: the counters' last values and time (live continues them)."""
    t = np.arange(start, end, step)
    lines: list[str] = []
    last: dict[tuple[str, str], float] = {}
    per_family: dict[str, list[str]] = {}
    for p in platforms:
        since = (incident_from or {}).get(p.name, math.inf)
        users = p.active_users(t, t >= since)
        key = _labels({**job_labels, "platform": p.name})
        per_family.setdefault("fanz_active_users", []).extend(
            f"fanz_active_users{{{key}}} {v:.3f} {ts:.0f}" for ts, v in zip(t.tolist(), users.tolist(), strict=True)
        )
        rates = p.rates(t)
        for kind, (name, extra) in COUNTERS.items():
            counts = np.cumsum(rates[kind] * step) - rates[kind] * step  # the counter at t
            last[(p.name, kind)] = float(counts[-1])
            key = _labels({**job_labels, "platform": p.name, **extra})
            per_family.setdefault(name, []).extend(
                f"{name}{{{key}}} {v:.3f} {ts:.0f}" for ts, v in zip(t.tolist(), counts.tolist(), strict=True)
            )
    for lines_of_family in per_family.values():
        lines.extend(lines_of_family)
    lines.append("# EOF")
    path.write_text("\n".join(lines) + "\n")
    return last, float(t[-1])


def create_blocks(openmetrics: Path, tsdb: Path) -> None:
    tsdb.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            binary("promtool"),
            "tsdb",
            "create-blocks-from",
            "openmetrics",
            "-q",
            "--max-block-duration=48h",
            str(openmetrics),
            str(tsdb),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )


@dataclass
class Exporter:
    """Serves the platforms' current values; counters continue from the history's last values."""

    platforms: Sequence[Platform]
    counters: dict[tuple[str, str], float]
    since: float
    port: int = field(default_factory=free_port)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def render(self) -> str:
        now = time.time()
        t = np.array([now])
        out = []
        with self._lock:
            # scrapes before the history's end are refused by Prometheus: count from its end
            dt = max(0.0, now - self.since)
            self.since = max(self.since, now)
            for p in self.platforms:
                users = float(p.active_users(t, p.incident)[0])
                out.append(f'fanz_active_users{{platform="{p.name}"}} {users:.3f}')
                rates = p.rates(t)
                for kind, (name, extra) in COUNTERS.items():
                    self.counters[(p.name, kind)] += float(rates[kind][0]) * dt
                    key = _labels({"platform": p.name, **extra})
                    out.append(f"{name}{{{key}}} {self.counters[(p.name, kind)]:.3f}")
        return "\n".join(out) + "\n"

    @contextmanager
    def serving(self) -> Iterator[None]:
        exporter = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = exporter.render().encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield
        finally:
            server.shutdown()
            server.server_close()


# --- real binaries -------------------------------------------------------------------------


@dataclass
class Process:
    """A child process on a loopback port, stopped for sure."""

    args: list[str]
    url: str
    ready_path: str
    proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 120.0) -> None:  # generous: a restart replays the WAL, on a busy machine too
        self.proc = subprocess.Popen(self.args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        proc = self.proc

        def ready() -> bool:
            if proc.poll() is not None:
                err = proc.stderr.read().decode()[-2000:] if proc.stderr else ""
                raise AssertionError(f"{self.args[0]} exited: {err}")
            try:
                return httpx.get(self.url + self.ready_path, timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for(f"{self.args[0]} to be ready", ready, timeout)

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        if proc.stderr:
            proc.stderr.close()


def prometheus_process(
    workdir: Path, tsdb: Path, *, port: int, scrape_target: str | None, scrape_interval: float = 5.0
) -> Process:
    """Prometheus on ``port`` over ``tsdb``; it scrapes ``scrape_target`` as job ``fanz``."""
    config = workdir / "prometheus.yml"
    # A failed scrape marks every series of the target stale: a gauge then has a hole at the next
    # grid point. The timeout is generous (SCRAPE_TIMEOUT) so a busy machine does not fail it; the
    # engine's query delay in the tests must exceed it, as the defaults do (30 s against 10 s).
    scrape = (
        "scrape_configs:\n"
        "  - job_name: fanz\n"
        f"    scrape_interval: {scrape_interval:g}s\n"
        f"    scrape_timeout: {min(SCRAPE_TIMEOUT, scrape_interval):g}s\n"
        f"    static_configs: [{{targets: ['{scrape_target}']}}]\n"
        if scrape_target
        else ""
    )
    config.write_text("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n" + scrape)
    return Process(
        [
            binary("prometheus"),
            f"--config.file={config}",
            f"--storage.tsdb.path={tsdb}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--storage.tsdb.retention.time=30d",
        ],
        url=f"http://127.0.0.1:{port}",
        ready_path="/-/ready",
    )


def alertmanager_process(workdir: Path, *, port: int, webhook: str | None = None) -> Process:
    config = workdir / "alertmanager.yml"
    receiver = f"    webhook_configs:\n      - url: '{webhook}'\n        send_resolved: true\n" if webhook else ""
    config.write_text(
        "route:\n"
        "  receiver: hook\n"
        "  group_by: ['alertname', 'metric', 'platform']\n"
        "  group_wait: 0s\n"
        "  group_interval: 1s\n"
        "  repeat_interval: 1h\n"
        "receivers:\n"
        "  - name: hook\n" + receiver
    )
    storage = workdir / "am-data"
    storage.mkdir(exist_ok=True)
    return Process(
        [
            binary("alertmanager", "prometheus-alertmanager"),
            f"--config.file={config}",
            f"--storage.path={storage}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
        ],
        url=f"http://127.0.0.1:{port}",
        ready_path="/-/ready",
    )


@dataclass
class WebhookSink:
    """Collects Alertmanager webhook notifications (the JSON bodies it posts)."""

    port: int = field(default_factory=free_port)
    received: list[dict[str, Any]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    @contextmanager
    def serving(self) -> Iterator[None]:
        import json

        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                sink.received.append(json.loads(body))
                self.send_response(200)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield
        finally:
            server.shutdown()
            server.server_close()

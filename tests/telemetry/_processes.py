"""Real processes for the receiver tests: ``fanzwatch telemetry-store`` and ``fanzwatch serve``."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import httpx

FANZWATCH = (sys.executable, "-c", "import sys; sys.argv[0] = 'fanzwatch'; from fanzwatch.cli import main; main()")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Process:
    """One child on a fixed port and log file; ``start`` waits for ``ready_path`` to answer 200."""

    def __init__(
        self, name: str, argv: tuple[str, ...], *, port: int, log: Path, env: Mapping[str, str], ready_path: str
    ) -> None:
        self.name, self.argv, self.port, self.log_path = name, argv, port, log
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("FANZWATCH_")} | dict(env)
        self.ready_path = ready_path
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, *, timeout: float = 600.0) -> None:  # a loaded 2-core machine imports slowly
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(self.argv, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}:\n{self.log_path.read_text()}")
            try:
                if httpx.get(self.url + self.ready_path, timeout=2.0).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"{self.name} not ready within {timeout:g} s:\n{self.log_path.read_text()}")
            time.sleep(0.1)

    def stop(self) -> int:
        """SIGTERM, then wait (SIGKILL after 30 s); the exit code."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
        self.proc = None
        return code


def store_process(data_dir: Path, *, port: int | None = None, env: Mapping[str, str] | None = None) -> Process:
    port = port or free_port()
    argv = (*FANZWATCH, "telemetry-store", "--port", str(port), "--data-dir", str(data_dir))
    return Process("telemetry-store", argv, port=port, log=data_dir / "store.log", env=env or {}, ready_path="/health")


def server_process(data_dir: Path, *, store: Process, env: Mapping[str, str] | None = None) -> Process:
    port = free_port()
    argv = (*FANZWATCH, "serve", "--port", str(port), "--data-dir", str(data_dir))
    settings = {
        "FANZWATCH_ANOMALY_ENABLED": "false",
        "FANZWATCH_DASH_PROMETHEUS_URL": "",
        "FANZWATCH_TELEMETRY_STORE_URL": store.url,
        **(env or {}),
    }
    return Process("server", argv, port=port, log=data_dir / "server.log", env=settings, ready_path="/health/live")

"""``fanzwatch probe journey``: a configuration that would walk nothing is refused; SIGTERM is a clean stop."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from _waiting import wait_until
from fanzwatch.cli import app


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--platforms", " , ", "--max-runs", "1"], "no platform to walk"),
        (["--platforms", "fanz-1,a/b", "--max-runs", "1"], "not a platform name: 'a/b'"),
        (["--max-runs", "0"], "max_runs must be at least 1"),
    ],
)
def test_a_prober_that_would_walk_nothing_is_a_usage_error(args: list[str], said: str) -> None:
    result = CliRunner().invoke(
        app, ["probe", "journey", "--platform-url", "http://127.0.0.1:9", "--port", "1", *args], terminal_width=200
    )
    assert result.exit_code == 2, result.output
    assert said in " ".join(result.output.split())


def test_sigterm_stops_the_prober_cleanly(tmp_path: Path) -> None:
    """``fanzwatch up`` stops its prober with SIGTERM: it ends like Ctrl-C (exit 0, telemetry flushed)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    fanzwatch = Path(sys.executable).with_name("fanzwatch")
    proc = subprocess.Popen(
        [str(fanzwatch), "probe", "journey", "--platform-url", "http://127.0.0.1:9", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
    )
    try:
        metrics = wait_until(
            lambda: httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=2).text,
            timeout=60,
            message="the prober serves /metrics and has walked once",
            ignore=(httpx.TransportError,),
            until=lambda text: "fanz_journey_runs_total{" in text,
        )
        assert 'result="failure"' in metrics  # nothing listens on :9
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 0, stderr.decode()[-2000:]

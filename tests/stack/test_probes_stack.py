"""The stack's blackbox_exporter probes for real: a target that goes down turns its probe red.

A core stack (no demo, no server child: the test serves the server's ``/health/live``
itself, so it can take it down) with short intervals; Prometheus scrapes the
``fanzwatch-live`` probe through the stack's blackbox_exporter every 5 s.
"""

from __future__ import annotations

import http.server
import threading
from pathlib import Path

import httpx
import pytest

from _waiting import wait_until
from fanzwatch.settings.stack import StackSettings
from fanzwatch.stack import Stack


class _Live(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200 if self.path == "/health/live" else 404)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def _probe(prometheus: str) -> list[str]:
    query = 'probe_success{probe="fanzwatch-live", job="blackbox-http_2xx"}'
    data = httpx.get(f"{prometheus}/api/v1/query", params={"query": query}, timeout=5).json()
    return [r["value"][1] for r in data["data"]["result"]]


@pytest.mark.prometheus
def test_a_target_going_down_turns_its_blackbox_probe_red(tmp_path: Path, ports: dict[str, int]) -> None:
    settings = StackSettings(
        data_dir=tmp_path / "data",
        prometheus_port=ports["prometheus"],
        alertmanager_port=ports["alertmanager"],
        node_exporter_port=ports["node_exporter"],
        blackbox_port=ports["blackbox"],
        server_port=ports["server"],
        telemetry_store_port=ports["telemetry_store"],
        run_server=False,
        short_intervals=True,
        stop_grace_seconds=3,
        startup_timeout_seconds=60,
    )
    live = http.server.ThreadingHTTPServer(("127.0.0.1", ports["server"]), _Live)
    thread = threading.Thread(target=live.serve_forever, daemon=True)
    thread.start()
    prometheus = f"http://127.0.0.1:{ports['prometheus']}"
    with Stack(settings) as stack:
        assert "blackbox" in stack.urls()
        wait_until(lambda: _probe(prometheus) == ["1"], timeout=60, message="the probe never passed")
        live.shutdown()
        live.server_close()
        wait_until(lambda: _probe(prometheus) == ["0"], timeout=60, message="the probe never failed")

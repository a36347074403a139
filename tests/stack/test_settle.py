"""The stack's alert rules load once it has settled (``fanzwatch.stack.settle``), on a real Prometheus."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
import yaml

from anomaly.test_engine_stack import Process, binary, free_port, wait_for
from fanzwatch.stack.settle import DEFERRED_HEADER, defer_rule_files, load_rule_files, settle_problems, wait_settled

pytestmark = [pytest.mark.prometheus]


class Exporter:
    """A scrape target whose health check says ``status``."""

    def __init__(self, port: int) -> None:
        self.status = "fail"
        self.engine_unknown = True
        exporter = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = "".join(
                    f'fanz_health_check_status{{check="database",platform="fanz-1",status="{s}"}} '
                    f"{int(s == exporter.status)}\n"
                    for s in ("pass", "warn", "fail")
                )
                body += f'fanz_anomaly_engine_state{{state="unknown"}} {int(exporter.engine_unknown)}\n'
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.end_headers()
                self.wfile.write(body.encode())

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)

    def __enter__(self) -> Exporter:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def prometheus(tmp_path: Path) -> Iterator[tuple[Process, Path, int]]:
    target = free_port()
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "always.yml").write_text(
        yaml.safe_dump({"groups": [{"name": "always", "rules": [{"alert": "Always", "expr": "vector(1)"}]}]})
    )
    config = tmp_path / "prometheus.yml"
    config.write_text(
        yaml.safe_dump(
            {
                "global": {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"},
                "rule_files": ["rules/always.yml"],
                "scrape_configs": [{"job_name": "service", "static_configs": [{"targets": [f"127.0.0.1:{target}"]}]}],
            }
        )
    )
    port = free_port()
    process = Process(
        [
            binary("prometheus"),
            f"--config.file={config}",
            f"--storage.tsdb.path={tmp_path / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--web.enable-lifecycle",
        ],
        url=f"http://127.0.0.1:{port}",
        ready_path="/-/ready",
    )
    yield process, config, target
    process.stop()


def _groups(url: str) -> list[str]:
    return [g["name"] for g in httpx.get(f"{url}/api/v1/rules").json()["data"]["groups"]]


def test_rules_load_only_once_every_target_is_up_and_no_health_check_fails(
    prometheus: tuple[Process, Path, int],
) -> None:
    process, config, target = prometheus
    full = defer_rule_files(config)
    assert full is not None and "rule_files" in full
    assert config.read_text().startswith(DEFERRED_HEADER) and "rule_files" not in yaml.safe_load(config.read_text())
    assert defer_rule_files(config) is None  # nothing left to defer
    process.start()
    assert _groups(process.url) == []

    with httpx.Client(timeout=5) as http:
        assert settle_problems(http, process.url) in (
            ["no scrape target discovered yet"],
            [f"target service http://127.0.0.1:{target}/metrics is unknown"],
        )
        down = [f"target service http://127.0.0.1:{target}/metrics is down"]
        wait_for("the target scraped down", lambda: settle_problems(http, process.url) == down, timeout=30)
        assert wait_settled(process.url, timeout=1.0) == down  # not settled: what is left, after the timeout

        with Exporter(target) as exporter:
            replaying = "the anomaly engine has not finished its first evaluation (replaying history)"
            failing = ["health check database on fanz-1 fails", replaying]
            wait_for("the failing check scraped", lambda: settle_problems(http, process.url) == failing, timeout=30)
            exporter.status = "pass"
            wait_for("the check passing", lambda: settle_problems(http, process.url) == [replaying], timeout=30)
            exporter.engine_unknown = False
            assert wait_settled(process.url, timeout=30.0) == []

    load_rule_files(config, full, process.url)
    assert config.read_text() == full
    assert _groups(process.url) == ["always"]

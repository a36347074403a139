"""A real ``fanzwatch serve`` process: it refuses to run open on a reachable address, and
on 0.0.0.0 with authentication on it answers nobody anonymous but its probes."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from .dash.stack import free_port

FANZWATCH = (sys.executable, "-c", "import sys; sys.argv[0] = 'fanzwatch'; from fanzwatch.cli import main; main()")


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FANZWATCH_")}
    env |= {"FANZWATCH_ANOMALY_ENABLED": "false", "FANZWATCH_DASH_PROMETHEUS_URL": "", **extra}
    return env


@pytest.mark.parametrize(
    ("args", "env"),
    [
        (["--host", "0.0.0.0", "--insecure-open-loopback"], {}),
        (["--host", "0.0.0.0"], {"FANZWATCH_AUTH_INSECURE_OPEN_LOOPBACK": "true"}),
    ],
)
def test_serve_on_0000_with_auth_off_refuses_to_start_and_says_how_to_fix_it(
    tmp_path: Path, args: list[str], env: dict[str, str]
) -> None:
    port = free_port()
    done = subprocess.run(
        [*FANZWATCH, "serve", "--port", str(port), "--data-dir", str(tmp_path), *args],
        env=_env(**env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert "refusing to start: authentication is off (insecure_open_loopback)" in done.stderr
    assert "bind 127.0.0.1 (--host 127.0.0.1)" in done.stderr
    assert "FANZWATCH_AUTH_ADMIN_TOKEN" in done.stderr
    assert not (tmp_path / "fanzwatch.db").exists()  # it never got as far as the store


@pytest.fixture
def exposed_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    port = free_port()
    log = (tmp_path / "server.log").open("w")
    proc = subprocess.Popen(
        [*FANZWATCH, "serve", "--host", "0.0.0.0", "--port", str(port), "--data-dir", str(tmp_path / "data")],
        env=_env(),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert proc.poll() is None, (tmp_path / "server.log").read_text()
            try:
                if httpx.get(f"{url}/health/live", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "fanzwatch serve did not answer /health/live within 90 s"
            time.sleep(0.1)
        yield url, tmp_path
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def test_serve_on_0000_with_generated_tokens_answers_anonymous_callers_only_on_probes(
    exposed_server: tuple[str, Path],
) -> None:
    url, work = exposed_server
    secrets = work / "data" / "secrets"
    tokens = {role: (secrets / f"{role}_token").read_text().strip() for role in ("viewer", "responder", "admin")}
    with httpx.Client(base_url=url, timeout=10) as http:
        assert http.get("/health/ready").status_code in (200, 503)
        for method, path in [
            ("GET", "/api/v1/bi/report"),
            ("GET", "/api/v1/incidents"),
            ("GET", "/api/v1/rum/errors"),
            ("GET", "/api/v1/remediation/audit"),
            ("GET", "/metrics"),
            ("GET", "/health"),
            ("POST", "/api/v1/incidents/1/ack"),
            ("PUT", "/api/v1/remediation/kill-switch"),
        ]:
            assert http.request(method, path, json={}).status_code == 401, (method, path)
        assert http.post("/api/v1/alerts/webhook", json={}).status_code == 401
        viewer = {"authorization": f"Bearer {tokens['viewer']}"}
        assert http.get("/api/v1/incidents", headers=viewer).status_code == 200
        switch = {"engaged": True, "by": "test"}
        responder = {"authorization": f"Bearer {tokens['responder']}"}
        assert http.put("/api/v1/remediation/kill-switch", json=switch, headers=responder).status_code == 403
        admin = {"authorization": f"Bearer {tokens['admin']}"}
        assert http.put("/api/v1/remediation/kill-switch", json=switch, headers=admin).status_code == 200
    log = (work / "server.log").read_text()
    assert all(token not in log for token in tokens.values())  # tokens are never logged
    assert "using the generated ones in" in log

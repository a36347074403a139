"""A running stack for the browser tests: real Prometheus and Alertmanager, the server.

- Prometheus (temp dir, free port) holds the synthetic history (``synthetic.py``) written
  with ``promtool tsdb create-blocks-from openmetrics``, the recording rules backfilled
  with ``promtool tsdb create-blocks-from rules`` over the recent hours, and evaluates the
  provisioned recording and alert rules live, sending alerts to Alertmanager;
- Alertmanager (real binary) gets those alerts and two posted like Prometheus posts them;
- the server app: FanzDash mounted as the lead mounts it, over a real health runner,
  a RUM event store (SQLite), the anomaly engine and a BI service over a platform
  database, served by uvicorn on a free port.

No tests here. Until ``fanzwatch up --demo`` exists this is the demo stack of the tests.
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
import uvicorn
import yaml
from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from fanzwatch import schema
from fanzwatch.anomaly.engine import AnomalyEngine
from fanzwatch.bi.service import BiService
from fanzwatch.core.clock import SystemClock
from fanzwatch.health import DiskCheck, HealthCheckRunner, HttpCheck, TcpCheck
from fanzwatch.provisioning.definitions.recording import RECORDING
from fanzwatch.provisioning.render import RULE_GROUPS
from fanzwatch.rum.store import RumEventStore
from fanzwatch.server.dash import HealthHistory, build_dash_router
from fanzwatch.server.dash.wiring import build_dash_sources
from fanzwatch.settings.anomaly import AnomalySettings
from fanzwatch.settings.dash import DashSettings
from fanzwatch.store import create_store_engine, upgrade

from .._auth import authenticator, secure
from .platform_data import populate
from .rum_events import rum_rows
from .synthetic import PLATFORMS, STEP, write_openmetrics

RUNBOOKS = "https://github.com/fanz/fanzwatch/blob/main/docs/runbooks"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(what: str, probe: Callable[[], Any], timeout: float, interval: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out after {timeout}s waiting for {what}"
        time.sleep(interval)


def binary(*names: str) -> str:
    found = next((p for n in names if (p := shutil.which(n))), None)
    assert found, f"none of {names} is installed (make system-deps)"
    return found


@dataclass
class Child:
    """A real binary on a loopback port, stopped for sure."""

    args: list[str]
    url: str
    log: Path
    proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60.0) -> None:
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(self.args, stdout=log, stderr=subprocess.STDOUT)
        proc = self.proc

        def ready() -> bool:
            assert proc.poll() is None, f"{self.args[0]} exited: {self.log.read_text()[-2000:]}"
            try:
                return httpx.get(self.url + "/-/ready", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for(f"{self.args[0]} to be ready", ready, timeout)

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


def _promtool(*args: str) -> None:
    subprocess.run([binary("promtool"), "tsdb", *args], check=True, capture_output=True, timeout=300)


def _rules(path: Path, *, alerts: bool) -> Path:
    groups = RULE_GROUPS if alerts else (RECORDING,)
    doc = {"groups": [g.to_dict(runbook_base_url=RUNBOOKS, for_scale=0.01) for g in groups]}
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def _prometheus(work: Path, port: int, *, rules: Path | None, alertmanager: str | None) -> Child:
    config: dict[str, Any] = {
        "global": {"scrape_interval": "15s", "evaluation_interval": "5s"},
        "scrape_configs": [{"job_name": "prometheus", "static_configs": [{"targets": [f"127.0.0.1:{port}"]}]}],
    }
    if rules is not None:
        config["rule_files"] = [str(rules)]
    if alertmanager is not None:
        config["alerting"] = {"alertmanagers": [{"static_configs": [{"targets": [alertmanager]}]}]}
    path = work / "prometheus.yml"
    path.write_text(yaml.safe_dump(config))
    return Child(
        [
            binary("prometheus"),
            f"--config.file={path}",
            f"--storage.tsdb.path={work / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--storage.tsdb.retention.time=30d",
        ],
        f"http://127.0.0.1:{port}",
        work / "prometheus.log",
    )


def _alertmanager(work: Path, port: int) -> Child:
    config = {
        "route": {"receiver": "null", "group_by": ["alertname", "platform"], "group_wait": "0s"},
        "receivers": [{"name": "null"}],
    }
    path = work / "alertmanager.yml"
    path.write_text(yaml.safe_dump(config))
    (work / "am-data").mkdir(exist_ok=True)
    return Child(
        [
            binary("alertmanager", "prometheus-alertmanager"),
            f"--config.file={path}",
            f"--storage.path={work / 'am-data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
        ],
        f"http://127.0.0.1:{port}",
        work / "alertmanager.log",
    )


def post_alerts(am_url: str, now: datetime) -> None:
    """Two alerts shaped like the provisioned rules' (labels, summary, runbook_url)."""
    rules = {r.name: r for g in RULE_GROUPS for r in g.alerts()}
    body = []
    for name, platform in (("PaymentFailureRate", "fanz-3"), ("HighResponseTime", "fanz-2")):
        rendered = rules[name].to_dict(runbook_base_url=RUNBOOKS)
        # What Prometheus' template expansion would make of the annotations.
        for key, text in rendered["annotations"].items():
            text = text.replace("{{ $labels.platform }}", platform)
            rendered["annotations"][key] = re.sub(
                r"\{\{ \$value[^}]*\}\}", "12%" if "Payment" in name else "1.8s", text
            )
        body.append(
            {
                "labels": {"alertname": name, "platform": platform, **rendered["labels"]},
                "annotations": rendered["annotations"],
                "startsAt": (now - timedelta(minutes=9)).isoformat(),
                "endsAt": (now + timedelta(hours=2)).isoformat(),
                "generatorURL": "http://prometheus.test/graph",
            }
        )
    httpx.post(f"{am_url}/api/v2/alerts", json=body, timeout=5).raise_for_status()


@dataclass
class DashStack:
    url: str
    prometheus_url: str
    alertmanager_url: str
    platforms: tuple[str, ...]
    end: float
    dash_requests: list[str]  # every request FanzDash's own HTTP client sent (its sources), as URLs


def _server_app(work: Path, prom: str, am: str, platforms: tuple[str, ...], dash_requests: list[str]) -> FastAPI:
    settings = DashSettings(prometheus_url=prom, alertmanager_url=am, scrape_interval_seconds=STEP)
    store_url = f"sqlite:///{work / 'store.db'}"
    upgrade(store_url)
    bi_engine = sa.create_engine(f"sqlite:///{work / 'platform.db'}")
    schema.create_all(bi_engine)
    populate(bi_engine, end=datetime.now(UTC))
    for platform in ("fanz-1", "fanz-2", "fanz-3"):
        assert platform in platforms
    bi = BiService(bi_engine, platforms=("fanz-1", "fanz-2", "fanz-3"), clock=SystemClock(), use_rollups=False)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        registry = CollectorRegistry()
        engine = create_store_engine(store_url)
        store = RumEventStore(engine)
        await store.write(rum_rows(datetime.now(UTC)))

        async def record(request: httpx.Request) -> None:
            dash_requests.append(str(request.url))

        async with (
            httpx.AsyncClient(timeout=httpx.Timeout(10.0, connect=3.0)) as http,
            # FanzDash's sources get a client of their own: what a page costs Prometheus is counted
            httpx.AsyncClient(timeout=httpx.Timeout(10.0, connect=3.0), event_hooks={"request": [record]}) as dash_http,
        ):
            checks = [
                HttpCheck("prometheus", f"{prom}/-/ready", client=http),
                HttpCheck("alertmanager", f"{am}/-/ready", client=http),
                TcpCheck("platform_database", "127.0.0.1", 5432),
                # the machine's disk is shared and may be over 95 % full: pass unless it is really full
                DiskCheck("data_disk", [work], warn_used_ratio=1.0, fail_used_ratio=1.0, min_free_bytes=1 << 20),
                TcpCheck("payment_processor", "127.0.0.1", free_port(), critical=False),
            ]
            runner = HealthCheckRunner(checks, registry=registry, period=3.0, default_timeout=2.0, max_age=1.0)
            history = HealthHistory(runner, points=240, interval=0.5)
            anomaly = AnomalyEngine(
                AnomalySettings(
                    prometheus_url=prom,
                    alertmanager_url=am,
                    step_seconds=STEP,
                    interval_seconds=5,
                    query_delay_seconds=0,
                    rate_window_seconds=int(3 * STEP),
                    history_seconds=26 * 3600,
                    stale_after_seconds=3600,
                ),
                http,
                registry,
                SystemClock(),
            )
            app.state.dash_sources = build_dash_sources(
                dash_http,
                settings,
                health_runner=runner,
                health_history=history,
                rum_store=store,
                get_anomaly_engine=lambda: anomaly,
                bi_service=bi,
            )
            await runner.start()
            await history.start()
            await anomaly.start()
            try:
                yield
            finally:
                await anomaly.stop()
                await history.stop()
                await runner.stop()
                await engine.dispose()

    app = FastAPI(lifespan=lifespan)
    auth = authenticator(open_loopback=True)  # screenshots of every page: no sign-in
    app.include_router(
        build_dash_router(lambda: getattr(app.state, "dash_sources", None), settings, platforms=platforms, auth=auth)
    )
    return secure(app, auth)


@contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        wait_for("the server to start", lambda: server.started or not thread.is_alive(), 60)
        assert thread.is_alive(), "the server did not start"
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)


@contextmanager
def running_stack(work: Path) -> Iterator[DashStack]:
    end = (time.time() // STEP) * STEP
    work.mkdir(parents=True, exist_ok=True)
    write_openmetrics(work / "history.om", end)
    _promtool(
        "create-blocks-from",
        "openmetrics",
        "-q",
        "--max-block-duration=48h",
        str(work / "history.om"),
        str(work / "tsdb"),
    )
    (work / "history.om").unlink()
    prom_port, am_port = free_port(), free_port()
    # A first Prometheus over the raw history lets promtool backfill the recording rules.
    first = _prometheus(work, prom_port, rules=None, alertmanager=None)
    first.start()
    try:
        _promtool(
            "create-blocks-from",
            "rules",
            "-q",
            f"--url={first.url}",
            f"--start={int(end - 26 * 3600)}",
            f"--end={int(end)}",
            f"--eval-interval={int(STEP)}s",
            f"--output-dir={work / 'tsdb'}",
            str(_rules(work / "recording.yml", alerts=False)),
        )
    finally:
        first.stop()
    am = _alertmanager(work, am_port)
    prom = _prometheus(
        work, prom_port, rules=_rules(work / "rules.yml", alerts=True), alertmanager=f"127.0.0.1:{am_port}"
    )
    am.start()
    prom.start()
    try:
        post_alerts(am.url, datetime.now(UTC))
        platforms = tuple(PLATFORMS)
        dash_requests: list[str] = []
        with serving(_server_app(work, prom.url, am.url, platforms, dash_requests)) as url:
            yield DashStack(url, prom.url, am.url, platforms, end, dash_requests)
    finally:
        prom.stop()
        am.stop()

"""Alert rules load once the stack has settled: its own start-up is not an incident.

Prometheus starts after its targets (``Stack._launch``), but what they report in their first
seconds still describes a stack that is starting: the server's health check of Prometheus
failed until Prometheus ran, a target is scraped for the first time, the anomaly engine is
still replaying its history (state ``unknown``), a demo tenant has no traffic yet. With the
demo's alert holds (x0.02: a 1-minute hold is 1.2 s) each of those would open an incident
before anything is wrong. So Prometheus starts with its scrape jobs and without
``rule_files``; once every target has answered a scrape, no health check reports ``fail``
and the anomaly engine has evaluated once (or after ``SETTLE_TIMEOUT_SECONDS``, saying what
is still wrong), the full configuration is written back and Prometheus reloads it
(``POST /-/reload``).

>>> with_rules = defer_rule_files(paths.config / "prometheus.yml")   # before Prometheus starts
>>> problems = wait_settled(prometheus_url, timeout=60.0)
>>> load_rule_files(paths.config / "prometheus.yml", with_rules, prometheus_url)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import yaml

from ..core.catalog.anomaly import ENGINE_STATE

SETTLE_TIMEOUT_SECONDS = 60.0
POLL_SECONDS = 0.5
_FAILING_CHECKS = 'max by (check, platform) (fanz_health_check_status{status="fail"}) == 1'
_ENGINE_UNKNOWN = f'max({ENGINE_STATE.name}{{state="unknown"}}) == 1'
DEFERRED_HEADER = "# fanzwatch up: the stack is starting; alert rules load once every target is up\n"


def defer_rule_files(config: Path) -> str | None:
    """Write ``config`` without its ``rule_files``; return the full text (None: it has none)."""
    full = config.read_text()
    data = yaml.safe_load(full)
    if not isinstance(data, dict) or not data.get("rule_files"):
        return None
    data.pop("rule_files")
    config.write_text(DEFERRED_HEADER + yaml.safe_dump(data, sort_keys=False))
    return full


def settle_problems(http: httpx.Client, prometheus_url: str) -> list[str]:
    """What still says "starting": targets not up, health checks failing (empty: settled)."""
    problems: list[str] = []
    targets = http.get(f"{prometheus_url}/api/v1/targets", params={"state": "active"})
    targets.raise_for_status()
    active = targets.json()["data"]["activeTargets"]
    if not active:  # just started: service discovery has not run yet
        problems.append("no scrape target discovered yet")
    for target in active:
        if target.get("health") != "up":
            job = target.get("labels", {}).get("job", "?")
            problems.append(f"target {job} {target.get('scrapeUrl', '')} is {target.get('health')}")
    for series in _query(http, prometheus_url, _FAILING_CHECKS):
        labels = series["metric"]
        problems.append(f"health check {labels.get('check', '?')} on {labels.get('platform', '?')} fails")
    if _query(http, prometheus_url, _ENGINE_UNKNOWN):
        problems.append("the anomaly engine has not finished its first evaluation (replaying history)")
    return problems


def _query(http: httpx.Client, prometheus_url: str, expr: str) -> list[dict[str, Any]]:
    response = http.get(f"{prometheus_url}/api/v1/query", params={"query": expr})
    response.raise_for_status()
    result: list[dict[str, Any]] = response.json()["data"]["result"]
    return result


def wait_settled(
    prometheus_url: str,
    *,
    timeout: float = SETTLE_TIMEOUT_SECONDS,
    should_stop: Callable[[], bool] = lambda: False,
) -> list[str]:
    """Wait until :func:`settle_problems` is empty; on timeout (or stop), what is left."""
    deadline = time.monotonic() + timeout
    problems = ["Prometheus has not answered"]
    with httpx.Client(timeout=5.0) as http:
        while True:
            try:
                problems = settle_problems(http, prometheus_url)
            except (httpx.HTTPError, KeyError, ValueError) as exc:
                problems = [f"Prometheus could not be asked: {exc}"]
            if not problems or should_stop() or time.monotonic() >= deadline:
                return problems
            time.sleep(POLL_SECONDS)


def load_rule_files(config: Path, full: str, prometheus_url: str) -> None:
    """Write the full configuration back and have Prometheus reload it (raises on failure)."""
    config.write_text(full)
    with httpx.Client(timeout=30.0) as http:
        http.post(f"{prometheus_url}/-/reload").raise_for_status()

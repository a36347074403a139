"""Metrics are exact under uvicorn --workers 2: no count lost, none doubled."""

from __future__ import annotations

import http.client
import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
import redis
from prometheus_client.parser import text_string_to_metric_families

from ._servers import uvicorn_server

N = 120  # at least this many requests
BATCH = 40
MAX_REQUESTS = 800


def _samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


def _value(samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float | None:
    return samples.get((name, frozenset(labels.items())))


@pytest.mark.slow
@pytest.mark.redis
def test_two_uvicorn_workers_report_exact_totals(tmp_path: Path) -> None:
    mp_dir = tmp_path / "prom"
    mp_dir.mkdir()
    prefix = f"fw-test-{uuid.uuid4().hex}"
    env = {
        "PROMETHEUS_MULTIPROC_DIR": str(mp_dir),
        "FANZWATCH_TELEMETRY_SERVICE_NAME": "mp-test",
        "FANZWATCH_TELEMETRY_PLATFORM": "fanz-2",
        "FANZWATCH_TELEMETRY_TRACING": "false",
        "FANZWATCH_TELEMETRY_AUTO_INSTRUMENT": "[]",
        "FANZWATCH_TELEMETRY_ACTIVE_USERS_REDIS_URL": "redis://127.0.0.1:6379/0",
        "FANZWATCH_TELEMETRY_ACTIVE_USERS_KEY_PREFIX": prefix,
        "FANZWATCH_TELEMETRY_ACTIVE_USERS_FLUSH_INTERVAL_S": "0.1",
        "MP_DB_URL": f"sqlite:///{tmp_path / 'app.db'}",
    }
    try:
        with uvicorn_server("mp_app:app", env=env, workers=2) as base:
            host, port = base.removeprefix("http://").split(":")

            def pay(n: int) -> int:
                # A new connection per request so the kernel spreads them over both workers
                # (http.client: no per-client set-up cost, unlike an httpx.Client).
                conn = http.client.HTTPConnection(host, int(port), timeout=10)
                try:
                    conn.request("POST", f"/pay/{n}")
                    response = conn.getresponse()
                    assert response.status == 200
                    pid: int = json.loads(response.read())["pid"]
                    return pid
                finally:
                    conn.close()

            # Batches until both workers have served (the kernel decides; bounded).
            sent = 0
            pids: set[int] = set()
            with ThreadPoolExecutor(8) as pool:
                while sent < N or (len(pids) < 2 and sent < MAX_REQUESTS):
                    pids |= set(pool.map(pay, range(sent, sent + BATCH)))
                    sent += BATCH
            assert len(pids) == 2, "both workers must have served requests for this test to mean anything"

            # Whichever worker answers the scrape, it sees every worker's counts.
            scrapes = []
            for _ in range(4):
                with httpx.Client(base_url=base, timeout=10) as client:
                    scrapes.append(_samples(client.get("/metrics").text))
    finally:
        client_r = redis.Redis()
        for key in client_r.scan_iter(f"{prefix}:*"):
            client_r.delete(key)

    completed = sum(1 for n in range(sent) if n % 2 == 0)
    for s in scrapes:
        pay_labels = {"platform": "fanz-2", "payment_type": "tip", "currency": "EUR"}
        assert _value(s, "fanz_payment_transactions_total", **pay_labels, status="completed") == completed
        assert _value(s, "fanz_payment_transactions_total", **pay_labels, status="declined") == sent - completed
        assert _value(s, "fanz_revenue_total", **pay_labels) == pytest.approx(2.5 * completed)
        route_labels = {
            "platform": "fanz-2",
            "http_request_method": "POST",
            "http_route": "/pay/{n}",
            "http_response_status_code": "200",
            "status_class": "2xx",
        }
        assert _value(s, "http_server_request_duration_seconds_count", **route_labels) == sent
        assert _value(s, "http_server_request_duration_seconds_bucket", **route_labels, le="+Inf") == sent
        # Health checks and scrapes are excluded: the only HTTP series is /pay/{n}.
        routes = {dict(k[1]).get("http_route") for k in s if k[0] == "http_server_request_duration_seconds_count"}
        assert routes == {"/pay/{n}"}
        # Distinct users across both workers, through Redis: 7, not one per request.
        assert _value(s, "fanz_active_users", platform="fanz-2") == 7
        # Each worker's pool allows 3 + 2 overflow; livesum adds the two live workers.
        assert _value(s, "db_client_connection_max", platform="fanz-2", pool_name="main") == 10
        assert _value(s, "db_client_connection_count", platform="fanz-2", pool_name="main", state="used") == 0
        # The memory limit is the same for every worker; per-process metrics are left out.
        limit = _value(s, "fanz_process_memory_limit_bytes")
        assert limit is not None and limit > 0
        assert _value(s, "process_resident_memory_bytes") is None

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry, Counter

from fanzwatch.server import create_app
from fanzwatch.settings import ServerSettings
from fanzwatch.settings.anomaly import AnomalySettings
from fanzwatch.settings.auth import AuthSettings

from ._auth import TOKENS

AUTH = AuthSettings(**{f"{role}_token": token for role, token in TOKENS.items()})
BEARER = {"authorization": f"Bearer {TOKENS['viewer']}"}
CHROME_UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36"


def metrics_text(client: TestClient) -> str:
    return client.get("/metrics").text


def test_create_app_has_no_side_effects_until_started(tmp_path: Path) -> None:
    create_app(ServerSettings(auth=AUTH, data_dir=tmp_path / "data"))
    assert not (tmp_path / "data").exists()


def test_lifespan_migrates_store_and_serves_live_and_metrics(tmp_path: Path) -> None:
    registry = CollectorRegistry()
    Counter("probe_hits", "a test counter", registry=registry).inc(3)
    app = create_app(ServerSettings(auth=AUTH, data_dir=tmp_path), registry=registry)
    with TestClient(app, headers=BEARER) as client:
        assert (tmp_path / "fanzwatch.db").exists()
        live = client.get("/health/live")
        assert live.status_code == 200
        assert live.headers["content-type"] == "application/health+json"
        assert live.json() == {"status": "pass", "serviceId": "fanzwatch", "version": "0.1.0"}
        health = client.get("/health").json()
        # The server's own checks, with no configuration: its store (critical), disk and memory.
        assert sorted(health["checks"]) == ["disk:utilization", "memory:utilization", "store:responseTime"]
        assert health["checks"]["store:responseTime"][0]["status"] == "pass"
        assert health["status"] in ("pass", "warn")  # disk and memory only warn
        assert 'fanz_health_check_status{check="store"' in metrics_text(client)
        metrics = client.get("/metrics")
        assert metrics.status_code == 200
        assert "probe_hits_total 3.0" in metrics.text
        assert client.get("/no-such-page").status_code == 404


def test_server_instruments_its_own_requests_by_route_template(tmp_path: Path) -> None:
    app = create_app(ServerSettings(auth=AUTH, data_dir=tmp_path))
    with TestClient(app, headers=BEARER) as client:
        assert client.get("/no-such-page/123").status_code == 404
        client.get("/health")
        text = metrics_text(client)
    assert 'http_route="unmatched"' in text
    assert "/no-such-page/123" not in text
    # SQLite's default QueuePool: 5 connections plus 10 overflow, read from the real pool.
    assert 'db_client_connection_max{platform="other",pool_name="store"} 15.0' in text


def test_rum_beacons_are_accepted_and_the_script_served(tmp_path: Path) -> None:
    app = create_app(ServerSettings(auth=AUTH, data_dir=tmp_path))
    with TestClient(app, headers=BEARER) as client:
        script = client.get("/rum/fanz-rum.js")
        assert script.status_code == 200
        assert "javascript" in script.headers["content-type"]
        bad = client.post("/api/v1/analytics/batch", content=b"{not json", headers={"content-type": "text/plain"})
        assert bad.status_code == 400


def test_a_valid_beacon_moves_the_rum_metrics(tmp_path: Path) -> None:
    now_ms = int(time.time() * 1000)
    payload = {
        "v": 1,
        "sid": "5f1d3c2b4a6978e0",
        "platform": "fanz-1",
        "sent": now_ms,
        "url": "https://fanz-1.example/creator/42?email=a@b.c",
        "events": [{"type": "vital", "t": now_ms - 1000, "name": "LCP", "value": 1800.0}],
    }
    app = create_app(ServerSettings(auth=AUTH, data_dir=tmp_path))
    with TestClient(app, headers=BEARER) as client:
        res = client.post(
            "/api/v1/analytics/batch",
            content=json.dumps(payload),
            headers={"content-type": "text/plain", "user-agent": CHROME_UA},
        )
        assert res.status_code in {202, 204}, res.text
        text = metrics_text(client)
    assert (
        'fanz_rum_lcp_seconds_count{device_class="desktop",page_template="/creator/:id",platform="fanz-1"} 1.0' in text
    )
    assert "a@b.c" not in text


def test_anomaly_engine_runs_in_the_server_and_says_unknown_without_prometheus(tmp_path: Path) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]
    settings = ServerSettings(
        auth=AUTH, data_dir=tmp_path, anomaly=AnomalySettings(prometheus_url=f"http://127.0.0.1:{dead}")
    )
    with TestClient(create_app(settings), headers=BEARER) as client:
        assert client.get("/api/v1/anomalies").status_code == 200
        assert client.get("/api/v1/anomalies/insights").status_code in {400, 422}  # metric is required
        text = metrics_text(client)
    assert "fanz_anomaly_engine_up 0.0" in text


def test_alertmanager_webhook_and_incident_api_are_served(tmp_path: Path) -> None:
    with TestClient(create_app(ServerSettings(auth=AUTH, data_dir=tmp_path)), headers=BEARER) as client:
        anonymous = client.post("/api/v1/alerts/webhook", json={"version": "3", "alerts": []})
        assert anonymous.status_code == 401  # no token configured: one was generated, and is required
        token = (tmp_path / "secrets" / "webhook_token").read_text().strip()
        malformed = client.post(
            "/api/v1/alerts/webhook", json={"version": "3", "alerts": []}, headers={"authorization": f"Bearer {token}"}
        )
        assert malformed.status_code == 400
        listing = client.get("/api/v1/incidents")
        assert listing.status_code == 200


def test_fanzdash_and_bi_are_served_and_say_what_is_missing(tmp_path: Path) -> None:
    with TestClient(create_app(ServerSettings(auth=AUTH, data_dir=tmp_path)), headers=BEARER) as client:
        assert client.get("/", follow_redirects=False).headers["location"] == "/dash/"
        page = client.get("/dash/")
        assert page.status_code == 200
        assert "<html" in page.text
        bi = client.get("/api/v1/bi/report", params={"window": "24h"})
        assert bi.status_code == 503
        assert "FANZWATCH_BI_DATABASE_URL" in bi.json()["detail"]


def test_bi_reports_from_the_platform_database(tmp_path: Path) -> None:
    from sqlalchemy import create_engine

    from fanzwatch import schema
    from fanzwatch.settings.bi import BiSettings

    url = f"sqlite:///{tmp_path / 'platform.db'}"
    engine = create_engine(url)
    schema.create_all(engine)
    engine.dispose()
    settings = ServerSettings(
        auth=AUTH, data_dir=tmp_path / "data", bi=BiSettings(database_url=url, refresh_rollups=False)
    )
    with TestClient(create_app(settings), headers=BEARER) as client:
        report = client.get("/api/v1/bi/report", params={"window": "24h", "platform": "fanz-1"})
        assert report.status_code == 200, report.text
        assert client.get("/api/v1/bi/report", params={"window": "banana"}).status_code in {400, 422}
        assert "fanz_bi_" in metrics_text(client)


def test_the_traces_and_logs_pipeline_counts_itself_on_metrics(tmp_path: Path) -> None:
    from fanzwatch.settings.telemetry_store import TelemetryStoreSettings

    with socket.socket() as sock:  # a port nothing listens on: no write is attempted here anyway
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = ServerSettings(
        auth=AUTH, data_dir=tmp_path, telemetry_store=TelemetryStoreSettings(url=f"http://127.0.0.1:{port}")
    )
    with TestClient(create_app(settings), headers=BEARER) as client:
        refused = client.post("/v1/logs", content=b"", headers={"content-type": "application/x-protobuf"})
        assert refused.status_code == 401  # the viewer token is not the OTLP token
        text = metrics_text(client)
    assert 'fanz_otlp_requests_total{outcome="unauthorized",signal="logs"} 1.0' in text
    assert 'fanz_otlp_requests_total{outcome="accepted",signal="traces"} 0.0' in text
    assert "fanz_otlp_queue_capacity_records 200000.0" in text
    assert "fanz_otlp_store_up 1.0" in text
    assert "fanz_otlp_spool_files 0.0" in text
    assert 'fanz_otlp_queued_records{signal="traces"} 0.0' in text

"""Every route of the real app × anonymous, viewer, responder, admin × loopback and exposed bind.

The routes come from the app's own route table, so a route someone adds is tested the
day it lands: it must appear in ``EXPECTED`` (the documented policy, see
docs/security.md), or this test fails and says which route is missing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from fanzwatch.core.errors import ConfigError
from fanzwatch.server import create_app
from fanzwatch.server.auth import route_templates
from fanzwatch.settings import ServerSettings
from fanzwatch.settings.anomaly import AnomalySettings
from fanzwatch.settings.auth import AuthSettings
from fanzwatch.settings.dash import DashSettings

from ._auth import TOKENS

PUBLIC, VIEWER, RESPONDER, ADMIN, WEBHOOK = "public", "viewer", "responder", "admin", "webhook token"
OTLP = "otlp token"
RANK = {PUBLIC: 0, VIEWER: 1, RESPONDER: 2, ADMIN: 3}

# The documented policy: (method, route template) -> who may call it.
EXPECTED: dict[tuple[str, str], str] = {
    ("GET", "/openapi.json"): VIEWER,
    ("GET", "/docs"): VIEWER,
    ("GET", "/docs/oauth2-redirect"): VIEWER,
    ("GET", "/redoc"): VIEWER,
    ("GET", "/metrics"): VIEWER,
    ("GET", "/health"): VIEWER,
    ("GET", "/health/live"): PUBLIC,
    ("GET", "/health/ready"): PUBLIC,
    ("GET", "/health/checks/{name}"): VIEWER,
    ("GET", "/api/v1/rum/vitals"): VIEWER,
    ("GET", "/api/v1/rum/errors"): VIEWER,
    ("GET", "/rum/fanz-rum.js"): PUBLIC,
    ("GET", "/api/v1/anomalies"): VIEWER,
    ("GET", "/api/v1/anomalies/series"): VIEWER,
    ("GET", "/api/v1/anomalies/insights"): VIEWER,
    ("GET", "/api/v1/anomalies/forecast"): VIEWER,
    ("POST", "/api/v1/alerts/webhook"): WEBHOOK,
    ("POST", "/v1/traces"): OTLP,
    ("POST", "/v1/logs"): OTLP,
    ("GET", "/api/v1/incidents"): VIEWER,
    ("GET", "/api/v1/incidents/{incident_id}"): VIEWER,
    ("GET", "/api/v1/incidents/{incident_id}/report"): VIEWER,
    ("POST", "/api/v1/incidents/{incident_id}/ack"): RESPONDER,
    ("POST", "/api/v1/incidents/{incident_id}/resolve"): RESPONDER,
    ("POST", "/api/v1/incidents/{incident_id}/notes"): RESPONDER,
    ("GET", "/api/v1/remediation/kill-switch"): VIEWER,
    ("PUT", "/api/v1/remediation/kill-switch"): ADMIN,
    ("GET", "/api/v1/remediation/audit"): VIEWER,
    ("GET", "/api/v1/bi/report"): VIEWER,
    ("GET", "/api/v1/bi/rollups"): VIEWER,
    ("GET", "/api/v1/telemetry/traces"): VIEWER,
    ("GET", "/api/v1/telemetry/traces/{trace_id}"): VIEWER,
    ("GET", "/api/v1/telemetry/logs"): VIEWER,
    ("GET", "/api/v1/telemetry/logs/tail"): VIEWER,
    ("GET", "/dash/"): VIEWER,
    ("GET", "/dash"): VIEWER,
    ("GET", "/dash/dashboards"): VIEWER,
    ("GET", "/dash/dashboards/{uid}"): VIEWER,
    ("GET", "/dash/alerts"): VIEWER,
    ("POST", "/dash/alerts/silences"): RESPONDER,
    ("POST", "/dash/alerts/silences/{silence_id}/expire"): RESPONDER,
    ("GET", "/dash/anomalies"): VIEWER,
    ("GET", "/dash/anomalies/analysis"): VIEWER,
    ("GET", "/dash/rum"): VIEWER,
    ("GET", "/dash/bi"): VIEWER,
    ("GET", "/dash/health"): VIEWER,
    ("GET", "/dash/slos"): VIEWER,
    ("GET", "/dash/incidents"): VIEWER,
    ("GET", "/dash/incidents/{incident_id}"): VIEWER,
    ("GET", "/dash/incidents/{incident_id}/budget"): VIEWER,
    ("GET", "/dash/incidents/{incident_id}/report"): VIEWER,
    ("POST", "/dash/incidents/{incident_id}/ack"): RESPONDER,
    ("POST", "/dash/incidents/{incident_id}/resolve"): RESPONDER,
    ("POST", "/dash/incidents/{incident_id}/notes"): RESPONDER,
    ("GET", "/dash/traces"): VIEWER,
    ("GET", "/dash/traces/{trace_id}"): VIEWER,
    ("GET", "/dash/logs"): VIEWER,
    ("GET", "/dash/logs/tail"): VIEWER,
    ("GET", "/dash/static/{name}"): PUBLIC,
    ("GET", "/dash/login"): PUBLIC,
    ("POST", "/dash/login"): PUBLIC,
    ("POST", "/dash/logout"): PUBLIC,
    ("GET", "/"): PUBLIC,
}
SAMPLE_PARAMS = {"name": "store", "incident_id": "1", "uid": "fanz-core", "silence_id": "abc", "name_": "x"}
CALLERS = ("anonymous", VIEWER, RESPONDER, ADMIN)


def _settings(tmp: Path, host: str, **auth: object) -> ServerSettings:
    return ServerSettings(
        data_dir=tmp,
        host=host,
        auth=AuthSettings(**({f"{r}_token": t for r, t in TOKENS.items()} | auth)),
        anomaly=AnomalySettings(enabled=False),
        dash=DashSettings(prometheus_url="", alertmanager_url=""),
    )


def _concrete(template: str) -> str:
    return re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: SAMPLE_PARAMS.get(m.group(1), "x"), template)


def _routes(app: FastAPI) -> set[tuple[str, str]]:
    return {(m, t.template) for t in route_templates(app.routes) for m in t.methods if m != "HEAD"}


@pytest.fixture(scope="module", params=["127.0.0.1", "0.0.0.0"])
def served(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    app = create_app(_settings(tmp_path_factory.mktemp("matrix"), request.param))
    with TestClient(app, follow_redirects=False) as client:
        yield client


def test_every_route_of_the_app_is_in_the_documented_table(served: TestClient) -> None:
    routes = _routes(served.app)  # type: ignore[arg-type]
    missing = sorted(routes - EXPECTED.keys())
    stale = sorted(EXPECTED.keys() - routes)
    assert not missing, f"routes without a documented role (add them to EXPECTED and docs/security.md): {missing}"
    assert not stale, f"EXPECTED names routes the app no longer has: {stale}"


def _call(client: TestClient, method: str, template: str, caller: str) -> tuple[int, dict[str, str]]:
    headers = {} if caller == "anonymous" else {"authorization": f"Bearer {TOKENS[caller]}"}
    body = {"json": {}} if method in ("POST", "PUT") else {}
    response = client.request(method, _concrete(template), headers=headers, **body)
    out = dict(response.headers)
    # The policy's own refusals name the role needed; a handler's 401/403 (a CSRF check,
    # the webhook's token) is a different answer.
    out["x-refused-by-policy"] = str(response.status_code in (401, 403) and "This needs the" in response.text)
    return response.status_code, out


@pytest.mark.parametrize("caller", CALLERS)
def test_each_caller_gets_the_documented_answer_on_every_route(served: TestClient, caller: str) -> None:
    wrong: list[str] = []
    for (method, template), needed in sorted(EXPECTED.items()):
        status, headers = _call(served, method, template, caller)
        if needed == WEBHOOK:  # public to the policy; Alertmanager's token is checked by the webhook
            ok = status == 401 and "Basic" in headers.get("www-authenticate", "")
        elif needed == OTLP:  # public to the policy; the receiver checks the otlp_token itself
            ok = status == 401 and headers["x-refused-by-policy"] == "False"
        elif (caller != "anonymous" and RANK[caller] >= RANK[needed]) or needed == PUBLIC:
            to_login = headers.get("location", "").startswith("/dash/login?next=")
            ok = headers["x-refused-by-policy"] == "False" and not to_login
        elif caller == "anonymous" and template.startswith("/dash") and method == "GET":
            ok = status == 303 and headers["location"].startswith("/dash/login?next=")
        elif caller == "anonymous":
            ok = status == 401 and headers.get("www-authenticate", "").startswith("Bearer")
        else:
            ok = status == 403 and headers["x-refused-by-policy"] == "True"
        if not ok:
            wrong.append(f"{caller} {method} {template} (needs {needed}) -> {status}")
    assert not wrong, "\n".join(wrong)


def test_beacons_stay_public_and_unknown_paths_are_not_revealed(served: TestClient) -> None:
    beacon = served.post("/api/v1/analytics/batch", content=b"{}", headers={"content-type": "text/plain"})
    assert beacon.status_code == 422  # its own rules (schema), no token asked
    assert served.get("/no/such/route").status_code == 401
    viewer = {"authorization": f"Bearer {TOKENS[VIEWER]}"}
    assert served.get("/no/such/route", headers=viewer).status_code == 404
    assert served.delete("/api/v1/incidents/1", headers=viewer).status_code == 403  # writes need responder


def test_the_webhook_takes_the_generated_token(served: TestClient, tmp_path_factory: pytest.TempPathFactory) -> None:
    secrets_dir = served.app.state.authenticator.secrets_dir  # type: ignore[attr-defined]
    token = (secrets_dir / "webhook_token").read_text().strip()
    assert len(token) == 64 and (secrets_dir / "webhook_token").stat().st_mode & 0o777 == 0o600
    answer = served.post("/api/v1/alerts/webhook", json={}, headers={"authorization": f"Bearer {token}"})
    assert answer.status_code == 400  # past authentication: the empty payload is malformed


def test_the_otlp_receiver_takes_the_generated_token(served: TestClient) -> None:
    secrets_dir = served.app.state.authenticator.secrets_dir  # type: ignore[attr-defined]
    token = (secrets_dir / "otlp_token").read_text().strip()
    assert len(token) == 64 and (secrets_dir / "otlp_token").stat().st_mode & 0o777 == 0o600
    headers = {"authorization": f"Bearer {token}", "content-type": "application/json"}
    answer = served.post("/v1/traces", content=b"{}", headers=headers)
    assert (answer.status_code, answer.json()) == (200, {})  # past authentication: an empty export
    answer = served.post("/v1/logs", content=b"{}", headers={**headers, "authorization": "Bearer viewer-is-not-it"})
    assert answer.status_code == 401 and answer.json()["message"].startswith("a valid bearer token is needed")


def test_open_loopback_lets_local_callers_in_but_not_through_a_proxy(tmp_path: Path) -> None:
    app = create_app(_settings(tmp_path, "127.0.0.1", insecure_open_loopback=True))
    with TestClient(app, follow_redirects=False) as client:
        for (method, template), needed in EXPECTED.items():
            if needed == WEBHOOK:
                continue
            _, headers = _call(client, method, template, "anonymous")
            assert headers["x-refused-by-policy"] == "False", (method, template)
            assert not headers.get("location", "").startswith("/dash/login?next="), (method, template)
        proxied = client.get("/api/v1/incidents", headers={"x-forwarded-for": "203.0.113.9"})
        assert proxied.status_code == 403
        assert "requests through a proxy are refused" in proxied.json()["detail"]


@pytest.mark.parametrize("host", ["0.0.0.0", "10.1.2.3", "::"])
def test_open_loopback_on_a_reachable_address_refuses_to_build(tmp_path: Path, host: str) -> None:
    with pytest.raises(ConfigError, match="refusing to start: authentication is off"):
        create_app(_settings(tmp_path, host, insecure_open_loopback=True))


def test_anonymous_metrics_and_health_when_configured(tmp_path: Path) -> None:
    app = create_app(_settings(tmp_path, "0.0.0.0", anonymous_metrics=True, anonymous_health=True))
    with TestClient(app) as client:
        assert client.get("/metrics").status_code == 200
        assert client.get("/health").status_code in (200, 503)
        assert client.get("/api/v1/incidents").status_code == 401

"""The server composes incident impact: the tracker runs in the lifespan, the report is served."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from fanzwatch.impact import ImpactTracker
from fanzwatch.server import create_app
from fanzwatch.settings import ServerSettings
from fanzwatch.settings.anomaly import AnomalySettings
from fanzwatch.settings.auth import AuthSettings
from fanzwatch.settings.impact import ImpactSettings

from ._auth import TOKENS

AUTH = AuthSettings(**{f"{role}_token": token for role, token in TOKENS.items()})
BEARER = {"authorization": f"Bearer {TOKENS['viewer']}"}


def _settings(tmp_path: Path, *, impact: bool = True) -> ServerSettings:
    return ServerSettings(
        auth=AUTH,
        data_dir=tmp_path,
        anomaly=AnomalySettings(enabled=False, prometheus_url="http://127.0.0.1:9"),
        impact=ImpactSettings(enabled=impact),
    )


def test_the_tracker_runs_in_the_lifespan_and_the_report_is_served(tmp_path: Path) -> None:
    app = create_app(_settings(tmp_path))
    with TestClient(app, headers=BEARER) as client:
        tracker = app.state.impact
        assert isinstance(tracker, ImpactTracker)
        assert client.portal.call(tracker.tick) == []  # nothing open: nothing priced, Prometheus not asked
        missing = client.get("/api/v1/incidents/7/report")
        assert (missing.status_code, missing.json()) == (404, {"detail": "incident 7 does not exist"})
        text = client.get("/metrics").text
        assert 'fanz_incident_revenue_at_risk{bound="expected",platform="fanz-1",priority="P0"} 0.0' in text
        assert client.get("/api/v1/incidents/7/report", headers={"authorization": ""}).status_code == 401


def test_impact_can_be_switched_off(tmp_path: Path) -> None:
    app = create_app(_settings(tmp_path, impact=False))
    with TestClient(app, headers=BEARER):
        assert not hasattr(app.state, "impact")

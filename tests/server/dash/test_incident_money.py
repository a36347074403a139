"""FanzDash shows an incident's money and serves its post-incident report."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from .._auth import TOKENS
from .test_incident_pages import Served, on_call, rows, served, sign_in

__all__ = ["on_call", "served"]  # the fixtures, used by name

IMPACT: dict[str, Any] = {
    "computed_at": "2026-03-02T10:10:00+00:00",
    "final": False,
    "reporting_currency": "USD",
    "level": 0.9,
    "window": {"start": "2026-03-02T10:00:00+00:00", "end": "2026-03-02T10:10:00+00:00"},
    "revenue": {
        "expected": 600.0,
        "expected_lower": 500.0,
        "expected_upper": 700.0,
        "actual": 60.0,
        "at_risk": 540.0,
        "at_risk_lower": 440.0,
        "at_risk_upper": 640.0,
    },
    "streams": [
        {
            "platform": "fanz-3",
            "stream": "tip",
            "currency": "EUR",
            "expected": 600.0,
            "expected_lower": 500.0,
            "expected_upper": 700.0,
            "actual": 60.0,
            "at_risk": 540.0,
            "at_risk_lower": 440.0,
            "at_risk_upper": 640.0,
            "recovered": 0.0,
            "below_band": True,
            "baseline": "forecast",
        }
    ],
    "payments": {"attempts": 400, "failed": 350, "failed_value": {"EUR": 1750.0}, "failed_value_reporting": 1890.0},
    "people": {"creators": 41, "fans": 230, "failed_attempts": 350, "source": "platform database"},
    "unconverted_currencies": [],
    "timings": {"time_to_detect": 60.0, "time_to_acknowledge": None, "time_to_mitigate": None, "time_to_resolve": None},
    "series": {
        "t": [1772445660.0, 1772445720.0],
        "expected": [60.0, 60.0],
        "lower": [50.0, 50.0],
        "upper": [70.0, 70.0],
        "actual": [6.0, 6.0],
    },
    "money_effect": ["revenue on fanz-3 (tip, EUR) 6.00/min over the last 5 min, below its expected band"],
    "notes": [],
}


def _price(served: Served, incident_id: int, at_risk: float = 540.0) -> None:
    ledger = served.client.app.state.alerting.impact_ledger  # type: ignore[attr-defined]
    saved = served.client.portal.call(  # type: ignore[union-attr]
        lambda: ledger.save_impact(incident_id, IMPACT, at_risk=at_risk, computed_at=datetime.now(UTC), final=False)
    )
    assert saved


def test_the_incident_page_shows_the_money_and_links_the_report(served: Served) -> None:
    sign_in(served.client, "viewer")
    unpriced = served.client.get(f"/dash/incidents/{served.ids['latency']}").text
    assert "Not priced yet" in unpriced
    _price(served, served.ids["payment"])
    html = served.client.get(f"/dash/incidents/{served.ids['payment']}").text
    figure = '<strong>540.00 USD</strong> <small class="muted">(90% interval 440.00 USD to 640.00 USD)'
    assert f"Revenue at risk so far: {figure}" in html
    assert '<dd data-cell="failed">350 of 400 attempts, worth 1,890.00 USD <small' in html
    assert "41 creators, 230 fans" in html
    assert '<tr data-stream="fanz-3/tip/EUR">' in html
    assert "below its expected band" in html
    assert "<figcaption>Revenue per minute in USD: actual against the seasonal forecast and its 90% interval" in html
    assert "Revenue per minute: expected and actual" in html  # the chart payload
    assert "Revenue per minute" not in unpriced
    report = served.client.get(f"/dash/incidents/{served.ids['payment']}/report")
    assert report.status_code == 200
    assert report.headers["content-type"] == "text/markdown; charset=utf-8"
    assert "- **Revenue at risk: 540.00 USD** (90% interval 440.00 USD to 640.00 USD" in report.text
    assert "- Affected creators: 41, fans: 230" in report.text
    missing = served.client.get("/dash/incidents/999/report")
    assert (missing.status_code, missing.text) == (404, "There is no incident '999'.\n")
    assert served.client.get("/dash/incidents/abc/report").status_code == 404


def test_the_incidents_api_lists_the_most_money_at_risk_first(served: Served) -> None:
    _price(served, served.ids["payment"], at_risk=5.0)
    _price(served, served.ids["latency"])
    bearer = {"authorization": f"Bearer {TOKENS['viewer']}"}
    listed = served.client.get("/api/v1/incidents", headers=bearer).json()["incidents"]
    assert [i["id"] for i in listed] == [served.ids["latency"], served.ids["payment"]]


def test_the_incidents_page_puts_the_most_money_at_risk_first(served: Served) -> None:
    sign_in(served.client, "viewer")
    _price(served, served.ids["payment"], at_risk=5.0)
    _price(served, served.ids["latency"])
    html = served.client.get("/dash/incidents").text
    assert rows(html) == [str(served.ids["latency"]), str(served.ids["payment"])]
    assert '<td data-cell="money">540.00 USD</td>' in html

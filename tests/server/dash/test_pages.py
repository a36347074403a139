"""Every FanzDash page over in-memory sources: data shown, empty and error states, bad input."""

from __future__ import annotations

import dataclasses
import html
import json
import re

import pytest

from fanzwatch.provisioning.definitions.dashboards import CORE, DASHBOARDS
from fanzwatch.server.dash import DashSources, SourceRejectedError, SourceUnavailableError
from fanzwatch.server.dash.sources import EngineView

from .conftest import MakeClient
from .fakes import FakeAlertmanager, FakeAnomalies, FakePrometheus

PAGES = [
    "/dash",
    "/dash/",
    "/dash/dashboards",
    "/dash/dashboards/fanz-core",
    "/dash/dashboards/fanz-business",
    "/dash/alerts",
    "/dash/anomalies",
    "/dash/anomalies/analysis?metric=request_rate",
    "/dash/rum",
    "/dash/bi",
    "/dash/slos",
    "/dash/health",
    "/dash/incidents",
    "/dash/login",
]


def charts(page: str) -> list[dict[str, object]]:
    found = re.findall(r'<script type="application/json">(.*?)</script>', page, re.S)
    return [json.loads(raw) for raw in found]


def text(page: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


@pytest.mark.parametrize("path", PAGES)
def test_every_page_renders_with_all_sources(make_client: MakeClient, full_sources: DashSources, path: str) -> None:
    response = make_client(full_sources).get(path)
    assert response.status_code == 200, response.text[-2000:]
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert '<a class="skip-link" href="#content">Skip to content</a>' in response.text
    assert '<main id="content" tabindex="-1">' in response.text


@pytest.mark.parametrize("path", PAGES)
def test_every_page_renders_with_no_source_configured(make_client: MakeClient, path: str) -> None:
    response = make_client(DashSources()).get(path)
    assert response.status_code == 200
    assert "Traceback" not in response.text


@pytest.mark.parametrize(
    ("path", "sentence"),
    [
        (
            "/dash/dashboards/fanz-core",
            "Prometheus is not configured in this server: set FANZWATCH_DASH_PROMETHEUS_URL",
        ),
        ("/dash/alerts", "Alertmanager is not configured in this server: set FANZWATCH_DASH_ALERTMANAGER_URL"),
        ("/dash/anomalies", "Anomaly detection is not configured in this server: set FANZWATCH_ANOMALY_ENABLED=true"),
        ("/dash/rum", "Real user monitoring is not configured in this server: set FANZWATCH_RUM_ENABLED=true"),
        ("/dash/bi", "Business intelligence is not configured in this server: set FANZWATCH_BI_DATABASE_URL"),
        ("/dash/health", "Health checking is not configured in this server: set FANZWATCH_HEALTH_CHECKS"),
        ("/dash/slos", "Prometheus is not configured in this server: set FANZWATCH_DASH_PROMETHEUS_URL"),
        ("/dash/incidents", "Incident tracking is not running in this server: it comes with the alerting feature"),
    ],
)
def test_a_missing_source_says_how_to_turn_it_on(make_client: MakeClient, path: str, sentence: str) -> None:
    assert sentence in text(make_client(DashSources()).get(path).text)


def test_dashboard_draws_every_panel_of_the_shared_definition(
    make_client: MakeClient, full_sources: DashSources
) -> None:
    prom = full_sources.prometheus
    assert isinstance(prom, FakePrometheus)
    page = make_client(full_sources).get("/dash/dashboards/fanz-core?platform=fanz-2&range=1h").text
    drawn = charts(page)
    assert [c["title"] for c in drawn] == [p.title for p in CORE.panels()]
    expected = [t.resolve(("fanz-2",)) for _, t in CORE.targets()]
    assert prom.queries == expected  # the very expressions provisioning renders for Grafana
    # 1 h at 15 s: 241 points per target (the fake answers one series per query)
    assert [c["points"] for c in drawn] == [241 * len(p.targets) for p in CORE.panels()]
    # Stats show the last value (240 % 7 = 2); "Scrape targets down" is red from 1 up.
    assert '<span class="stat stat-none">2</span>' in page
    assert '<span class="stat stat-red">2</span>' in page


def test_dashboards_list_links_every_definition(make_client: MakeClient, full_sources: DashSources) -> None:
    page = make_client(full_sources).get("/dash/dashboards").text
    for dash in DASHBOARDS:
        assert f'href="/dash/dashboards/{dash.uid}"' in page


def test_prometheus_down_shows_what_to_do_in_each_panel(make_client: MakeClient, full_sources: DashSources) -> None:
    down = "Prometheus is not reachable at http://127.0.0.1:9 (ConnectError) — is `fanzwatch up` running?"
    full_sources.prometheus = FakePrometheus(error=SourceUnavailableError("Prometheus", down))
    response = make_client(full_sources).get("/dash/dashboards/fanz-business")
    assert response.status_code == 200
    body = text(response.text)
    assert body.count(down) == sum(1 for _ in DASHBOARDS[1].panels())
    assert text(make_client(full_sources).get("/dash").text).count(down) == 5  # four pulse panels, platform health


def test_a_rejected_query_is_shown_as_a_definition_problem(make_client: MakeClient, full_sources: DashSources) -> None:
    full_sources.prometheus = FakePrometheus(
        error=SourceRejectedError("Prometheus", "Prometheus rejected the query: x")
    )
    body = text(make_client(full_sources).get("/dash/dashboards/fanz-core").text)
    assert "Prometheus rejected the query: x — the dashboard definition may not match this Prometheus" in body


def test_no_data_is_an_empty_state_not_an_error(make_client: MakeClient, full_sources: DashSources) -> None:
    full_sources.prometheus = FakePrometheus(empty=True)
    body = text(make_client(full_sources).get("/dash/dashboards/fanz-core?platform=fanz-3").text)
    assert body.count("No data in the last 6h for fanz-3.") == sum(1 for _ in CORE.panels())


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("range=5y", "range '5y' is not offered here; choose one of 15m, 1h, 6h, 24h, 7d"),
        ("platform=fanz-99", "platform 'fanz-99' is not configured; choose one of fanz-1, fanz-2, fanz-3"),
        ('platform=a"}|x', "platform 'a\"}|x' is not configured"),
        ("refresh=1s", "refresh '1s' is not offered; choose one of off, 10s, 30s, 1m, 5m"),
    ],
)
def test_bad_picker_values_answer_400_with_the_choices(
    make_client: MakeClient, full_sources: DashSources, query: str, message: str
) -> None:
    prom = full_sources.prometheus
    assert isinstance(prom, FakePrometheus)
    response = make_client(full_sources).get(f"/dash/dashboards/fanz-core?{query}")
    assert response.status_code == 400
    assert message in text(response.text)
    assert all('platform=~".+"' in q or "platform" not in q for q in prom.queries)  # the default (all) was shown


def test_unknown_dashboard_is_404(make_client: MakeClient, full_sources: DashSources) -> None:
    response = make_client(full_sources).get("/dash/dashboards/nope")
    assert response.status_code == 404
    assert "There is no dashboard 'nope'." in text(response.text)


def test_overview_shows_health_alerts_anomalies_and_pulse(make_client: MakeClient, full_sources: DashSources) -> None:
    page = make_client(full_sources).get("/dash?platform=fanz-2").text
    body = text(page)
    assert "5 checks" not in body and "2 checks; not passing: cache." in body
    assert '<p class="big" data-testid="firing-count">1</p>' in page  # only fanz-2's alert
    assert "HighErrorRate" in body and "LowUserRegistrations" not in body
    assert [c["title"] for c in charts(page)] == [
        "Revenue per hour",
        "Payment success",
        "Registrations per hour",
        "Active users",
    ]
    assert "last week 6, +0.0%" not in body  # last week's value equals now's in the fake: no change shown as +0.0%


@pytest.mark.parametrize(
    ("view", "said", "not_said"),
    [
        (
            EngineView("pass", "watching 0 series; 4 still learning", learning=4),
            "No series has enough history",
            "within",
        ),
        (
            # the flag, not the message's wording, says partly blind
            EngineView("warn", "some queries fail", unreadable=("request_rate",), watching=3),
            "No anomalies on what the engine can read (cannot read request_rate)",
            "within",
        ),
        (
            EngineView("pass", "watching 3 series; 2 still learning", watching=3, learning=2),
            "No anomalies: 3 watched series within their expected band; 2 still learning (they cannot alarm yet).",
            "every watched series",
        ),
        (
            EngineView("unknown", "blind: anomaly state unknown: refused", blind=True),
            "Anomaly detection is blind",
            "within",
        ),
    ],
)
def test_overview_never_says_within_band_when_it_cannot_know(
    make_client: MakeClient, full_sources: DashSources, view: EngineView, said: str, not_said: str
) -> None:
    sources = dataclasses.replace(full_sources, anomalies=FakeAnomalies(view=view))
    body = text(make_client(sources).get("/dash?platform=fanz-2").text)  # no active anomaly on fanz-2
    assert said in body and not_said not in body.split("Active anomalies", 1)[1]


def test_anomalies_page_draws_value_band_and_marks(make_client: MakeClient, full_sources: DashSources) -> None:
    page = make_client(full_sources).get("/dash/anomalies?metric=request_rate").text
    (drawn,) = charts(page)
    assert drawn["title"] == "Request rate on fanz-1"
    assert [s["label"] for s in drawn["series"]] == ["value", "expected low", "expected high", "anomaly"]  # type: ignore[index]
    assert drawn["band"] == [1, 2] and drawn["marks"] == 3
    assert drawn["series"][3]["values"][-1] == 19.0  # type: ignore[index]  # the flagged point
    assert drawn["series"][3]["values"][0] is None  # type: ignore[index]
    assert 'data-fragment="/dash/anomalies/analysis?metric=request_rate"' in page
    unknown = make_client(full_sources).get("/dash/anomalies?metric=cpu")
    assert unknown.status_code == 400
    assert "signal 'cpu' is not watched" in text(unknown.text)


def test_analysis_page_shows_insights_and_forecast(make_client: MakeClient, full_sources: DashSources) -> None:
    page = make_client(full_sources).get("/dash/anomalies/analysis?metric=registrations&days=3&hours=6").text
    assert "registrations on fanz-1 grows 3.0% per day" in text(page)
    (forecast,) = charts(page)
    assert [s["label"] for s in forecast["series"]] == ["observed", "forecast low", "forecast high", "forecast"]  # type: ignore[index]
    bad = make_client(full_sources).get("/dash/anomalies/analysis?metric=registrations&days=400")
    assert bad.status_code == 400
    assert "days must be one of 1, 3, 7, 14" in text(bad.text)


def test_rum_page_rates_p75_against_thresholds(make_client: MakeClient, full_sources: DashSources) -> None:
    page = make_client(full_sources).get("/dash/rum").text
    body = text(page)
    assert "3.1 s needs-improvement" in body  # LCP 3.1 s: good <= 2.5, poor > 4
    assert "50 ms" not in body and "0.05 good" in body  # CLS is unitless
    assert "TypeError: x is undefined" in body
    assert [c["title"] for c in charts(page)] == ["LCP p75", "INP p75", "CLS p75", "FCP p75", "TTFB p75"]
    assert charts(page)[0]["thresholds"] == [{"value": 2.5, "color": "yellow"}, {"value": 4.0, "color": "red"}]


def test_bi_page_shows_the_report_for_window_and_platform(make_client: MakeClient, full_sources: DashSources) -> None:
    client = make_client(full_sources)
    week = text(client.get("/dash/bi?window=7d&platform=fanz-2").text)
    day = text(client.get("/dash/bi?window=24h").text)
    assert "against the 7d before; fanz-2;" in week
    assert "against the 24h before; all platforms;" in day
    for heading in ("Revenue by type", "By currency", "Retention of this window's sign-up cohort", "Uploads by type"):
        assert heading in week
    bad = client.get("/dash/bi?window=2y")
    assert bad.status_code == 400
    assert "window '2y' is not offered; choose one of 24h, 7d, 30d" in text(bad.text)


def test_health_page_lists_checks_with_history(make_client: MakeClient, full_sources: DashSources) -> None:
    page = make_client(full_sources).get("/dash/health").text
    body = text(page)
    assert "Overall warn" in body
    assert "cache datastore, non-critical fail" in body and "Connection refused" in body
    assert "3 results: 2 pass, 0 warn, 1 fail." in body
    assert [c["title"] for c in charts(page)] == ["database", "cache"]


def test_alertmanager_error_is_shown_on_the_alerts_page(make_client: MakeClient, full_sources: DashSources) -> None:
    message = "Alertmanager is not reachable at http://127.0.0.1:9 (ConnectError) — is `fanzwatch up` running?"
    full_sources.alertmanager = FakeAlertmanager(error=SourceUnavailableError("Alertmanager", message))
    response = make_client(full_sources).get("/dash/alerts")
    assert response.status_code == 200
    assert text(response.text).count(message) == 2  # alerts and silences


def test_static_assets_are_versioned_and_cached(make_client: MakeClient, full_sources: DashSources) -> None:
    client = make_client(full_sources)
    page = client.get("/dash").text
    (js_url,) = re.findall(r'src="(/dash/static/fanzdash\.js\?v=[0-9a-f]{16})"', page)
    js = client.get(js_url)
    assert js.status_code == 200
    assert js.headers["content-type"] == "text/javascript; charset=utf-8"
    assert js.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert client.get(js_url, headers={"if-none-match": js.headers["etag"]}).status_code == 304
    assert client.get("/dash/static/secrets.txt").status_code == 404


def test_the_latency_panel_links_to_example_traces_as_slow_as_its_p95(
    make_client: MakeClient, full_sources: DashSources
) -> None:
    page = make_client(full_sources).get("/dash/dashboards/fanz-core?platform=fanz-2&range=1h").text
    links = re.findall(r'<a href="([^"]+)" data-exemplars>example traces this slow</a>', page)
    # One latency panel (p95 / p50); the fake's latest value is 2 (s): traces slower than 2 s.
    assert [html.unescape(x) for x in links] == [
        "/dash/traces?platform=fanz-2&min_duration=2000ms&order=slowest&range=1h"
    ]

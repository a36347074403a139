"""``/api/v1/telemetry``: the real app over a real chDB store of real OpenTelemetry SDK spans and logs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from fanzwatch.server import create_app
from fanzwatch.settings import ServerSettings
from fanzwatch.settings.anomaly import AnomalySettings
from fanzwatch.settings.auth import AuthSettings
from fanzwatch.settings.dash import DashSettings
from fanzwatch.telemetry import LOGS_TABLE, TRACES_TABLE, ChdbTelemetryStore
from fanzwatch.telemetry.reader import EmbeddedQueries, TelemetryReader
from telemetry._flow import ROUTE, Flow, payment_flow

from ._auth import TOKENS

VIEWER = {"authorization": f"Bearer {TOKENS['viewer']}"}


def _settings(tmp: Path) -> ServerSettings:
    return ServerSettings(
        data_dir=tmp,
        platforms=("fanz-1", "fanz-2"),
        auth=AuthSettings(**{f"{r}_token": t for r, t in TOKENS.items()}),
        anomaly=AnomalySettings(enabled=False),
        dash=DashSettings(prometheus_url="", alertmanager_url=""),
    )


@pytest.fixture(scope="module")
def flow() -> Flow:
    return payment_flow()


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory, flow: Flow) -> Iterator[TestClient]:
    store = ChdbTelemetryStore(tmp_path_factory.mktemp("api-store") / "telemetry")
    try:
        store.insert(TRACES_TABLE, flow.spans)
        store.insert(LOGS_TABLE, flow.logs)
        app = create_app(
            _settings(tmp_path_factory.mktemp("api")), telemetry_reader=TelemetryReader(EmbeddedQueries(store))
        )
        with TestClient(app, headers=VIEWER) as c:
            yield c
    finally:
        store.close()


def test_trace_search_by_route_platform_and_min_duration(client: TestClient, flow: Flow) -> None:
    answer = client.get(
        "/api/v1/telemetry/traces",
        params={"route": ROUTE, "min_duration": "1s", "platform": "fanz-1", "range": "1h"},
    )
    assert answer.status_code == 200, answer.text
    traces = answer.json()["traces"]
    assert [t["trace_id"] for t in traces] == [flow.slow_trace]
    assert traces[0]["duration_ns"] == 2_400_000_000 and traces[0]["errors"] == 1
    both = client.get("/api/v1/telemetry/traces", params=[("route", ROUTE), ("min_duration", "1000"),
                                                          ("platform", "fanz-1"), ("platform", "fanz-2"),
                                                          ("order", "slowest")])  # fmt: skip
    assert [t["trace_id"] for t in both.json()["traces"]] == [flow.other_platform_trace, flow.slow_trace]
    failed = client.get(
        "/api/v1/telemetry/traces", params={"status": "error", "attr": f"payment.id=pay-{flow.start_ns}"}
    )
    assert [t["trace_id"] for t in failed.json()["traces"]] == [flow.slow_trace]


def test_one_trace_has_its_spans_and_events(client: TestClient, flow: Flow) -> None:
    answer = client.get(f"/api/v1/telemetry/traces/{flow.slow_trace.upper()}")
    assert answer.status_code == 200
    body = answer.json()
    assert body["trace_id"] == flow.slow_trace
    spans = body["spans"]
    assert [s["name"] for s in spans] == ["POST " + ROUTE, "fraud-check call", "fraud-check"]
    assert spans[0]["start_ns"] == flow.start_ns and spans[2]["parent_span_id"] == spans[1]["span_id"]
    event = spans[2]["events"][0]
    assert (event["name"], event["attributes"], event["time_ns"]) == (
        "fraud.scored",
        {"fraud.score": "0.93"},
        flow.start_ns + 4_000_000,
    )
    assert spans[0]["time"].endswith("Z")
    missing = client.get("/api/v1/telemetry/traces/0123456789abcdef0123456789abcdef")
    assert missing.status_code == 404 and "no trace 0123456789abcdef0123456789abcdef" in missing.json()["detail"]


def test_log_search_and_tail_with_cursor(client: TestClient, flow: Flow) -> None:
    found = client.get("/api/v1/telemetry/logs", params={"q": "declined", "severity": "error"}).json()["logs"]
    assert [(r["body"], r["trace_id"], r["severity_text"]) for r in found] == [
        ("payment declined: fraud score 0.93 over 0.9", flow.slow_trace, "ERROR")
    ]
    of_trace = client.get("/api/v1/telemetry/logs", params={"trace_id": flow.slow_trace}).json()["logs"]
    assert [r["severity_number"] for r in of_trace] == [13, 17, 9]
    oldest = of_trace[-1]["cursor"]
    # delay=0: the flow's records were written just now (a tail otherwise waits 5 s for late ones)
    fresh = {"trace_id": flow.slow_trace, "delay": "0"}
    tail = client.get("/api/v1/telemetry/logs/tail", params={"after": oldest, **fresh}).json()
    assert [r["severity_number"] for r in tail["logs"]] == [17, 13]
    assert tail["cursor"] == of_trace[0]["cursor"]
    again = client.get("/api/v1/telemetry/logs/tail", params={"after": tail["cursor"], **fresh})
    assert again.json() == {"logs": [], "cursor": tail["cursor"]}
    now = client.get("/api/v1/telemetry/logs/tail").json()  # no cursor: from now on
    assert now["logs"] == []


@pytest.mark.parametrize(
    ("path", "params", "message"),
    [
        ("/traces/xyz", {}, "is not 32 hex digits"),
        ("/traces/" + "0" * 32, {}, "is not 32 hex digits"),
        ("/traces", {"from": "2000", "to": "1000"}, "inverted"),
        ("/traces", {"from": "1000", "to": "99999999"}, "at most 8 days"),
        ("/traces", {"limit": "5000"}, "limit 5000 is out of bounds: 1 to 1000"),
        ("/traces", {"limit": "-1"}, "not a whole number"),
        ("/traces", {"range": "1y"}, "choose one of 15m, 1h, 6h, 24h, 7d"),
        ("/traces", {"platform": "nope"}, "platform 'nope' is not configured"),
        ("/traces", {"status": "bad"}, "choose one of ok, error, unset"),
        ("/traces", {"min_duration": "fast"}, "a number with ns, us, ms, s, m or h"),
        ("/traces", {"attr": "novalue"}, "must be key=value"),
        ("/traces", {"service": "a" * 300}, "at most 256 printable characters"),
        ("/traces", {"from": "yesterday"}, "unix seconds or ISO 8601"),
        ("/logs", {"severity": "loud"}, "choose one of trace, debug, info, warn, error, fatal"),
        ("/logs", {"trace_id": "abc"}, "is not 32 hex digits"),
        ("/logs", {"q": "!!!"}, "must contain a word"),
        ("/logs/tail", {"after": "later"}, "is not <nanoseconds>-<number>"),
        ("/logs/tail", {"limit": "501"}, "at most 500 records"),
        ("/logs/tail", {"after": "9" * 19}, "out of range"),
    ],
)
def test_bad_input_is_a_400_that_says_what_is_allowed(
    client: TestClient, path: str, params: dict[str, str], message: str
) -> None:
    answer = client.get("/api/v1/telemetry" + path, params=params)
    assert answer.status_code == 400, answer.text
    assert message in answer.json()["detail"]


def test_without_a_store_the_api_answers_503_with_retry_after(tmp_path: Path) -> None:
    with TestClient(create_app(_settings(tmp_path)), headers=VIEWER) as c:
        answer = c.get("/api/v1/telemetry/traces")
        assert answer.status_code == 503 and answer.headers["retry-after"] == "5"
        assert "unreachable" in answer.json()["detail"]
        anonymous = c.get("/api/v1/telemetry/logs", headers={"authorization": ""})
        assert anonymous.status_code == 401

"""FanzDash's Traces and Logs pages over a real chDB store of real OpenTelemetry SDK spans and logs."""

from __future__ import annotations

import html
import re
import time
from collections.abc import Iterator
from urllib.parse import quote

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from fanzwatch.server.dash import DashSources, build_dash_router
from fanzwatch.server.dash.telemetry_source import ReaderTelemetrySource
from fanzwatch.settings.dash import DashSettings
from fanzwatch.telemetry import LOGS_TABLE, TRACES_TABLE, ChdbTelemetryStore, span_row
from fanzwatch.telemetry.reader import EmbeddedQueries, TelemetryReader
from telemetry._flow import ROUTE, Flow, payment_flow

from .._auth import authenticator, secure
from .conftest import PLATFORMS, MakeClient


@pytest.fixture(scope="module")
def flow() -> Flow:
    return payment_flow()


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory, flow: Flow) -> Iterator[ChdbTelemetryStore]:
    opened = ChdbTelemetryStore(tmp_path_factory.mktemp("dash-store") / "telemetry")
    try:
        opened.insert(TRACES_TABLE, flow.spans)
        opened.insert(LOGS_TABLE, flow.logs)
        yield opened
    finally:
        opened.close()


@pytest.fixture
def client(store: ChdbTelemetryStore) -> Iterator[TestClient]:
    """FanzDash on the system clock (the flow happened a minute ago), authentication off on loopback."""
    app = FastAPI()
    auth = authenticator(open_loopback=True)
    reader = TelemetryReader(EmbeddedQueries(store))
    sources = DashSources(telemetry=ReaderTelemetrySource(lambda: reader))
    app.include_router(build_dash_router(lambda: sources, DashSettings(), platforms=PLATFORMS, auth=auth))
    secure(app, auth)
    with TestClient(app, follow_redirects=False) as made:
        yield made


def _window(flow: Flow) -> str:
    return f"from={flow.start_ns // 10**9 - 60}&to={flow.start_ns // 10**9 + 120}"


def _text(fragment: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", fragment))).strip()


def test_trace_search_lists_the_slow_purchase_with_links(client: TestClient, flow: Flow) -> None:
    page = client.get(f"/dash/traces?route={quote(ROUTE)}&min_duration=1s&platform=fanz-1&{_window(flow)}")
    assert page.status_code == 200, page.text
    rows = re.findall(r'<tr data-trace-id="([0-9a-f]{32})">(.*?)</tr>', page.text, re.S)
    assert [r[0] for r in rows] == [flow.slow_trace]
    cells = _text(rows[0][1])
    assert "POST " + ROUTE in cells and "fanz-platform" in cells and "2.4 s" in cells and "error" in cells
    assert f'href="/dash/traces/{flow.slow_trace}"' in rows[0][1]
    assert f"/dash/logs?trace_id={flow.slow_trace}" in rows[0][1]


def test_the_waterfall_nests_spans_and_shows_attributes_events_and_logs(client: TestClient, flow: Flow) -> None:
    page = client.get(f"/dash/traces/{flow.slow_trace}")
    assert page.status_code == 200
    text = page.text
    rows = re.findall(
        r'<details class="wf-row([^"]*)" id="span-([0-9a-f]{16})" data-span-id="\2" data-depth="(\d)">', text
    )
    assert [(depth, "wf-error" in cls) for cls, _, depth in rows] == [("0", True), ("1", False), ("2", True)]
    bars = re.findall(r'class="wf-bar" style="left: ([\d.]+)%; width: ([\d.]+)%"', text)
    assert bars[0] == ("0.0", "100.0")  # the root spans the trace
    left, width = map(float, bars[2])  # the fraud check: +3 ms for 1.9 s of 2.4 s
    assert left == pytest.approx(0.125, abs=0.001) and width == pytest.approx(79.167, abs=0.001)
    assert "fraud.scored" in text and "fraud.score=0.93" in text and "fraud score over threshold" in text
    check_span = rows[2][1]
    assert f"/dash/logs?trace_id={flow.slow_trace}&amp;span_id={check_span}" in text  # span → its logs
    logs = re.findall(r"<tr data-log-row[^>]*>(.*?)</tr>", text, re.S)
    assert [("WARN" in r, "ERROR" in r, "INFO" in r) for r in logs] == [
        (True, False, False),
        (False, True, False),
        (False, False, True),
    ]


def test_log_search_links_each_record_to_its_trace_and_span(client: TestClient, flow: Flow) -> None:
    page = client.get(f"/dash/logs?q=declined&severity=error&{_window(flow)}")
    assert page.status_code == 200
    rows = re.findall(r"<tr data-log-row[^>]*>(.*?)</tr>", page.text, re.S)
    assert len(rows) == 1
    assert "payment declined: fraud score 0.93 over 0.9" in _text(rows[0])
    link = re.search(rf'href="/dash/traces/{flow.slow_trace}#span-([0-9a-f]{{16}})"', rows[0])
    assert link, "no link to the trace"
    tail = re.search(r'data-tail data-tail-url="([^"]+)" data-cursor="(\d+-\d+)"', page.text)
    assert tail and html.unescape(tail.group(1)) == "/dash/logs/tail?q=declined&severity=error"


def test_the_tail_fragment_gives_newer_rows_and_the_next_cursor(client: TestClient, flow: Flow) -> None:
    first = client.get(f"/dash/logs?trace_id={flow.slow_trace}&{_window(flow)}").text
    cursors = re.findall(r'data-cursor="(\d+-\d+)"', first)
    assert cursors
    start = f"{flow.start_ns - 10**9}-0"
    # delay=0: the flow's records were written just now (a tail otherwise waits 5 s for late ones)
    fragment = client.get(f"/dash/logs/tail?trace_id={flow.slow_trace}&after={start}&delay=0")
    assert fragment.status_code == 200
    body = re.search(r'<tbody id="tail-rows" data-cursor="(\d+-\d+)">(.*?)</tbody>', fragment.text, re.S)
    assert body
    assert body.group(1) == cursors[0]  # the newest record's cursor, as the search page starts from
    assert len(re.findall(r"<tr data-log-row", body.group(2))) == 3
    empty = client.get(f"/dash/logs/tail?trace_id={flow.slow_trace}&after={body.group(1)}&delay=0").text
    assert re.search(r'<tbody id="tail-rows" data-cursor="' + body.group(1) + '"></tbody>', empty)
    assert client.get("/dash/logs/tail?after=soon").status_code == 400


@pytest.mark.parametrize(
    ("path", "status", "message"),
    [
        ("/dash/traces?min_duration=slow", 400, "a number with ns, us, ms, s, m or h"),
        ("/dash/traces?from=2000&to=1000", 400, "inverted"),
        ("/dash/logs?limit=100000", 400, "limit 100000 is out of bounds"),
        ("/dash/traces/not-a-trace", 400, "is not 32 hex digits"),
        ("/dash/traces/0123456789abcdef0123456789abcdef", 404, "The store has no trace"),
    ],
)
def test_bad_input_is_a_400_page_and_unknown_traces_404(
    client: TestClient, path: str, status: int, message: str
) -> None:
    page = client.get(path)
    assert page.status_code == status and message in html.unescape(page.text)


def test_without_a_store_the_pages_say_how_to_get_one(make_client: MakeClient) -> None:
    page = make_client(DashSources()).get("/dash/traces")
    assert page.status_code == 200 and "Traces and logs are not stored by this server" in page.text
    assert "Traces and logs are not stored" in make_client(None).get("/dash/logs").text


def test_a_trace_longer_than_a_log_search_still_opens(client: TestClient, store: ChdbTelemetryStore) -> None:
    """A skewed clock makes a 9-day span (within retention); its page opens, with the first 8 days' logs."""
    now = time.time_ns()
    day = 86_400 * 10**9
    long_trace = "ab" * 16
    store.insert(
        TRACES_TABLE,
        [
            span_row(trace_id=long_trace, span_id="1" * 16, name="tab", service="web", start_nanos=now - day // 24,
                     duration_nanos=9 * day),
        ],
    )  # fmt: skip
    page = client.get(f"/dash/traces/{long_trace}")
    assert page.status_code == 200, page.text[-500:]
    assert "tab" in _text(page.text)

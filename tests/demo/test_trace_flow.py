"""The payment-with-fraud-check flow as one trace across the platform and the processor, with its logs;
and a real headless Chromium whose page view and API call join the page's backend trace."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from opentelemetry.trace import SpanKind
from playwright.sync_api import Route, sync_playwright

from fanzwatch.demo.platform import create_platform_app
from fanzwatch.demo.processor import ProcessorConfig, create_processor_app
from fanzwatch.rum import load_script
from fanzwatch.sdk.testing import TelemetryCapture, make_test_telemetry

from .conftest import PLATFORMS, ServedApp, platform_config, serve_in_thread

API = "/p/{}/api/v1"


@pytest.fixture
def processor_telemetry() -> Iterator[TelemetryCapture]:
    cap = make_test_telemetry(service_name="fanz-payment-processor", platforms=PLATFORMS)
    cap.telemetry.attach_log_handler(logging.getLogger("fanzwatch.demo.processor"))
    try:
        yield cap
    finally:
        cap.telemetry.shutdown()


@pytest.fixture
def traced_processor(processor_telemetry: TelemetryCapture) -> Iterator[ServedApp]:
    app = create_processor_app(ProcessorConfig(seed=1), telemetry=processor_telemetry.telemetry)
    yield from serve_in_thread(app)


def _register(client: httpx.Client, role: str, n: int) -> dict[str, Any]:
    body = {
        "email": f"{role}-{n}@example.org",
        "password": "correct horse battery",
        "role": role,
        "display_name": f"A {role} {n}",
    }
    r = client.post(API.format("fanz-1") + "/auth/register", json=body)
    assert r.status_code == 201, r.text
    data: dict[str, Any] = r.json()
    data["auth"] = {"Authorization": f"Bearer {data['token']}"}
    return data


def test_a_reviewed_tip_is_one_trace_from_checkout_to_ledger_with_its_logs(
    tmp_path: Path,
    traced_processor: ServedApp,
    processor_telemetry: TelemetryCapture,
    telemetry: TelemetryCapture,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="fanzwatch.demo")
    app = create_platform_app(platform_config(tmp_path, traced_processor.url), telemetry=telemetry.telemetry)
    served = serve_in_thread(app)
    platform = next(served)
    try:
        with httpx.Client(base_url=platform.url, timeout=10) as client:
            creator, fan = _register(client, "creator", 1), _register(client, "fan", 2)
            telemetry.clear()
            processor_telemetry.clear()
            r = client.post(
                API.format("fanz-1") + f"/creators/{creator['user_id']}/tips",
                headers=fan["auth"],
                # The elevated-risk test card: the fraud check says "review", the charge goes through.
                json={"amount_minor": 500, "currency": "USD", "card_token": "tok_riskLevelElevated"},
            )
        assert r.status_code == 201, r.text
    finally:
        next(served, None)

    checkout = telemetry.span("POST /p/{platform}/api/v1/creators/{creator_id}/tips")
    trace_id = checkout.context.trace_id
    assert checkout.kind is SpanKind.SERVER
    assert checkout.attributes is not None
    assert checkout.attributes["fanz.platform"] == "fanz-1"
    assert checkout.attributes["http.route"] == "/p/{platform}/api/v1/creators/{creator_id}/tips"
    process = telemetry.span("payment.process")
    fraud_call = telemetry.span("payment.fraud_check")
    ledger = telemetry.span("INSERT transactions")
    assert {s.context.trace_id for s in (process, fraud_call, ledger)} == {trace_id}
    assert ledger.parent is not None and ledger.parent.span_id == checkout.context.span_id
    assert ledger.attributes is not None and ledger.attributes["fanz.platform"] == "fanz-1"

    # The processor continued the trace: its server span's parent is the platform's client span.
    clients = {s.context.span_id: s for s in telemetry.spans() if s.name == "POST payment-processor"}
    served_fraud = processor_telemetry.span("POST /{endpoint}/v1/fraud-checks")
    assert served_fraud.context.trace_id == trace_id
    assert served_fraud.parent is not None and served_fraud.parent.span_id in clients
    assert clients[served_fraud.parent.span_id].parent.span_id == fraud_call.context.span_id  # type: ignore[union-attr]
    check = processor_telemetry.span("fraud.check")
    assert check.parent is not None and check.parent.span_id == served_fraud.context.span_id
    assert check.attributes is not None
    assert (check.attributes["fraud.decision"], check.attributes["fanz.platform"]) == ("review", "fanz-1")
    authorize = processor_telemetry.span("charge.authorize")
    assert authorize.context.trace_id == trace_id
    assert not [n for n in processor_telemetry.otel_metrics() if n.startswith("http.server")]  # spans only

    # Logs carry the ids of the span they were written in.
    logs = {(r.log_record.body, r.log_record.trace_id, r.log_record.span_id) for r in telemetry.logs()}
    assert ("payment completed", trace_id, process.context.span_id) in logs
    assert ("payment recorded", trace_id, checkout.context.span_id) in logs
    [recorded] = [r.log_record for r in telemetry.logs() if r.log_record.body == "payment recorded"]
    assert recorded.attributes is not None and recorded.attributes["fanz.platform"] == "fanz-1"  # the request's tenant
    [review] = [r.log_record for r in processor_telemetry.logs() if r.log_record.body == "fraud check: review"]
    assert (review.trace_id, review.span_id) == (trace_id, check.context.span_id)


HIDE = """() => {
  Object.defineProperty(document, "visibilityState", {value: "hidden", configurable: true});
  document.dispatchEvent(new Event("visibilitychange"));
}"""
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
CHROME_UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36"


@pytest.mark.browser
@pytest.mark.slow
def test_a_browser_page_view_and_its_fetch_join_the_backend_trace(
    tmp_path: Path, processor: ServedApp, telemetry: TelemetryCapture
) -> None:
    config = platform_config(tmp_path, processor.url)
    served = serve_in_thread(create_platform_app(config, telemetry=telemetry.telemetry))
    platform = next(served)
    batches: list[dict[str, Any]] = []
    traceparents: list[str | None] = []
    try:
        with httpx.Client(base_url=platform.url, timeout=10) as client:
            creator = _register(client, "creator", 3)
        telemetry.clear()

        def rum_origin(route: Route) -> None:
            request = route.request
            if request.url.endswith("/rum/fanz-rum.js"):
                route.fulfill(body=load_script(), content_type="text/javascript")
                return
            if request.method == "POST" and request.post_data:
                batches.append(orjson.loads(request.post_data))
                traceparents.append(request.headers.get("traceparent"))
            route.fulfill(status=204, headers={"access-control-allow-origin": "*"})

        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path="/usr/bin/chromium", args=[*CHROMIUM_ARGS, f"--user-agent={CHROME_UA}"]
            )
            try:
                context = browser.new_context()
                context.route("http://127.0.0.1:8900/**", rum_origin)
                page = context.new_page()
                page.goto(f"{platform.url}/p/fanz-1/creators/{creator['user_id']}", wait_until="load")
                page.wait_for_function("document.getElementById('latest').textContent.startsWith('Latest: 0')")
                meta = page.get_attribute('meta[name="traceparent"]', "content")
                # Headless Chromium never hides a tab: flip visibilityState as web-vitals' tests do.
                with page.expect_request(lambda r: r.url.endswith("/api/v1/analytics/batch")):
                    page.evaluate(HIDE)
            finally:
                browser.close()
    finally:
        next(served, None)

    assert meta is not None and re.fullmatch(r"00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}", meta)
    page_trace = meta.split("-")[1]
    page_span = telemetry.span("GET /p/{platform}/creators/{creator_id}")
    assert format(page_span.context.trace_id, "032x") == page_trace
    # The page's same-origin fetch carried traceparent: its server span is in the page's trace,
    # under a span id the browser made up (the browser exports no spans of its own).
    feed = telemetry.span("GET /p/{platform}/api/v1/content")
    assert format(feed.context.trace_id, "032x") == page_trace
    assert feed.parent is not None and feed.parent.is_remote
    assert feed.parent.span_id != page_span.context.span_id
    # The page view (page_load event) names the same trace; the beacon itself carries no header.
    loads = [e for b in batches for e in b["events"] if e["type"] == "page_load"]
    assert [e["trace_id"] for e in loads] == [page_trace]
    assert traceparents == [None] * len(batches)

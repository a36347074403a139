"""fanzwatch.sdk, configured as ``fanzwatch up`` configures its children, against a real ``fanzwatch serve``
(the OTLP receiver) and a real ``fanzwatch telemetry-store``: a service's spans and JSON logs arrive with
matching ids, and the server's own spans go to its own receiver without tracing the receiving itself."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from _waiting import wait_until
from fanzwatch.sdk import build_telemetry
from fanzwatch.settings.telemetry import TelemetrySettings

from ._processes import Process, server_process, store_process

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


class Stack:
    def __init__(self, data: Path) -> None:
        self.data = data
        secrets_dir = data / "secrets"
        secrets_dir.mkdir(parents=True)
        self.token_file = secrets_dir / "otlp_token"
        self.token_file.write_text(secrets.token_urlsafe(32))  # as `fanzwatch up` ensures it before the children
        self.store: Process = store_process(data)
        self.server: Process = server_process(
            data,
            store=self.store,
            env={
                "FANZWATCH_TELEMETRY_OTLP_ENDPOINT": "",  # set below, once the port is known
                "FANZWATCH_TELEMETRY_OTLP_TOKEN_FILE": str(self.token_file),
            },
        )
        self.server.env["FANZWATCH_TELEMETRY_OTLP_ENDPOINT"] = self.server.url  # the server traces itself

    def query(self, name: str, **params: Any) -> list[dict[str, Any]]:
        token = (self.data / "secrets" / "telemetry_store_token").read_text().strip()
        answer = httpx.post(
            f"{self.store.url}/query/{name}", json=params, headers={"authorization": f"Bearer {token}"}, timeout=30
        )
        assert answer.status_code == 200, answer.text
        rows: list[dict[str, Any]] = answer.json()["rows"]
        return rows


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    running = Stack(tmp_path_factory.mktemp("sdk-otlp"))
    running.store.start()
    running.server.start()
    try:
        yield running
    finally:
        for process in (running.server, running.store):
            if process.proc is not None:
                process.stop()


def test_a_service_s_spans_and_logs_arrive_with_matching_ids(stack: Stack) -> None:
    settings = TelemetrySettings(
        service_name="fanz-demo-platform",
        platform="fanz-3",
        otlp_endpoint=stack.server.url,
        otlp_token_file=stack.token_file,
        auto_instrument=(),
    )
    telemetry = build_telemetry(settings)
    log = logging.getLogger("tests.telemetry.checkout")
    log.setLevel(logging.INFO)
    log.propagate = False
    telemetry.attach_log_handler(log)
    try:
        with telemetry.tracer.start_as_current_span(
            "payment.process", attributes={"fanz.platform": "fanz-3"}
        ) as process:
            with telemetry.tracer.start_as_current_span("payment.fraud_check") as check:
                log.warning("fraud check: review", extra={"risk_score": 0.6})
            log.info("payment completed")
        assert telemetry.force_flush()
    finally:
        telemetry.shutdown()
        log.propagate = True
    trace_id = f"{process.get_span_context().trace_id:032x}"
    spans = wait_until(
        lambda: stack.query("trace", trace_id=trace_id), until=lambda r: len(r) == 2, timeout=60, message="2 spans"
    )
    by_name = {s["SpanName"]: s for s in spans}
    root, child = by_name["payment.process"], by_name["payment.fraud_check"]
    assert child["ParentSpanId"] == root["SpanId"] == f"{process.get_span_context().span_id:016x}"
    assert root["ServiceName"] == "fanz-demo-platform"
    assert root["ResourceAttributes"]["fanz.platform"] == "fanz-3"
    logs = wait_until(
        lambda: stack.query("logs_of_trace", trace_id=trace_id),
        until=lambda r: len(r) == 2,
        timeout=60,
        message="2 logs",
    )
    assert [(r["Body"], r["SeverityText"], r["SpanId"]) for r in logs] == [
        ("fraud check: review", "WARN", f"{check.get_span_context().span_id:016x}"),
        ("payment completed", "INFO", root["SpanId"]),
    ]
    assert logs[0]["LogAttributes"]["risk_score"] == "0.6"


def test_the_server_traces_itself_but_not_its_receiver(stack: Stack) -> None:
    assert httpx.get(f"{stack.server.url}/api/v1/no-such-thing", timeout=10).status_code in (401, 404)
    own = wait_until(
        lambda: stack.query("search_spans", service="fanzwatch", attribute="url.path", value="/api/v1/no-such-thing"),
        until=bool,
        timeout=60,
        message="the server's own span",
    )
    assert own[0]["SpanKind"] == "Server"
    # By now the server has exported its own spans and logs several times, into itself:
    # none of those receiving requests was traced.
    for path in ("/v1/traces", "/v1/logs"):
        assert stack.query("search_spans", service="fanzwatch", attribute="url.path", value=path) == []

"""Spans and log records leave by OTLP/HTTP to a real local receiver; a missing receiver costs one warning."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from fanzwatch.core import ConfigError
from fanzwatch.sdk import build_telemetry
from fanzwatch.sdk._internal.export import FIRST_PAUSE_S, MAX_PAUSE_S, ExportBreaker
from fanzwatch.settings.telemetry import TelemetrySettings

from ._collector import otlp_collector

TOKEN = "otlp-test-token-123"


@pytest.fixture
def token_file(tmp_path: Path) -> Path:
    path = tmp_path / "otlp_token"
    path.write_text(TOKEN + "\n")
    return path


@pytest.fixture
def app_logger() -> Iterator[logging.Logger]:
    log = logging.getLogger("tests.otlp.payments")
    log.setLevel(logging.INFO)
    log.propagate = False
    yield log
    log.handlers.clear()
    log.propagate = True


def _attrs(record: object) -> dict[str, object]:
    out: dict[str, object] = {}
    for kv in record.attributes:  # type: ignore[attr-defined]
        value = kv.value
        out[kv.key] = getattr(value, value.WhichOneof("value")) if value.WhichOneof("value") else None
    return out


def test_spans_and_logs_arrive_with_matching_ids_and_the_token(token_file: Path, app_logger: logging.Logger) -> None:
    with otlp_collector() as (url, received):
        settings = TelemetrySettings(
            service_name="payments",
            platform="fanz-2",
            otlp_endpoint=url,
            otlp_token_file=token_file,
            otlp_headers="x-tenant=fanz%202",
        )
        telemetry = build_telemetry(settings)
        telemetry.attach_log_handler(app_logger)
        with telemetry.tracer.start_as_current_span("checkout") as span:
            app_logger.info(
                "payment captured for %s", "tip", extra={"payment_id": "p_1", "api_token": "s3cret", "amount": 9.5}
            )
            ctx = span.get_span_context()
        app_logger.info("outside any span")
        app_logger.debug("below the export level")
        assert telemetry.force_flush()
        telemetry.shutdown()

    [(resource, exported_span)] = received.spans()
    assert exported_span.name == "checkout"
    assert exported_span.trace_id == ctx.trace_id.to_bytes(16, "big")
    assert resource["service.name"] == "payments"
    assert resource["fanz.platform"] == "fanz-2"

    records = received.log_records()
    assert [r.body.string_value for _, r in records] == ["payment captured for tip", "outside any span"]
    (log_resource, inside), (_, outside) = records
    assert log_resource["service.name"] == "payments"
    assert inside.trace_id == ctx.trace_id.to_bytes(16, "big")
    assert inside.span_id == ctx.span_id.to_bytes(8, "big")
    assert inside.severity_text == "INFO"
    assert inside.severity_number == 9
    attrs = _attrs(inside)
    assert attrs["payment_id"] == "p_1"
    assert attrs["api_token"] == "[redacted]"
    assert attrs["amount"] == 9.5
    assert attrs["logger.name"] == "tests.otlp.payments"
    assert outside.trace_id == b""
    assert set(received.authorizations) == {f"Bearer {TOKEN}"}


def test_the_token_file_must_be_readable(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the OTLP token file"):
        build_telemetry(TelemetrySettings(otlp_endpoint="http://127.0.0.1:9", otlp_token_file=tmp_path / "none"))
    empty = tmp_path / "empty"
    empty.write_text("\n")
    with pytest.raises(ConfigError, match="is empty"):
        build_telemetry(TelemetrySettings(otlp_endpoint="http://127.0.0.1:9", otlp_token_file=empty))


def test_a_bad_header_is_refused_without_echoing_it() -> None:
    settings = TelemetrySettings(otlp_endpoint="http://127.0.0.1:9", otlp_headers="a=b,Bearer-sekrit")
    assert "sekrit" not in repr(settings)
    with pytest.raises(ConfigError, match="OTLP header number 2 is not key=value") as info:
        build_telemetry(settings)
    assert "sekrit" not in str(info.value)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port  # closed again: nothing listens there


def test_no_receiver_means_one_warning_and_counted_drops(
    caplog: pytest.LogCaptureFixture, app_logger: logging.Logger
) -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    telemetry = build_telemetry(TelemetrySettings(otlp_endpoint=url, otlp_timeout_s=1.0))
    telemetry.attach_log_handler(app_logger)
    with caplog.at_level(logging.DEBUG):
        for n in range(4):
            with telemetry.tracer.start_as_current_span(f"op-{n}"):
                app_logger.warning("work %d", n)
            telemetry.force_flush()
        telemetry.shutdown()
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING and r.name != app_logger.name]
    # One per signal (spans, log records), none from the OpenTelemetry exporters' retries.
    assert sorted(r.getMessage().split(" export to ")[0] for r in warnings) == [
        "OTLP log records",
        "OTLP spans",
    ], [r.getMessage() for r in warnings]
    assert all(r.name == "fanzwatch.sdk.export" for r in warnings)
    assert all(url in r.getMessage() and "failed (" in r.getMessage() for r in warnings)
    failures = "fanz_telemetry_failures_total"
    registry = telemetry.exposition.registry
    # Every flush counted: the first failed, the rest were skipped during the pause.
    assert registry.get_sample_value(failures, {"component": "otlp_trace_export"}) == 4
    assert registry.get_sample_value(failures, {"component": "otlp_log_export"}) == 4


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_breaker_pauses_doubles_and_recovers(caplog: pytest.LogCaptureFixture) -> None:
    clock = _Clock()
    counted: list[str] = []
    breaker = ExportBreaker("spans", "http://x/v1/traces", on_failure=counted.append, component="c", clock=clock)
    calls: list[int] = []

    def failing() -> bool:
        calls.append(1)
        logging.getLogger("opentelemetry.exporter.otlp.proto.http.trace_exporter").error("Failed: refused")
        return False

    with caplog.at_level(logging.INFO):
        assert breaker.run(3, failing) is False
        assert breaker.run(3, failing) is False  # paused: not even tried
        assert len(calls) == 1 and breaker.skipped == 3
        clock.now += FIRST_PAUSE_S
        assert breaker.run(1, failing) is False  # tried again, failed: pause doubles
        clock.now += FIRST_PAUSE_S
        assert breaker.run(1, failing) is False and len(calls) == 2
        clock.now += FIRST_PAUSE_S
        assert breaker.run(1, lambda: True) is True
    messages = [r.getMessage() for r in caplog.records]
    assert len([m for m in messages if "failed (Failed: refused)" in m]) == 1
    assert len([m for m in messages if "works again" in m]) == 1
    assert not [r for r in caplog.records if r.name.startswith("opentelemetry")]
    assert counted == ["c"] * 4
    # The pause is capped.
    for _ in range(20):
        clock.now += MAX_PAUSE_S
        breaker.run(1, lambda: False)
    assert breaker._pause == MAX_PAUSE_S


def test_records_logged_during_an_export_are_not_exported(app_logger: logging.Logger) -> None:
    from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter

    kept = InMemoryLogRecordExporter()  # type: ignore[no-untyped-call]
    telemetry = build_telemetry(TelemetrySettings(logs_export_level="debug"), log_exporters=[kept])
    telemetry.attach_log_handler(app_logger)
    app_logger.setLevel(logging.DEBUG)
    breaker = ExportBreaker("spans", "http://x", on_failure=lambda _c: None, component="c")

    def export() -> bool:
        app_logger.debug("urllib3-like connection noise inside an export")
        return True

    breaker.run(1, export)
    app_logger.debug("an ordinary record")
    telemetry.shutdown()
    assert [r.log_record.body for r in kept.get_finished_logs()] == ["an ordinary record"]

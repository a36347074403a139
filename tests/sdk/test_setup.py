"""Building telemetry: settings, resource, sampling, failures counted, never raised."""

from __future__ import annotations

from pathlib import Path

import pytest
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from pydantic import ValidationError

from fanzwatch.core import ConfigError
from fanzwatch.sdk import build_telemetry, trace_operation
from fanzwatch.sdk._internal.setup import build_resource, build_sampler
from fanzwatch.sdk.testing import capture_telemetry
from fanzwatch.settings.telemetry import TelemetrySettings

from ._collector import otlp_collector


def test_standard_otel_variables_are_honoured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_SERVICE_NAME", "billing")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318/")
    monkeypatch.setenv("OTEL_TRACES_SAMPLER", "parentbased_traceidratio")
    monkeypatch.setenv("OTEL_TRACES_SAMPLER_ARG", "0.25")
    monkeypatch.setenv("OTEL_RESOURCE_ATTRIBUTES", "service.version=2.0.1,region=eu%2Dwest")
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", "/tmp/prom")
    s = TelemetrySettings()
    assert s.service_name == "billing"
    assert s.traces_endpoint == "http://collector:4318/v1/traces"
    assert s.multiprocess_dir == Path("/tmp/prom")
    sampler = build_sampler(s)
    assert isinstance(sampler, ParentBased)
    assert "TraceIdRatioBased{0.25}" in sampler.get_description()  # type: ignore[no-untyped-call]
    attrs = dict(build_resource(s).attributes)
    assert attrs["service.name"] == "billing"
    assert attrs["service.version"] == "2.0.1"  # from the variable: the field was not set explicitly
    assert attrs["region"] == "eu-west"
    # Ours win over the standard ones, explicit arguments over both.
    monkeypatch.setenv("FANZWATCH_TELEMETRY_SERVICE_NAME", "billing-v2")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://tempo:4318/v1/traces")
    assert TelemetrySettings().service_name == "billing-v2"
    assert TelemetrySettings().traces_endpoint == "http://tempo:4318/v1/traces"
    assert dict(build_resource(TelemetrySettings(service_version="3")).attributes)["service.version"] == "3"
    assert isinstance(build_sampler(TelemetrySettings(traces_sampler="traceidratio")), TraceIdRatioBased)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"metrics_port": 9090}, "9090 is the Prometheus server's own port"),
        ({"traces_sampler": "sometimes"}, "traces_sampler 'sometimes' is not supported"),
        ({"traces_sampler_arg": 1.5}, "ratio between 0 and 1"),
        ({"platform": "fanz-99"}, "not one of the configured platforms"),
        ({"resource_attributes": "novalue"}, "is not key=value"),
        ({"excluded_paths": ("health",)}, "must start with '/'"),
        ({"slow_request_threshold_s": 0}, "greater than 0"),
    ],
)
def test_bad_settings_say_what_is_wrong(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        TelemetrySettings(**overrides)  # type: ignore[arg-type]


def test_multiprocess_needs_the_environment_variable_before_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    with pytest.raises(ConfigError, match=r"PROMETHEUS_MULTIPROC_DIR=.* in the environment before the process starts"):
        build_telemetry(TelemetrySettings(multiprocess_dir=tmp_path))
    with pytest.raises(ConfigError, match="is not a directory"):
        build_telemetry(TelemetrySettings(multiprocess_dir=tmp_path / "missing"))


def test_sampling_drops_spans_but_never_metrics() -> None:
    with capture_telemetry(traces_sampler="always_off") as cap:
        with trace_operation("op"):
            cap.telemetry.business.record_upload(content_type="audio", creator_tier="new")
        assert cap.spans() == ()
        labels = {"platform": "other", "content_type": "audio", "creator_tier": "new"}
        assert cap.get_sample_value("fanz_content_uploads_total", labels) == 1


def test_exporter_failures_are_counted_and_never_raised() -> None:
    with otlp_collector() as (url, received):
        received.status = 400  # a collector that refuses everything
        settings = TelemetrySettings(otlp_traces_endpoint=f"{url}/v1/traces", otlp_metrics_endpoint=f"{url}/v1/metrics")
        telemetry = build_telemetry(settings)
        with telemetry.tracer.start_as_current_span("op"):
            pass
        telemetry.business.record_upload(content_type="image", creator_tier="new")
        telemetry.force_flush()
        registry = telemetry.exposition.registry
        failures = "fanz_telemetry_failures_total"
        assert registry.get_sample_value(failures, {"component": "otlp_trace_export"}) == 1
        assert registry.get_sample_value(failures, {"component": "otlp_metrics_export"}) == 1
        telemetry.shutdown()  # final exports fail too: still no exception
        assert received.traces == []


def test_shutdown_is_idempotent() -> None:
    with capture_telemetry() as cap:
        cap.telemetry.shutdown()
        cap.telemetry.shutdown()


def test_a_separate_metrics_port(tmp_path: Path) -> None:
    import httpx

    from ._servers import free_port

    port = free_port()
    with capture_telemetry(metrics_port=port, platform="fanz-5") as cap:
        cap.telemetry.business.record_registration(role="fan", source="web")
        body = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
        assert 'fanz_user_registrations_total{platform="fanz-5",role="fan",source="web"} 1.0' in body
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=2)

"""A real uvicorn server, configured by OTEL_* variables, exporting OTLP to a local receiver."""

from __future__ import annotations

import httpx
import pytest
from opentelemetry.proto.trace.v1.trace_pb2 import Span as PbSpan

from ._collector import otlp_collector
from ._servers import uvicorn_server

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"


@pytest.mark.slow
def test_uvicorn_service_exports_traces_and_metrics_by_otlp() -> None:
    with otlp_collector() as (collector_url, received):
        env = {
            "OTEL_SERVICE_NAME": "uploads",
            "OTEL_RESOURCE_ATTRIBUTES": "service.version=1.4.2,deployment.environment.name=staging,team=creators",
            "OTEL_EXPORTER_OTLP_ENDPOINT": collector_url,
            "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT": f"{collector_url}/v1/metrics",
            "FANZWATCH_TELEMETRY_PLATFORM": "fanz-4",
            "FANZWATCH_TELEMETRY_INSTANCE_ID": "uploads-1",
            "FANZWATCH_TELEMETRY_AUTO_INSTRUMENT": '["httpx"]',
            "DOWNSTREAM_URL": f"{collector_url}/downstream",
        }
        with uvicorn_server("otlp_app:app", env=env) as base:
            response = httpx.post(
                f"{base}/creators/17/uploads", headers={"traceparent": f"00-{TRACE_ID}-{PARENT_ID}-01"}, timeout=10
            )
            assert response.status_code == 200
            assert response.json() == {"same_telemetry": True, "global_provider": True}
            assert response.headers["x-request-id"] == TRACE_ID
            metrics = httpx.get(f"{base}/metrics", timeout=10).text
        # uvicorn has shut down: the lifespan flushed both exporters.

    labels = 'content_type="video",creator_tier="verified",platform="fanz-4"'
    assert f"fanz_content_uploads_total{{{labels}}} 1.0" in metrics
    assert 'http_route="/creators/{creator_id}/uploads"' in metrics

    spans = {span.name: (resource, span) for resource, span in received.spans()}
    assert set(spans) == {"POST /creators/{creator_id}/uploads", "upload.store", "GET"}
    resource, server = spans["POST /creators/{creator_id}/uploads"]
    assert {k: resource[k] for k in ("service.name", "service.version", "deployment.environment.name")} == {
        "service.name": "uploads",
        "service.version": "1.4.2",
        "deployment.environment.name": "staging",
    }
    assert resource["service.instance.id"] == "uploads-1"
    assert resource["fanz.platform"] == "fanz-4"
    assert resource["team"] == "creators"
    assert server.kind == PbSpan.SPAN_KIND_SERVER
    assert server.trace_id.hex() == TRACE_ID
    assert server.parent_span_id.hex() == PARENT_ID
    attrs = {kv.key: kv.value for kv in server.attributes}
    assert attrs["user.id"].string_value == "creator-17"
    assert attrs["http.route"].string_value == "/creators/{creator_id}/uploads"
    assert attrs["http.response.status_code"].int_value == 200

    _, store = spans["upload.store"]
    _, client = spans["GET"]
    assert store.parent_span_id == server.span_id
    assert client.parent_span_id == store.span_id
    # The auto-instrumented httpx call carried the trace downstream.
    [downstream] = received.downstream_traceparents
    assert downstream.startswith(f"00-{TRACE_ID}-{client.span_id.hex()}-")

    assert {
        "fanz_content_uploads",
        "http_server_request_duration_seconds",
        "fanz_active_users",
    } <= received.metric_names()

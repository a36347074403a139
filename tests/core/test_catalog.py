from __future__ import annotations

import re
from pathlib import Path

import pytest

from fanzwatch.core import CATALOG, MetricKind, UnknownMetricError
from fanzwatch.core.catalog import Catalog, Label, MetricSpec, otlp
from fanzwatch.core.catalog.docs import render_metrics_doc

PROM_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
UNBOUNDED = {"user_id", "creator_id", "fan_id", "path", "url", "request_id", "session_id", "email"}


def test_every_name_and_label_is_valid_prometheus() -> None:
    for spec in CATALOG.values():
        assert PROM_NAME.match(spec.name), spec.name
        for label in spec.label_names:
            assert PROM_NAME.match(label) and not label.startswith("__"), (spec.name, label)


def test_no_label_is_an_unbounded_identifier() -> None:
    for spec in CATALOG.values():
        assert not UNBOUNDED & set(spec.label_names), spec.name


def test_sdk_and_server_series_can_be_split_by_platform() -> None:
    # Process- or engine-wide facts: a platform split would mean nothing.
    exempt = {
        "fanz_process_memory_limit_bytes",
        "fanz_telemetry_failures",
        "fanz_anomaly_engine_up",
        "fanz_anomaly_engine_state",
        "fanz_anomaly_query_failures",
        "fanz_anomaly_alert_post_failures",
        "fanz_anomaly_alerts_posted",
        "fanz_anomaly_series",
        "fanz_anomaly_last_evaluation_timestamp_seconds",
        "fanz_anomaly_clock_offset_seconds",
        "fanz_incident_impact_rounds",
        # The traces and logs pipeline: one request or batch mixes platforms (or is refused before
        # its body, and so its platforms, is read); the records carry their platform in the store.
        *(spec.name for spec in otlp.METRICS),
    }
    for spec in CATALOG.values():
        if spec.source.value in {"sdk", "server"} and spec.name not in exempt:
            assert "platform" in spec.label_names, spec.name


def test_durations_are_in_seconds_and_counters_have_no_total_suffix() -> None:
    for spec in CATALOG.values():
        assert "_ms" not in spec.name and "millisecond" not in spec.unit
        if spec.kind is MetricKind.HISTOGRAM and "duration" in spec.name:
            assert spec.name.endswith("_seconds")


def test_payment_transactions_carry_status() -> None:
    assert CATALOG["fanz_payment_transactions"].label_names == ("platform", "payment_type", "currency", "status")


@pytest.mark.parametrize(
    ("series", "family"),
    [
        ("fanz_payment_transactions_total", "fanz_payment_transactions"),
        ("http_server_request_duration_seconds_bucket", "http_server_request_duration_seconds"),
        ("http_server_request_duration_seconds_count", "http_server_request_duration_seconds"),
        ("fanz_active_users", "fanz_active_users"),
        ("up", "up"),
    ],
)
def test_family_of_sample_names(series: str, family: str) -> None:
    assert CATALOG.family_of(series).name == family


def test_unknown_metric_error_says_where_to_look() -> None:
    with pytest.raises(UnknownMetricError, match=r"docs/metrics\.md"):
        CATALOG["http_requests_total"]
    assert not CATALOG.knows_series("http_requests_total")


def test_spec_validation_rejects_mistakes() -> None:
    with pytest.raises(ValueError, match="buckets"):
        MetricSpec("x_seconds", MetricKind.HISTOGRAM, "seconds", "h", ())
    with pytest.raises(ValueError, match="_total"):
        MetricSpec("x_total", MetricKind.COUNTER, "1", "h", ())
    with pytest.raises(ValueError, match="duplicate"):
        MetricSpec("x", MetricKind.GAUGE, "1", "h", (Label("a", ""), Label("a", "")))
    spec = MetricSpec("x", MetricKind.GAUGE, "1", "h", ())
    with pytest.raises(ValueError, match="twice"):
        Catalog((spec, spec))


def test_docs_metrics_md_is_generated_from_the_catalog() -> None:
    committed = (Path(__file__).parents[2] / "docs" / "metrics.md").read_text()
    assert committed == render_metrics_doc(), "docs/metrics.md is stale: run `make docs`"
    assert "`http_request_duration_ms` | `http_server_request_duration_seconds`" in committed

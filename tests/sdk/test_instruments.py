"""Instruments come from the catalog: names, kinds, labels and buckets exactly as specified."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from fanzwatch.core import CATALOG, LabelError, MetricKind
from fanzwatch.core.catalog import business, http, runtime
from fanzwatch.core.catalog._spec import Label, MetricSpec
from fanzwatch.sdk import LabelBounds, build_prometheus_metric
from fanzwatch.sdk._internal.instruments import RECORDED_SPECS

KINDS = {MetricKind.COUNTER: Counter, MetricKind.GAUGE: Gauge, MetricKind.HISTOGRAM: Histogram}


@pytest.mark.parametrize("spec", RECORDED_SPECS, ids=lambda s: s.name)
def test_each_recorded_metric_matches_its_catalog_entry(spec: MetricSpec) -> None:
    registry = CollectorRegistry()
    metric = build_prometheus_metric(spec, registry)
    assert isinstance(metric, KINDS[spec.kind])
    assert metric._labelnames == spec.label_names
    [family] = list(registry.collect())
    assert family.name == spec.name
    assert family.documentation == spec.help
    if spec.buckets is not None:
        assert isinstance(metric, Histogram)
        assert tuple(metric._upper_bounds[:-1]) == spec.buckets


def test_every_recorded_metric_and_collect_time_gauge_is_in_the_catalog() -> None:
    names = {s.name for s in RECORDED_SPECS} | {
        business.ACTIVE_USERS.name,
        runtime.DB_CONNECTION_COUNT.name,
        runtime.DB_CONNECTION_MAX.name,
    }
    assert all(CATALOG[name] for name in names)


def test_a_spec_not_from_the_catalog_is_refused() -> None:
    rogue = MetricSpec("fanz_rogue", MetricKind.COUNTER, "x", "not catalogued", (Label("a", "a"),))
    with pytest.raises(LabelError, match="build instruments from CATALOG only"):
        build_prometheus_metric(rogue, CollectorRegistry())


@pytest.mark.parametrize(
    ("spec", "label", "value", "expected"),
    [
        (business.PAYMENT_TRANSACTIONS, "platform", "fanz-3", "fanz-3"),
        (business.PAYMENT_TRANSACTIONS, "platform", "evil-platform", "other"),
        (business.PAYMENT_TRANSACTIONS, "currency", "XBT", "OTHER"),
        (http.HTTP_SERVER_REQUEST_DURATION, "http_request_method", "BREW", "_OTHER"),
        (runtime.ERRORS, "error_type", "E" * 500, "E" * 64),
        (runtime.ERRORS, "error_type", "", "unknown"),
    ],
)
def test_label_bounds(spec: MetricSpec, label: str, value: str, expected: str) -> None:
    assert LabelBounds(spec, ("fanz-1", "fanz-3")).bound(label, value) == expected


def test_closed_label_sets_raise_with_the_allowed_values() -> None:
    bounds = LabelBounds(business.CONTENT_UPLOADS, ("fanz-1",))
    with pytest.raises(LabelError, match="content_type='gif' is not one of: audio, image, text, video"):
        bounds.bound("content_type", "gif")

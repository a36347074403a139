"""The expression checker parses PromQL and holds every name to the catalog."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from fanzwatch.core import Severity
from fanzwatch.provisioning import (
    AlertRule,
    RuleGroup,
    build_provisioning,
    check_expression,
    check_provisioning,
    metric_names,
)

from .conftest import make_settings


def test_every_rendered_expression_is_sound() -> None:
    provisioning = build_provisioning(make_settings())
    expressions = provisioning.expressions()
    # rules, dashboard targets and the $platform variable's series: nothing skipped
    # plus the probe rules (the journey quorum record and alerts), plus the SLOs: 18 rules each,
    # 21 for the two priced in money, 17 for the three performance budgets (two tiers), and the
    # traces and logs pipeline's three alerts
    assert len(expressions) == 12 + 19 + 4 + 16 + 2 + 9 + 6 * 18 + 2 * 21 + 3 * 17 + 3
    assert check_provisioning(provisioning) == []


def test_the_guides_queries_are_rejected() -> None:
    assert check_expression('rate(http_requests_total{status_code=~"5.."}[5m]) > 0.1') == [
        "unknown metric 'http_requests_total' (not in the fanzwatch catalog; see docs/metrics.md)"
    ]
    assert check_expression("histogram_quantile(0.95, rate(http_request_duration_ms_bucket[5m]))") == [
        "unknown metric 'http_request_duration_ms_bucket' (not in the fanzwatch catalog; see docs/metrics.md)"
    ]
    assert check_expression("database_connections > 80") == [
        "unknown metric 'database_connections' (not in the fanzwatch catalog; see docs/metrics.md)"
    ]


@pytest.mark.parametrize(
    ("expr", "problem"),
    [
        # deep inside functions, aggregations, offsets, subqueries and binary operations
        (
            "sum by (platform) (rate(fanz_revenue_total[5m] offset 1w)) / on (platform) nope_total",
            "unknown metric 'nope_total'",
        ),
        ("max_over_time(missing_gauge[1h:5m])", "unknown metric 'missing_gauge'"),
        ('{__name__="also_missing"}', "unknown metric 'also_missing'"),
        ('{__name__=~"fanz_.*"}', "a selector without an exact metric name"),
        # the guide's label, not the catalog's
        (
            'http_server_request_duration_seconds_count{status_code="500"}',
            "http_server_request_duration_seconds_count: no label 'status_code'",
        ),
        # a value the catalog does not allow (the guide's payments had no such status)
        ('fanz_payment_transactions_total{status="success"}', "status has no value 'success'"),
        ('fanz_payment_transactions_total{status=~"failed|error"}', "status has no value 'error'"),
        # le exists on buckets only
        ('http_server_request_duration_seconds_count{le="1"}', "no label 'le'"),
        ("rate(fanz_revenue_total[5m]", "does not parse"),
    ],
)
def test_problems_are_found_by_parsing(expr: str, problem: str) -> None:
    problems = check_expression(expr)
    assert len(problems) == 1 and problem in problems[0], problems


@pytest.mark.parametrize(
    "expr",
    [
        # names in strings or label values are not metrics
        'label_replace(up, "was", "http_requests_total", "job", "(.*)")',
        'up{job="http_requests_total"}',
        # target labels, buckets' le, regexes over open label sets
        'sum by (le) (rate(http_server_request_duration_seconds_bucket{le="+Inf",job=~".+"}[5m]))',
        'fanz_payment_transactions_total{status=~"fail.*"}',
        "count(up == 0) or vector(0)",
    ],
)
def test_sound_expressions_pass(expr: str) -> None:
    assert check_expression(expr) == []


def test_metric_names_come_from_selectors_only() -> None:
    expr = 'platform:http_server_5xx:ratio_rate5m > 0.05 and on (platform) label_replace(up, "a", "b_total", "", "")'
    assert metric_names(expr) == {"platform:http_server_5xx:ratio_rate5m", "up"}


def test_an_unknown_name_in_a_definition_is_caught_and_render_refuses_it() -> None:
    bad = AlertRule(
        name="HighErrorRate",
        expr='rate(http_requests_total{status_code=~"5.."}[5m]) > 0.1',
        hold=timedelta(minutes=2),
        severity=Severity.CRITICAL,
        service="fanz-platform",
        summary="s",
        description="d",
    )
    provisioning = build_provisioning(make_settings())
    broken = dataclasses.replace(
        provisioning, rule_groups=(*provisioning.rule_groups, RuleGroup("guide", "guide", (bad,)))
    )
    assert check_provisioning(broken) == [
        "rules/guide.yml: HighErrorRate: unknown metric 'http_requests_total' "
        "(not in the fanzwatch catalog; see docs/metrics.md)"
    ]

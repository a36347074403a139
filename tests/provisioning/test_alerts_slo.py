"""``promtool test rules`` for the generated SLO rules and burn-rate alerts.

The checkout SLO (calendar month, priced in money) on four platforms over 150 minutes:

- fanz-1 burns fast: 100 completed payments a minute, then 25 failed a minute from 60m;
- fanz-2 burns slowly: 2 % failed all along (above the 0.5 % budget, below every page);
- fanz-3 burns not at all: 0.2 % failed;
- fanz-4 is quiet: three payments an hour, half of them failed, a huge ratio on too
  little traffic to page anyone.

Counters start at 0 and are sampled on the minute, so rates over whole windows are exact
ratios of increases (Prometheus does not extrapolate a counter below zero).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from .conftest import RUNBOOKS, PromtoolCase, PromtoolRunner, counter

CHECKOUT = "slo-payments-checkout-success"
API_LATENCY = "slo-fanz-platform-api-latency"
_API_IDS = 'sloth_id="fanz-platform-api-latency", sloth_service="fanz-platform", sloth_slo="api-latency"'
_IDS = 'sloth_id="payments-checkout-success", sloth_service="payments", sloth_slo="checkout-success"'


def _payments(platform: str, status: str, values: str) -> dict[str, str]:
    return {
        "series": f'fanz_payment_transactions_total{{platform="{platform}",payment_type="tip",currency="USD",'
        f'status="{status}",job="fanz-platform",instance="10.0.0.1:8001"}}',
        "values": values,
    }


_SERIES = [
    _payments("fanz-1", "completed", "0+100x150"),
    _payments("fanz-1", "failed", counter((0, 60), (25, 90))),
    {
        "series": 'fanz_revenue_total{platform="fanz-1",payment_type="tip",currency="USD",job="fanz-platform",'
        'instance="10.0.0.1:8001"}',
        "values": "0+1000x150",  # $10 a completed payment
    },
    {
        # The failed ones were bigger: $12 each. The money lost is counted from this, not priced at $10.
        "series": 'fanz_payment_failed_value_total{platform="fanz-1",payment_type="tip",currency="USD",'
        'job="fanz-platform",instance="10.0.0.1:8001"}',
        "values": counter((0, 60), (300, 90)),
    },
    _payments("fanz-2", "completed", "0+98x150"),
    _payments("fanz-2", "failed", "0+2x150"),
    _payments("fanz-3", "completed", "0+499x150"),
    _payments("fanz-3", "failed", "0+1x150"),
    _payments("fanz-4", "completed", "0+0.025x150"),
    _payments("fanz-4", "failed", "0+0.025x150"),
]

_TIERS = {"fast": ("1h", "5m", "14.4"), "medium": ("6h", "30m", "6"), "slow": ("3d", "6h", "1")}
_MONTH_LASTS = {"fast": "2.2 days", "medium": "5.2 days", "slow": "31.0 days"}
_30D_LASTS = {"fast": "2.1 days", "medium": "5.0 days", "slow": "30.0 days"}


def _burn(tier: str, platform: str, value: str) -> dict[str, Any]:
    """A checkout burn-rate alert (99.5 % over the calendar month)."""
    long_, short, factor = _TIERS[tier]
    critical = tier != "slow"
    lasts = _MONTH_LASTS[tier]
    return {
        "exp_labels": {
            "severity": "critical" if critical else "warning",
            "priority": "P0" if critical else "P1",
            "service": "payments",
            "burn_tier": tier,
            "sloth_severity": "page" if critical else "ticket",
            "sloth_id": "payments-checkout-success",
            "sloth_service": "payments",
            "sloth_slo": "checkout-success",
            "platform": platform,
        },
        "exp_annotations": {
            "summary": f"SLO checkout-success on {platform} is burning its error budget at {factor}x "
            "the sustainable rate",
            "description": f"{value} of the events of SLO checkout-success on {platform} were bad over the last "
            f"{long_} (and still over {short}); the objective 99.5 % over the calendar month allows 0.5 %. "
            f"At this pace the budget lasts {lasts}.",
            "runbook_url": f"{RUNBOOKS}/SLOErrorBudgetBurn{tier.title()}.md",
        },
    }


def _alerts(at: str, fast: list[Any], medium: list[Any], slow: list[Any]) -> list[dict[str, Any]]:
    return [
        {"eval_time": at, "alertname": "SLOErrorBudgetBurnFast", "exp_alerts": fast},
        {"eval_time": at, "alertname": "SLOErrorBudgetBurnMedium", "exp_alerts": medium},
        {"eval_time": at, "alertname": "SLOErrorBudgetBurnSlow", "exp_alerts": slow},
    ]


def _money(metric: str, value: float) -> dict[str, Any]:
    return {
        "expr": f'round({metric}{{{_IDS}, platform="fanz-1"}}, 0.01)',  # the platform with a price
        "eval_time": "100m",
        "exp_samples": [
            {
                "labels": f'{{currency="USD", platform="fanz-1", {_IDS}}}',
                "value": value,
            }
        ],
    }


def case_checkout_burns_fast_slow_not_at_all_and_too_quietly() -> PromtoolCase:
    return PromtoolCase(
        {
            "evaluation_interval": "1m",
            "tests": [
                {
                    "interval": "1m",
                    "input_series": _SERIES,
                    "alert_rule_test": [
                        # Before the outage only fanz-2's slow burn is pending (it holds an hour).
                        *_alerts("50m", [], [], []),
                        # 100m: fanz-1 pages on both page tiers (1h ratio 1000/7000, 6h 1000/11000);
                        # fanz-2 has burned at 4x for over an hour: a ticket. fanz-4 never.
                        *_alerts(
                            "100m",
                            [_burn("fast", "fanz-1", "14.29%")],
                            [_burn("medium", "fanz-1", "9.091%")],
                            [_burn("slow", "fanz-2", "2%")],
                        ),
                        # 150m: fanz-1's slow tier has held its hour too (2250/17250).
                        *_alerts(
                            "150m",
                            [_burn("fast", "fanz-1", "20%")],
                            [_burn("medium", "fanz-1", "13.04%")],
                            [_burn("slow", "fanz-1", "13.04%"), _burn("slow", "fanz-2", "2%")],
                        ),
                    ],
                    "promql_expr_test": [
                        # 1000 failed checkouts this month worth $12 each (counted); the budget allows
                        # 0.5 % of 11000 attempts at the $10 average ($550), so it is $11450 overspent.
                        _money("slo:bad_events_value:currency", 12000),
                        _money("slo:error_budget:currency", 550),
                        _money("slo:error_budget_remaining:currency", -11450),
                        {
                            "expr": "round(slo:period_error_budget_remaining:ratio"
                            f'{{{_IDS}, platform=~"fanz-1|fanz-3"}}, 0.001)',
                            "eval_time": "100m",
                            "exp_samples": [
                                # 1 - (1000/11000) / 0.005
                                {"labels": f'{{platform="fanz-1", {_IDS}, sloth_window="month"}}', "value": -17.182},
                                # 1 - 0.002 / 0.005
                                {"labels": f'{{platform="fanz-3", {_IDS}, sloth_window="month"}}', "value": 0.6},
                            ],
                        },
                    ],
                }
            ],
        },
        rule_files=(CHECKOUT,),
    )


def _latency_burn(tier: str, platform: str, value: str) -> dict[str, Any]:
    """An API latency burn-rate alert (95 % within 1 s over 30 days)."""
    long_, short, factor = _TIERS[tier]
    critical = tier != "slow"
    return {
        "exp_labels": {
            "severity": "critical" if critical else "warning",
            "priority": "P0" if critical else "P1",
            "service": "fanz-platform",
            "burn_tier": tier,
            "sloth_severity": "page" if critical else "ticket",
            "sloth_id": "fanz-platform-api-latency",
            "sloth_service": "fanz-platform",
            "sloth_slo": "api-latency",
            "platform": platform,
        },
        "exp_annotations": {
            "summary": f"SLO api-latency on {platform} is burning its error budget at {factor}x the sustainable rate",
            "description": f"{value} of the events of SLO api-latency on {platform} were bad over the last "
            f"{long_} (and still over {short}); the objective 95 % over 30 days allows 5 %. "
            f"At this pace the budget lasts {_30D_LASTS[tier]}.",
            "runbook_url": f"{RUNBOOKS}/SLOErrorBudgetBurn{tier.title()}.md",
        },
    }


def _requests(platform: str, le: str, values: str) -> dict[str, str]:
    """One bucket ``le``; "count" is every event (the ``+Inf`` bucket, which the SLI counts),
    "count only" a ``_count`` series with no buckets at all."""
    series = "http_server_request_duration_seconds_" + ("count" if le == "count only" else "bucket")
    bucket = "" if le == "count only" else f',le="{"+Inf" if le == "count" else le}"'
    return {
        "series": f'{series}{{platform="{platform}",http_request_method="GET",http_route="/p/{{platform}}/api/v1/feed",'
        f'http_response_status_code="200",status_class="2xx"{bucket},job="fanz-platform",instance="10.0.0.1:8001"}}',
        "values": values,
    }


def case_api_latency_counts_requests_slower_than_the_1s_bucket() -> PromtoolCase:
    """fanz-1: half the requests over 1 s (pages at 6x, not 14.4x); fanz-2: all fast; fanz-3: all slow;
    fanz-4: a request count without buckets (silent: the events are the +Inf bucket's)."""
    return PromtoolCase(
        {
            "evaluation_interval": "1m",
            "tests": [
                {
                    "interval": "1m",
                    "input_series": [
                        _requests("fanz-1", "count", "0+100x90"),
                        _requests("fanz-1", "1.0", "0+50x90"),
                        _requests("fanz-2", "count", "0+100x90"),
                        _requests("fanz-2", "1.0", "0+100x90"),
                        _requests("fanz-3", "count", "0+100x90"),
                        _requests("fanz-3", "1.0", "0x90"),
                        # fanz-4 counts requests but keeps no buckets: none of them is slow
                        _requests("fanz-4", "count only", "0+100x90"),
                    ],
                    "alert_rule_test": [
                        {
                            "eval_time": "80m",
                            "alertname": "SLOErrorBudgetBurnFast",
                            "exp_alerts": [_latency_burn("fast", "fanz-3", "100%")],
                        },
                        {
                            "eval_time": "80m",
                            "alertname": "SLOErrorBudgetBurnMedium",
                            "exp_alerts": [
                                _latency_burn("medium", "fanz-1", "50%"),
                                _latency_burn("medium", "fanz-3", "100%"),
                            ],
                        },
                        {
                            "eval_time": "80m",
                            "alertname": "SLOErrorBudgetBurnSlow",
                            "exp_alerts": [
                                _latency_burn("slow", "fanz-1", "50%"),
                                _latency_burn("slow", "fanz-3", "100%"),
                            ],
                        },
                    ],
                    "promql_expr_test": [
                        {
                            "expr": 'slo:sli_error:ratio_rate30d{sloth_id="fanz-platform-api-latency"}',
                            "eval_time": "80m",
                            "exp_samples": [
                                {
                                    "labels": "slo:sli_error:ratio_rate30d"
                                    f'{{platform="fanz-{n}", {_API_IDS}, sloth_window="30d"}}',
                                    "value": v,
                                }
                                for n, v in ((1, 0.5), (2, 0), (3, 1))
                            ],
                        },
                    ],
                }
            ],
        },
        rule_files=(API_LATENCY,),
    )


LCP_BUDGET = "slo-web-performance-lcp-budget"
PAGE_LOAD_BUDGET = "slo-web-performance-page-load-p95-budget"
_PERF_TIERS = {"fast": ("1h", "5m", "2", "14.0 days"), "slow": ("1d", "2h", "1", "28.0 days")}
_PERF_OBJECTIVES = {"lcp-budget": ("75", "25"), "page-load-p95-budget": ("95", "5")}


def _views(histogram: str, platform: str, template: str, le: str, values: str) -> dict[str, str]:
    """One bucket ``le``; "count" is every view (the ``+Inf`` bucket, which the SLI counts)."""
    series = f"{histogram}_bucket"
    bucket = f',le="{"+Inf" if le == "count" else le}"'
    return {
        "series": f'{series}{{platform="{platform}",page_template="{template}",device_class="desktop"{bucket},'
        'job="fanzwatch",instance="127.0.0.1:8900"}',
        "values": values,
    }


def _lcp(platform: str, template: str, per_minute: float, good_per_minute: str, minutes: int = 170) -> list[Any]:
    """``per_minute`` page views, of which ``good_per_minute`` (a counter() string) had LCP <= 2.5 s."""
    return [
        _views("fanz_rum_lcp_seconds", platform, template, "count", f"0+{per_minute:g}x{minutes}"),
        _views("fanz_rum_lcp_seconds", platform, template, "2.5", good_per_minute),
    ]


def _perf_burn(slo: str, tier: str, platform: str, template: str, value: str) -> dict[str, Any]:
    long_, short, factor, lasts = _PERF_TIERS[tier]
    objective, allows = _PERF_OBJECTIVES[slo]
    severity = "warning" if tier == "fast" else "info"
    return {
        "exp_labels": {
            "severity": severity,
            "priority": "P1" if tier == "fast" else "P2",
            "service": "web-performance",
            "burn_tier": tier,
            "sloth_severity": "ticket",
            "sloth_id": f"web-performance-{slo}",
            "sloth_service": "web-performance",
            "sloth_slo": slo,
            "platform": platform,
            "page_template": template,
        },
        "exp_annotations": {
            "summary": f"SLO {slo} on {platform} page_template={template} is burning its error budget at "
            f"{factor}x the sustainable rate",
            "description": f"{value} of the events of SLO {slo} on {platform} page_template={template} were bad "
            f"over the last {long_} (and still over {short}); the objective {objective} % over 28 days allows "
            f"{allows} %. At this pace the budget lasts {lasts}.",
            "runbook_url": f"{RUNBOOKS}/PerformanceBudgetBurn{tier.title()}.md",
        },
    }


def case_performance_budgets_per_page_template() -> PromtoolCase:
    """RUM LCP (75 % of views within 2.5 s) and page load (95 % within 3 s), per platform and template.

    - fanz-1 /creators/:id: 10 views a minute, all good, then 80 % poor from 60m: over the
      fast tier's 50 % after ~98m, so it fires after its 10-minute hold; the slow tier's
      1-day ratio passes 25 % at ~88m and fires after its hour;
    - fanz-1 / (the same platform, another template): all good, silent;
    - fanz-2 /: 30 % poor all along: over the budget (slow tier), under twice it (no fast);
    - fanz-3 /: 10 % poor, within budget: silent;
    - fanz-4 /: every view poor, but 0.2 views a minute (34 in 170 minutes, under the
      50-view guard in every window): silent;
    - page load, fanz-1 /: 20 % of views over 3 s, four times the p95 budget: fast tier.
    """
    page_load = "fanz_rum_page_load_seconds"
    return PromtoolCase(
        {
            "evaluation_interval": "1m",
            "tests": [
                {
                    "interval": "1m",
                    "input_series": [
                        *_lcp("fanz-1", "/creators/:id", 10, counter((10, 60), (2, 110))),
                        *_lcp("fanz-1", "/", 10, "0+10x170"),
                        *_lcp("fanz-2", "/", 10, "0+7x170"),
                        *_lcp("fanz-3", "/", 10, "0+9x170"),
                        *_lcp("fanz-4", "/", 0.2, "0x170"),
                        _views(page_load, "fanz-1", "/", "count", "0+10x170"),
                        _views(page_load, "fanz-1", "/", "3.0", "0+8x170"),
                    ],
                    "alert_rule_test": [
                        # 8m: every burn is younger than its tier's hold.
                        {"eval_time": "8m", "alertname": "PerformanceBudgetBurnFast", "exp_alerts": []},
                        {"eval_time": "8m", "alertname": "PerformanceBudgetBurnSlow", "exp_alerts": []},
                        # 100m: fanz-1's fast tier is pending (held 10 minutes), its slow tier too.
                        {
                            "eval_time": "100m",
                            "alertname": "PerformanceBudgetBurnFast",
                            "exp_alerts": [
                                _perf_burn("page-load-p95-budget", "fast", "fanz-1", "/", "20%"),
                            ],
                        },
                        {
                            "eval_time": "100m",
                            "alertname": "PerformanceBudgetBurnSlow",
                            "exp_alerts": [
                                _perf_burn("lcp-budget", "slow", "fanz-2", "/", "30%"),
                                _perf_burn("page-load-p95-budget", "slow", "fanz-1", "/", "20%"),
                            ],
                        },
                        # 170m: fanz-1 /creators/:id on both tiers (1h: 80 %; 1d: 880 of 1700 views).
                        {
                            "eval_time": "170m",
                            "alertname": "PerformanceBudgetBurnFast",
                            "exp_alerts": [
                                _perf_burn("lcp-budget", "fast", "fanz-1", "/creators/:id", "80%"),
                                _perf_burn("page-load-p95-budget", "fast", "fanz-1", "/", "20%"),
                            ],
                        },
                        {
                            "eval_time": "170m",
                            "alertname": "PerformanceBudgetBurnSlow",
                            "exp_alerts": [
                                _perf_burn("lcp-budget", "slow", "fanz-1", "/creators/:id", "51.76%"),
                                _perf_burn("lcp-budget", "slow", "fanz-2", "/", "30%"),
                                _perf_burn("page-load-p95-budget", "slow", "fanz-1", "/", "20%"),
                            ],
                        },
                    ],
                    "promql_expr_test": [
                        {
                            "expr": 'round(slo:period_error_budget_remaining:ratio{sloth_slo="lcp-budget"}, 0.001)',
                            "eval_time": "170m",
                            "exp_samples": [
                                {
                                    "labels": f'{{platform="{p}", page_template="{t}", sloth_id="web-performance-'
                                    'lcp-budget", sloth_service="web-performance", sloth_slo="lcp-budget", '
                                    'sloth_window="28d"}',
                                    "value": v,
                                }
                                # 1 - share poor / 0.25
                                for p, t, v in (
                                    ("fanz-1", "/creators/:id", -1.071),
                                    ("fanz-1", "/", 1),
                                    ("fanz-2", "/", -0.2),
                                    ("fanz-3", "/", 0.6),
                                    ("fanz-4", "/", -3),
                                )
                            ],
                        },
                    ],
                }
            ],
        },
        rule_files=(LCP_BUDGET, PAGE_LOAD_BUDGET),
    )


CASES = (
    case_checkout_burns_fast_slow_not_at_all_and_too_quietly,
    case_api_latency_counts_requests_slower_than_the_1s_bucket,
    case_performance_budgets_per_page_template,
)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.__name__.removeprefix("case_"))
def test_promtool(case: Callable[[], PromtoolCase], promtool_test: PromtoolRunner) -> None:
    promtool_test(case())

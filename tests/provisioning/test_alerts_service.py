"""``promtool test rules`` for the service alerts: they fire with the right labels and
``for:``, and stay silent below thresholds, on thin traffic and on unrelated series."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from .conftest import PromtoolCase, PromtoolRunner, alert

T = {"job": "fanz-platform", "instance": "10.0.0.1:8001"}


def _requests(platform: str, status: str, per_minute: int) -> dict[str, str]:
    labels = (
        f'platform="{platform}",job="fanz-platform",instance="10.0.0.1:8001",http_request_method="GET",'
        f'http_route="/feed",http_response_status_code="{status}",status_class="{status[0]}xx"'
    )
    return {"series": f"http_server_request_duration_seconds_count{{{labels}}}", "values": f"0+{per_minute}x30"}


def _error_alert(platform: str, severity: str, percent: str) -> dict[str, object]:
    threshold = {"critical": "5%", "warning": "1%"}[severity]
    return alert(
        "HighErrorRate",
        severity=severity,
        service="fanz-platform",
        platform=platform,
        summary=f"5xx error ratio above {threshold} on {platform}",
        description=f"{percent} of HTTP requests on {platform} were answered with a 5xx status over the "
        f"last 5 minutes (threshold {threshold}).",
    )


def case_high_error_rate_is_a_ratio_with_a_volume_guard() -> PromtoolCase:
    return PromtoolCase(
        {
            "evaluation_interval": "1m",
            "tests": [
                {
                    "interval": "1m",
                    "input_series": [
                        # fanz-1: 10 % 5xx → critical and warning
                        _requests("fanz-1", "200", 540),
                        _requests("fanz-1", "500", 60),
                        # fanz-2: 2 % 5xx → warning only
                        _requests("fanz-2", "200", 588),
                        _requests("fanz-2", "503", 12),
                        # fanz-3: 50 % 5xx of two requests a minute → below the volume guard
                        _requests("fanz-3", "200", 1),
                        _requests("fanz-3", "500", 1),
                        # fanz-4: 4xx are the client's fault, not an error ratio
                        _requests("fanz-4", "404", 600),
                    ],
                    "alert_rule_test": [
                        # Condition true from the first rate at 1m: critical holds 2m, warning 5m.
                        {"eval_time": "2m", "alertname": "HighErrorRate", "exp_alerts": []},
                        {
                            "eval_time": "3m",
                            "alertname": "HighErrorRate",
                            "exp_alerts": [_error_alert("fanz-1", "critical", "10%")],
                        },
                        {
                            "eval_time": "6m",
                            "alertname": "HighErrorRate",
                            "exp_alerts": [
                                _error_alert("fanz-1", "critical", "10%"),
                                _error_alert("fanz-1", "warning", "10%"),
                                _error_alert("fanz-2", "warning", "2%"),
                            ],
                        },
                    ],
                }
            ],
        }
    )


def _buckets(platform: str, counts: dict[str, int]) -> list[dict[str, str]]:
    base = f'platform="{platform}",job="fanz-platform",instance="10.0.0.1:8001",http_request_method="GET",' + (
        'http_route="/feed",http_response_status_code="200",status_class="2xx"'
    )
    out = [
        {
            "series": f'http_server_request_duration_seconds_bucket{{{base},le="{le}"}}',
            "values": f"0+{count}x30",
        }
        for le, count in counts.items()
    ]
    out.append({"series": f"http_server_request_duration_seconds_count{{{base}}}", "values": f"0+{counts['+Inf']}x30"})
    return out


def case_high_response_time_uses_the_seconds_histogram() -> PromtoolCase:
    return PromtoolCase(
        {
            "evaluation_interval": "1m",
            "tests": [
                {
                    "interval": "1m",
                    "input_series": [
                        # fanz-1: every request between 1 s and 2.5 s → p95 = 1 + 1.5 × 0.95 = 2.425 s
                        *_buckets("fanz-1", {"0.5": 0, "1": 0, "2.5": 60, "+Inf": 60}),
                        # fanz-2: fast
                        *_buckets("fanz-2", {"0.5": 60, "1": 60, "2.5": 60, "+Inf": 60}),
                        # fanz-3: slow but one request a minute
                        *_buckets("fanz-3", {"0.5": 0, "1": 0, "2.5": 1, "+Inf": 1}),
                    ],
                    "alert_rule_test": [
                        {"eval_time": "5m", "alertname": "HighResponseTime", "exp_alerts": []},
                        {
                            "eval_time": "6m",
                            "alertname": "HighResponseTime",
                            "exp_alerts": [
                                alert(
                                    "HighResponseTime",
                                    severity="warning",
                                    service="fanz-platform",
                                    platform="fanz-1",
                                    summary="p95 response time above 1s on fanz-1",
                                    description="The 95th percentile of HTTP request duration on fanz-1 is 2.425s "
                                    "over the last 5 minutes.",
                                )
                            ],
                        },
                    ],
                }
            ],
        }
    )


def _pool(platform: str, state: str, value: int) -> dict[str, str]:
    return {
        "series": f'db_client_connection_count{{platform="{platform}",pool_name="primary",state="{state}",'
        f'job="fanz-platform",instance="{platform}:8001"}}',
        "values": f"{value}x20",
    }


def _pool_max(platform: str) -> dict[str, str]:
    return {
        "series": f'db_client_connection_max{{platform="{platform}",pool_name="primary",job="fanz-platform",'
        f'instance="{platform}:8001"}}',
        "values": "20x20",
    }


def _pool_alert(platform: str, severity: str, percent: str) -> dict[str, object]:
    threshold = {"critical": "95%", "warning": "80%"}[severity]
    return alert(
        "DatabaseConnectionPoolHigh",
        severity=severity,
        service="database",
        platform=platform,
        pool_name="primary",
        job="fanz-platform",
        instance=f"{platform}:8001",
        summary=f"Database pool primary above {threshold} of its maximum",
        description=f"Pool primary of fanz-platform on {platform} ({platform}:8001) uses {percent} of its "
        "maximum connections.",
    )


def case_database_pool_is_judged_against_its_maximum() -> PromtoolCase:
    return PromtoolCase(
        {
            "evaluation_interval": "1m",
            "tests": [
                {
                    "interval": "1m",
                    "input_series": [
                        _pool("fanz-1", "used", 20),
                        _pool("fanz-1", "idle", 0),
                        _pool_max("fanz-1"),
                        _pool("fanz-2", "used", 17),
                        _pool("fanz-2", "idle", 3),
                        _pool_max("fanz-2"),
                        # many idle connections are not pressure
                        _pool("fanz-3", "used", 2),
                        _pool("fanz-3", "idle", 18),
                        _pool_max("fanz-3"),
                    ],
                    "alert_rule_test": [
                        # Gauges: true from 0; critical holds 1m, warning 2m.
                        {"eval_time": "30s", "alertname": "DatabaseConnectionPoolHigh", "exp_alerts": []},
                        {
                            "eval_time": "1m",
                            "alertname": "DatabaseConnectionPoolHigh",
                            "exp_alerts": [_pool_alert("fanz-1", "critical", "100%")],
                        },
                        {
                            "eval_time": "2m",
                            "alertname": "DatabaseConnectionPoolHigh",
                            "exp_alerts": [
                                _pool_alert("fanz-1", "critical", "100%"),
                                _pool_alert("fanz-1", "warning", "100%"),
                                _pool_alert("fanz-2", "warning", "85%"),
                            ],
                        },
                    ],
                }
            ],
        }
    )


def _memory_alert(instance: str, severity: str, percent: str) -> dict[str, object]:
    threshold = {"critical": "95%", "warning": "85%"}[severity]
    return alert(
        "HighMemoryUsage",
        severity=severity,
        service="fanz-platform",
        job="fanz-platform",
        instance=instance,
        summary=f"fanz-platform memory above {threshold} of its limit",
        description=f"fanz-platform on {instance} uses {percent} of its memory limit.",
    )


def case_memory_is_judged_against_the_process_limit() -> PromtoolCase:
    return PromtoolCase(
        {
            "evaluation_interval": "1m",
            "tests": [
                {
                    "interval": "1m",
                    "input_series": [
                        {
                            "series": 'process_resident_memory_bytes{job="fanz-platform",instance="a:8001"}',
                            "values": "980000000x10",
                        },
                        {
                            "series": 'fanz_process_memory_limit_bytes{job="fanz-platform",instance="a:8001"}',
                            "values": "1000000000x10",
                        },
                        {
                            "series": 'process_resident_memory_bytes{job="fanz-platform",instance="b:8001"}',
                            "values": "900000000x10",
                        },
                        {
                            "series": 'fanz_process_memory_limit_bytes{job="fanz-platform",instance="b:8001"}',
                            "values": "1000000000x10",
                        },
                        # a large process with a larger limit is fine; one without a limit is not judged
                        {
                            "series": 'process_resident_memory_bytes{job="fanz-platform",instance="c:8001"}',
                            "values": "6000000000x10",
                        },
                        {
                            "series": 'fanz_process_memory_limit_bytes{job="fanz-platform",instance="c:8001"}',
                            "values": "16000000000x10",
                        },
                        {
                            "series": 'process_resident_memory_bytes{job="prometheus",instance="p:9090"}',
                            "values": "50000000000x10",
                        },
                    ],
                    "alert_rule_test": [
                        {"eval_time": "1m", "alertname": "HighMemoryUsage", "exp_alerts": []},
                        {
                            "eval_time": "2m",
                            "alertname": "HighMemoryUsage",
                            "exp_alerts": [_memory_alert("a:8001", "critical", "98%")],
                        },
                        {
                            "eval_time": "5m",
                            "alertname": "HighMemoryUsage",
                            "exp_alerts": [
                                _memory_alert("a:8001", "critical", "98%"),
                                _memory_alert("a:8001", "warning", "98%"),
                                _memory_alert("b:8001", "warning", "90%"),
                            ],
                        },
                    ],
                }
            ],
        }
    )


CASES = (
    case_high_error_rate_is_a_ratio_with_a_volume_guard,
    case_high_response_time_uses_the_seconds_histogram,
    case_database_pool_is_judged_against_its_maximum,
    case_memory_is_judged_against_the_process_limit,
)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.__name__.removeprefix("case_"))
def test_promtool(case: Callable[[], PromtoolCase], promtool_test: PromtoolRunner) -> None:
    promtool_test(case())

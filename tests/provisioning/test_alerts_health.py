"""``promtool test rules`` for the health-check alerts over the pass/warn/fail state set."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from .conftest import PromtoolCase, PromtoolRunner, alert

TARGET = 'job="fanz-platform",instance="10.0.0.1:8001"'


def _check(platform: str, check: str, status: str, critical: int) -> list[dict[str, str]]:
    labels = f'platform="{platform}",check="{check}",{TARGET}'
    return [
        *(
            {
                "series": f'fanz_health_check_status{{{labels},status="{s}"}}',
                "values": f"{1 if s == status else 0}x20",
            }
            for s in ("pass", "warn", "fail")
        ),
        {"series": f"fanz_health_check_critical{{{labels}}}", "values": f"{critical}x20"},
    ]


WHERE = "on fanz-1 (fanz-platform at 10.0.0.1:8001)"


def case_failing_checks_page_or_warn_by_criticality_and_reach_the_owner() -> PromtoolCase:
    def critical(check: str, service: str) -> dict[str, object]:
        return alert(
            "HealthCheckFailing",
            severity="critical",
            service=service,
            platform="fanz-1",
            check=check,
            job="fanz-platform",
            instance="10.0.0.1:8001",
            summary=f"Critical health check {check} failing on fanz-1",
            description=f"Health check {check} {WHERE} has failed for over a minute; "
            "the service reports itself not ready.",
        )

    def warning(check: str, service: str) -> dict[str, object]:
        return alert(
            "HealthCheckFailing",
            severity="warning",
            service=service,
            platform="fanz-1",
            check=check,
            job="fanz-platform",
            instance="10.0.0.1:8001",
            summary=f"Health check {check} failing on fanz-1",
            description=f"Non-critical health check {check} {WHERE} has failed for 5 minutes; "
            "the service still serves.",
        )

    paging = [critical("database_replica", "database"), critical("payment_processor", "payments")]
    warnings = [
        warning("object_storage", "infrastructure"),
        warning("payment_processor_backup", "payments"),
        warning("recommendations", "fanz-platform"),
        warning("redis", "infrastructure"),
    ]
    return PromtoolCase(
        {
            "evaluation_interval": "1m",
            "tests": [
                {
                    "interval": "1m",
                    "input_series": [
                        # the owner follows the check's name (guide's names and the demo's)
                        *_check("fanz-1", "payment_processor", "fail", critical=1),
                        *_check("fanz-1", "database_replica", "fail", critical=1),
                        *_check("fanz-1", "payment_processor_backup", "fail", critical=0),
                        *_check("fanz-1", "redis", "fail", critical=0),
                        *_check("fanz-1", "object_storage", "fail", critical=0),
                        *_check("fanz-1", "recommendations", "fail", critical=0),
                        *_check("fanz-1", "database", "pass", critical=1),
                        *_check("fanz-1", "search_index", "warn", critical=0),
                    ],
                    "alert_rule_test": [
                        {"eval_time": "30s", "alertname": "HealthCheckFailing", "exp_alerts": []},
                        {"eval_time": "1m", "alertname": "HealthCheckFailing", "exp_alerts": paging},
                        {"eval_time": "4m", "alertname": "HealthCheckFailing", "exp_alerts": paging},
                        {"eval_time": "5m", "alertname": "HealthCheckFailing", "exp_alerts": paging + warnings},
                        {"eval_time": "9m", "alertname": "HealthCheckDegraded", "exp_alerts": []},
                        {
                            "eval_time": "10m",
                            "alertname": "HealthCheckDegraded",
                            "exp_alerts": [
                                alert(
                                    "HealthCheckDegraded",
                                    severity="warning",
                                    service="fanz-platform",
                                    platform="fanz-1",
                                    check="search_index",
                                    job="fanz-platform",
                                    instance="10.0.0.1:8001",
                                    summary="Health check search_index degraded on fanz-1",
                                    description=f"Health check search_index {WHERE} has reported warn for 10 minutes.",
                                )
                            ],
                        },
                    ],
                }
            ],
        },
        rule_files=("health",),
    )


CASES = (case_failing_checks_page_or_warn_by_criticality_and_reach_the_owner,)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.__name__.removeprefix("case_"))
def test_promtool(case: Callable[[], PromtoolCase], promtool_test: PromtoolRunner) -> None:
    promtool_test(case())

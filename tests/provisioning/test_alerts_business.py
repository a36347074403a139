"""``promtool test rules`` for the business alerts.

The registrations case runs a week and a half of data so ``offset 1w`` has something to
compare with: a real drop fires, a normal night (the guide's rule fired every night)
and a thin platform stay silent.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from .conftest import PromtoolCase, PromtoolRunner, alert, counter

WEEK_STEPS = 7 * 24 * 6  # 10-minute steps in a week


def _registrations(platform: str, values: str) -> dict[str, str]:
    return {
        "series": f'fanz_user_registrations_total{{platform="{platform}",role="fan",source="web",'
        f'job="fanz-platform",instance="10.0.0.1:8001"}}',
        "values": values,
    }


def _daily_cycle(days: int, night_per_step: int, day_per_step: int) -> str:
    """Nights (00:00-08:00) and days at fixed sign-ups per 10 minutes, every day alike."""
    return counter(*[segment for _ in range(days) for segment in ((night_per_step, 48), (day_per_step, 96))])


def _low_registrations(value: str) -> dict[str, object]:
    return alert(
        "LowUserRegistrations",
        severity="warning",
        service="business",
        platform="fanz-1",
        summary="Registrations on fanz-1 fell below half of the same hour last week",
        description=f"{value} users registered on fanz-1 in the last hour, less than half of the same hour a week ago.",
    )


def case_low_registrations_compares_with_the_same_hour_last_week() -> PromtoolCase:
    return PromtoolCase(
        {
            "evaluation_interval": "10m",
            "tests": [
                {
                    "interval": "10m",
                    "input_series": [
                        # fanz-1: 120 an hour all week, then 30 an hour: a real drop.
                        _registrations("fanz-1", counter((20, WEEK_STEPS), (5, 78))),
                        # fanz-2: 12 an hour, then none: a drop, but too few for the ratio to mean anything.
                        _registrations("fanz-2", counter((2, WEEK_STEPS), (0, 78))),
                        # fanz-3: a normal daily cycle with 6 an hour at night (the guide's `< 10` fires).
                        _registrations("fanz-3", _daily_cycle(8, 1, 20)),
                        # fanz-4: a busy platform whose night (24 an hour) is a tenth of its day.
                        _registrations("fanz-4", _daily_cycle(8, 4, 40)),
                    ],
                    "alert_rule_test": [
                        # The drop is below half from 1w+50m; the rule holds 30m.
                        {"eval_time": "169h10m", "alertname": "LowUserRegistrations", "exp_alerts": []},
                        {
                            "eval_time": "169h20m",
                            "alertname": "LowUserRegistrations",
                            "exp_alerts": [_low_registrations("30")],
                        },
                        # 03:00, night-time on fanz-3 and fanz-4: silent there.
                        {
                            "eval_time": "171h",
                            "alertname": "LowUserRegistrations",
                            "exp_alerts": [_low_registrations("30")],
                        },
                        # 12:00, day-time: still only the real drop.
                        {
                            "eval_time": "180h",
                            "alertname": "LowUserRegistrations",
                            "exp_alerts": [_low_registrations("30")],
                        },
                    ],
                    "promql_expr_test": [
                        # The guide's rule (`increase(...[1h]) < 10`) would page for fanz-3 at night:
                        {
                            "expr": 'increase(fanz_user_registrations_total{platform="fanz-3"}[1h]) < 10',
                            "eval_time": "171h",
                            "exp_samples": [
                                {
                                    "labels": '{platform="fanz-3",role="fan",source="web",job="fanz-platform",'
                                    'instance="10.0.0.1:8001"}',
                                    "value": 6,
                                }
                            ],
                        },
                    ],
                }
            ],
        },
        # The rule reads raw counters only; a week of evaluations of every group is slow.
        rule_files=("business",),
    )


def _payments(platform: str, status: str, per_minute: int) -> dict[str, str]:
    return {
        "series": f'fanz_payment_transactions_total{{platform="{platform}",payment_type="subscription",'
        f'currency="USD",status="{status}",job="fanz-platform",instance="10.0.0.1:8001"}}',
        "values": f"0+{per_minute}x20",
    }


def case_payment_failure_rate_uses_the_status_label() -> PromtoolCase:
    return PromtoolCase(
        {
            "evaluation_interval": "1m",
            "tests": [
                {
                    "interval": "1m",
                    "input_series": [
                        # fanz-1: 10 % of attempts fail in processing
                        _payments("fanz-1", "completed", 90),
                        _payments("fanz-1", "failed", 10),
                        # fanz-2: 20 % declined by the bank, none failed: not a processing problem
                        _payments("fanz-2", "completed", 80),
                        _payments("fanz-2", "declined", 20),
                        # fanz-3: every attempt fails, but one a minute is too few to page on
                        _payments("fanz-3", "failed", 1),
                    ],
                    "alert_rule_test": [
                        # Rates exist from 1m; the rule holds 1m.
                        {"eval_time": "1m", "alertname": "PaymentFailureRate", "exp_alerts": []},
                        {
                            "eval_time": "2m",
                            "alertname": "PaymentFailureRate",
                            "exp_alerts": [
                                alert(
                                    "PaymentFailureRate",
                                    severity="critical",
                                    service="payments",
                                    platform="fanz-1",
                                    summary="Payments failing on fanz-1",
                                    description="10% of payment attempts on fanz-1 failed in processing over the "
                                    "last 5 minutes (threshold 5%).",
                                )
                            ],
                        },
                    ],
                }
            ],
        }
    )


CASES = (case_low_registrations_compares_with_the_same_hour_last_week, case_payment_failure_rate_uses_the_status_label)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.__name__.removeprefix("case_"))
def test_promtool(case: Callable[[], PromtoolCase], promtool_test: PromtoolRunner) -> None:
    promtool_test(case())

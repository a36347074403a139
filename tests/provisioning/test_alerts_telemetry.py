"""``promtool test rules`` for the traces and logs pipeline: refusals, the store away, a spool left behind."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from fanzwatch.provisioning.definitions.alerts_telemetry import TELEMETRY_ALERTS

from .conftest import PromtoolCase, PromtoolRunner, alert, counter

TEXT = {rule.name: (rule.summary, rule.description) for rule in TELEMETRY_ALERTS}
SERVER = 'job="fanzwatch",instance="127.0.0.1:8900"'
WORKER_2 = 'job="fanzwatch",instance="127.0.0.1:8901"'


def _expected(name: str, *, value: str = "", **labels: str) -> dict[str, Any]:
    summary, description = TEXT[name]
    for template, text in (("{{ $value | humanizePercentage }}", value), ("{{ $value }}", value)):
        summary, description = summary.replace(template, text), description.replace(template, text)
    for key, text in labels.items():
        summary = summary.replace(f"{{{{ $labels.{key} }}}}", text)
        description = description.replace(f"{{{{ $labels.{key} }}}}", text)
    return alert(name, severity="warning", service="monitoring", summary=summary, description=description, **labels)


def _requests(target: str, signal: str, outcome: str, values: str) -> dict[str, str]:
    series = f'fanz_otlp_requests_total{{{target},signal="{signal}",outcome="{outcome}"}}'
    return {"series": series, "values": values}


def case_sustained_refusals_warn_and_a_trickle_does_not() -> PromtoolCase:
    # Per minute: traces 100 accepted, then from 10m also 20 refused (1/6 of the requests) over two
    # workers; logs 100 accepted and 1 refused throughout (1 %, under the 5 % threshold).
    series = [
        _requests(SERVER, "traces", "accepted", counter((50, 40))),
        _requests(WORKER_2, "traces", "accepted", counter((50, 40))),
        _requests(SERVER, "traces", "back_pressure", counter((0, 10), (10, 30))),
        _requests(WORKER_2, "traces", "store_unavailable", counter((0, 10), (10, 30))),
        _requests(SERVER, "traces", "malformed", counter((0, 10), (500, 30))),  # a client's bug: not ours
        _requests(SERVER, "logs", "accepted", counter((100, 40))),
        _requests(SERVER, "logs", "back_pressure", counter((1, 40))),
    ]
    return PromtoolCase(
        {
            "evaluation_interval": "1m",
            "tests": [
                {
                    "interval": "1m",
                    "input_series": series[:4] + series[5:],
                    "alert_rule_test": [
                        {"eval_time": "9m", "alertname": "TelemetryPipelineRejecting", "exp_alerts": []},
                        {"eval_time": "13m", "alertname": "TelemetryPipelineRejecting", "exp_alerts": []},  # pending
                        {
                            "eval_time": "20m",
                            "alertname": "TelemetryPipelineRejecting",
                            "exp_alerts": [_expected("TelemetryPipelineRejecting", value="16.67%", signal="traces")],
                        },
                    ],
                },
                {
                    # 400 malformed a minute against 100 accepted: a 400 is the sender's problem, not refusal
                    "interval": "1m",
                    "input_series": [series[0], series[4]],
                    "alert_rule_test": [
                        {"eval_time": "30m", "alertname": "TelemetryPipelineRejecting", "exp_alerts": []},
                    ],
                },
            ],
        },
        rule_files=("telemetry",),
    )


def case_a_store_away_for_two_minutes_warns_once_per_job() -> PromtoolCase:
    return PromtoolCase(
        {
            "evaluation_interval": "1m",
            "tests": [
                {
                    "interval": "1m",
                    "input_series": [
                        {"series": f"fanz_otlp_store_up{{{SERVER}}}", "values": "1 1 1 0x6 1x5"},  # away 3m-8m
                        {"series": f"fanz_otlp_store_up{{{WORKER_2}}}", "values": "1 1 1 1 0x5 1x5"},
                    ],
                    "alert_rule_test": [
                        {"eval_time": "2m", "alertname": "TelemetryStoreUnavailable", "exp_alerts": []},
                        {"eval_time": "4m", "alertname": "TelemetryStoreUnavailable", "exp_alerts": []},  # pending
                        {
                            "eval_time": "6m",
                            "alertname": "TelemetryStoreUnavailable",
                            "exp_alerts": [_expected("TelemetryStoreUnavailable", job="fanzwatch")],
                        },
                        {"eval_time": "10m", "alertname": "TelemetryStoreUnavailable", "exp_alerts": []},  # back
                    ],
                },
                {
                    # a blip shorter than the hold
                    "interval": "1m",
                    "input_series": [{"series": f"fanz_otlp_store_up{{{SERVER}}}", "values": "1 1 0 1x10"}],
                    "alert_rule_test": [
                        {"eval_time": "3m", "alertname": "TelemetryStoreUnavailable", "exp_alerts": []},
                        {"eval_time": "5m", "alertname": "TelemetryStoreUnavailable", "exp_alerts": []},
                    ],
                },
            ],
        },
        rule_files=("telemetry",),
    )


def case_a_spool_left_on_disk_for_ten_minutes_warns_and_a_replayed_one_does_not() -> PromtoolCase:
    return PromtoolCase(
        {
            "evaluation_interval": "1m",
            "tests": [
                {
                    "interval": "1m",
                    "input_series": [
                        # two workers of one server see the same spool directory
                        {"series": f"fanz_otlp_spool_files{{{SERVER}}}", "values": "0 0 3x14 0x5"},
                        {"series": f"fanz_otlp_spool_files{{{WORKER_2}}}", "values": "0 0 3x14 0x5"},
                    ],
                    "alert_rule_test": [
                        {"eval_time": "11m", "alertname": "TelemetrySpoolBacklog", "exp_alerts": []},  # pending
                        {
                            "eval_time": "13m",
                            "alertname": "TelemetrySpoolBacklog",
                            "exp_alerts": [_expected("TelemetrySpoolBacklog", value="3", job="fanzwatch")],
                        },
                        {"eval_time": "18m", "alertname": "TelemetrySpoolBacklog", "exp_alerts": []},  # delivered
                    ],
                },
                {
                    # replayed at the next start, delivered within minutes
                    "interval": "1m",
                    "input_series": [{"series": f"fanz_otlp_spool_files{{{SERVER}}}", "values": "2 2 2 0x20"}],
                    "alert_rule_test": [
                        {"eval_time": "15m", "alertname": "TelemetrySpoolBacklog", "exp_alerts": []},
                    ],
                },
            ],
        },
        rule_files=("telemetry",),
    )


CASES = (
    case_sustained_refusals_warn_and_a_trickle_does_not,
    case_a_store_away_for_two_minutes_warns_once_per_job,
    case_a_spool_left_on_disk_for_ten_minutes_warns_and_a_replayed_one_does_not,
)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.__name__.removeprefix("case_"))
def test_promtool(case: Callable[[], PromtoolCase], promtool_test: PromtoolRunner) -> None:
    promtool_test(case())


def test_refusals_are_the_503_outcomes_of_the_catalog() -> None:
    """The rule's regexp names outcomes the receiver counts (a renamed one would silence it)."""
    from fanzwatch.core.catalog import otlp

    rejecting = next(rule for rule in TELEMETRY_ALERTS if rule.name == "TelemetryPipelineRejecting")
    assert '{outcome=~"back_pressure|store_unavailable"}' in rejecting.expr
    assert {"back_pressure", "store_unavailable"} <= set(otlp.REFUSALS) <= set(otlp.REQUEST_OUTCOMES)

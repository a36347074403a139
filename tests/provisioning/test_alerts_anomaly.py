"""``promtool test rules`` for the meta-alerts that say when anomaly detection is blind."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from fanzwatch.provisioning.definitions.alerts_anomaly import ANOMALY_ALERTS

from .conftest import PromtoolCase, PromtoolRunner, alert

TARGET = 'job="fanzwatch",instance="127.0.0.1:8900"'
TEXT = {rule.name: (rule.summary, rule.description) for rule in ANOMALY_ALERTS}


def _expected(name: str, **labels: str) -> dict[str, object]:
    summary, description = TEXT[name]
    for key, value in labels.items():
        summary = summary.replace(f"{{{{ $labels.{key} }}}}", value)
        description = description.replace(f"{{{{ $labels.{key} }}}}", value)
    return alert(
        name, severity="warning", service="fanzwatch-anomaly", summary=summary, description=description, **labels
    )


def _state(unknown: str) -> list[dict[str, str]]:
    """The engine's state set: ``unknown`` as given, ``pass`` its opposite."""
    opposite = " ".join("1" if v == "0" else "0" if v == "1" else v for v in unknown.split())
    return [
        {"series": f'fanz_anomaly_engine_state{{{TARGET},state="unknown"}}', "values": unknown},
        {"series": f'fanz_anomaly_engine_state{{{TARGET},state="pass"}}', "values": opposite},
    ]


def case_blind_engine_warns_after_two_minutes_and_not_before() -> PromtoolCase:
    unknown = " ".join(["0"] * 3 + ["1"] * 8 + ["0"] * 5)  # blind from 3m to 10m
    return PromtoolCase(
        {
            "evaluation_interval": "1m",
            "tests": [
                {
                    "interval": "1m",
                    "input_series": _state(unknown),
                    "alert_rule_test": [
                        {"eval_time": "2m", "alertname": "AnomalyEngineBlind", "exp_alerts": []},
                        {"eval_time": "4m", "alertname": "AnomalyEngineBlind", "exp_alerts": []},  # pending
                        {
                            "eval_time": "6m",
                            "alertname": "AnomalyEngineBlind",
                            "exp_alerts": [_expected("AnomalyEngineBlind")],
                        },
                        {"eval_time": "13m", "alertname": "AnomalyEngineBlind", "exp_alerts": []},
                        # blind is not "stopped"
                        {"eval_time": "9m", "alertname": "AnomalyEngineStopped", "exp_alerts": []},
                    ],
                }
            ],
        },
        rule_files=("anomaly",),
    )


def case_stale_series_alert_names_the_series() -> PromtoolCase:
    series = [
        {
            "series": f'fanz_anomaly_series_stale{{{TARGET},metric="active_users",platform="fanz-2"}}',
            "values": "0 0 1x10",
        },
        {"series": f'fanz_anomaly_series_stale{{{TARGET},metric="active_users",platform="fanz-1"}}', "values": "0x12"},
    ]
    return PromtoolCase(
        {
            "evaluation_interval": "1m",
            "tests": [
                {
                    "interval": "1m",
                    "input_series": series,
                    "alert_rule_test": [
                        {"eval_time": "2m", "alertname": "AnomalySeriesStale", "exp_alerts": []},
                        {
                            "eval_time": "4m",
                            "alertname": "AnomalySeriesStale",
                            "exp_alerts": [_expected("AnomalySeriesStale", metric="active_users", platform="fanz-2")],
                        },
                    ],
                }
            ],
        },
        rule_files=("anomaly",),
    )


def case_engine_that_stops_evaluating_or_vanishes_is_reported() -> PromtoolCase:
    stuck = [
        # evaluations every minute until 5m, then none while the server is still scraped
        {"series": f"fanz_anomaly_last_evaluation_timestamp_seconds{{{TARGET}}}", "values": "0+60x5 300x30"},
        {"series": f"fanz_anomaly_engine_up{{{TARGET}}}", "values": "1x35"},
        *_state("0x35"),
    ]
    vanished = [
        {"series": f"fanz_anomaly_last_evaluation_timestamp_seconds{{{TARGET}}}", "values": "0+60x10 _x30"},
        {"series": f"fanz_anomaly_engine_up{{{TARGET}}}", "values": "1x10 _x30"},
        *_state("0x10 _x30"),
    ]
    stopped = [_expected("AnomalyEngineStopped")]
    return PromtoolCase(
        {
            "evaluation_interval": "1m",
            "tests": [
                {
                    "interval": "1m",
                    "input_series": stuck,
                    "alert_rule_test": [
                        {"eval_time": "14m", "alertname": "AnomalyEngineStopped", "exp_alerts": []},
                        {"eval_time": "17m", "alertname": "AnomalyEngineStopped", "exp_alerts": stopped},
                    ],
                },
                {
                    "interval": "1m",
                    "input_series": vanished,
                    "alert_rule_test": [
                        {"eval_time": "12m", "alertname": "AnomalyEngineStopped", "exp_alerts": []},
                        {"eval_time": "24m", "alertname": "AnomalyEngineStopped", "exp_alerts": stopped},
                    ],
                },
                {
                    # a server that never ran the engine (anomaly detection disabled): silent
                    "interval": "1m",
                    "input_series": [{"series": f"up{{{TARGET}}}", "values": "1x40"}],
                    "alert_rule_test": [{"eval_time": "30m", "alertname": "AnomalyEngineStopped", "exp_alerts": []}],
                },
            ],
        },
        rule_files=("anomaly",),
    )


def case_platform_whose_request_series_vanish_is_reported() -> PromtoolCase:
    def requests(platform: str, values: str) -> dict[str, str]:
        labels = f'platform="{platform}",status_class="2xx",job="fanz-platform",instance="10.0.0.1:8001"'
        return {"series": f"http_server_request_duration_seconds_count{{{labels}}}", "values": values}

    return PromtoolCase(
        {
            "evaluation_interval": "1m",
            "tests": [
                {
                    "interval": "1m",
                    "input_series": [
                        requests("fanz-1", "0+60x70 _x60"),  # gone from 70m
                        requests("fanz-2", "0+60x130"),
                        requests("fanz-3", "0x130"),  # never had traffic: nothing to miss
                    ],
                    "alert_rule_test": [
                        {"eval_time": "60m", "alertname": "WatchedSeriesAbsent", "exp_alerts": []},
                        {
                            "eval_time": "95m",
                            "alertname": "WatchedSeriesAbsent",
                            "exp_alerts": [_expected("WatchedSeriesAbsent", platform="fanz-1")],
                        },
                    ],
                }
            ],
        },
        rule_files=("anomaly",),
    )


CASES = (
    case_blind_engine_warns_after_two_minutes_and_not_before,
    case_stale_series_alert_names_the_series,
    case_engine_that_stops_evaluating_or_vanishes_is_reported,
    case_platform_whose_request_series_vanish_is_reported,
)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.__name__.removeprefix("case_"))
def test_promtool(case: Callable[[], PromtoolCase], promtool_test: PromtoolRunner) -> None:
    promtool_test(case())


def test_rule_labels_match_what_the_engine_posts() -> None:
    """Same identity as the engine's own posts, so Alertmanager holds one alert, not two."""
    from fanzwatch.anomaly.engine.alertmanager import SERVICE
    from fanzwatch.anomaly.engine.meta import ENGINE_BLIND, ENGINE_STOPPED, SERIES_STALE

    names = {rule.name for rule in ANOMALY_ALERTS}
    assert {ENGINE_BLIND, SERIES_STALE, ENGINE_STOPPED} <= names
    assert {rule.service for rule in ANOMALY_ALERTS} == {SERVICE}

"""``promtool test rules`` for the synthetic probes: ProbeFailing, the 14-day TLS alert, the probe SLO.

Probes are sampled every 15 s, as blackbox_exporter is scraped in production; promtool's
clock starts at 0, so ``time()`` at an evaluation is its offset in seconds.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from .conftest import RUNBOOKS, PromtoolCase, PromtoolRunner, alert

PROBE_SLO = "slo-fanz-platform-probe-availability"
_IDS = {
    "sloth_id": "fanz-platform-probe-availability",
    "sloth_service": "fanz-platform",
    "sloth_slo": "probe-availability",
}


def _probe(probe: str, instance: str, values: str, *, metric: str = "probe_success", **labels: str) -> dict[str, str]:
    module = {"platform-page": "http_platform_page", "processor-tcp": "tcp_connect", "url": "https_2xx"}
    job = f"blackbox-{module.get(probe, 'http_2xx')}"
    extra = "".join(f',{k}="{v}"' for k, v in labels.items())
    return {"series": f'{metric}{{job="{job}",instance="{instance}",probe="{probe}"{extra}}}', "values": values}


def _failing(probe: str, instance: str, severity: str, service: str, **labels: str) -> dict[str, Any]:
    module = {"platform-page": "http_platform_page", "processor-tcp": "tcp_connect", "url": "https_2xx"}
    return alert(
        "ProbeFailing",
        severity=severity,
        service=service,
        job=f"blackbox-{module.get(probe, 'http_2xx')}",
        instance=instance,
        probe=probe,
        **labels,
        summary=f"Probe {probe} of {instance} is failing",
        description=f"blackbox_exporter's {probe} probe of {instance} has failed for over 2 minutes (wrong status "
        "or body, refused connection, timeout or bad certificate): users see this outage from outside.",
    )


PAGE = "http://10.0.0.1:8300/p/fanz-1/"


def case_probe_failing_reaches_the_owner_of_each_probe() -> PromtoolCase:
    failing = "1x8 0x40"  # fails from 2m on
    return PromtoolCase(
        {
            "evaluation_interval": "15s",
            "tests": [
                {
                    "interval": "15s",
                    "input_series": [
                        _probe("platform-page", PAGE, failing, platform="fanz-1"),
                        _probe("platform-page", "http://10.0.0.1:8300/p/fanz-2/", "1x48", platform="fanz-2"),
                        _probe("platform-ready", "http://10.0.0.1:8300/health/ready", failing),
                        _probe("processor-tcp", "10.0.0.3:8310", failing),
                        _probe("fanzwatch-live", "http://10.0.0.5:8900/health/live", failing),
                        _probe("url", "https://fanz.test/", failing),
                        _probe("dns", "10.0.0.53:53", failing),
                        # a minute of failed probes is a blip, not an outage
                        _probe("processor-health", "http://10.0.0.3:8310/health", "1x8 0x4 1x36"),
                    ],
                    "alert_rule_test": [
                        {"eval_time": "3m", "alertname": "ProbeFailing", "exp_alerts": []},
                        {
                            "eval_time": "5m",
                            "alertname": "ProbeFailing",
                            "exp_alerts": [
                                _failing("platform-page", PAGE, "critical", "fanz-platform", platform="fanz-1"),
                                _failing(
                                    "platform-ready", "http://10.0.0.1:8300/health/ready", "critical", "fanz-platform"
                                ),
                                _failing("processor-tcp", "10.0.0.3:8310", "critical", "payments"),
                                _failing("fanzwatch-live", "http://10.0.0.5:8900/health/live", "warning", "monitoring"),
                                _failing("url", "https://fanz.test/", "warning", "fanz-platform"),
                                _failing("dns", "10.0.0.53:53", "warning", "infrastructure"),
                            ],
                        },
                    ],
                }
            ],
        },
        rule_files=("probes",),
    )


def _expiring(instance: str, value: str) -> dict[str, Any]:
    return alert(
        "TLSCertificateExpiringSoon",
        severity="warning",
        service="infrastructure",
        job="blackbox-https_2xx",
        instance=instance,
        probe="url",
        summary=f"The TLS certificate of {instance} expires in {value}",
        description=f"The first certificate of the chain {instance} serves expires in under 14 days ({value} left). "
        "Renew it and check the renewal job that should have.",
    )


def case_tls_certificate_alerts_14_days_before_it_expires() -> PromtoolCase:
    day = 86400
    return PromtoolCase(
        {
            "evaluation_interval": "1m",
            "tests": [
                {
                    "interval": "1m",
                    "input_series": [
                        # 13 days left: warns (after the 10-minute hold)
                        _probe(
                            "url", "https://a.fanz.test/", f"{13 * day}x20", metric="probe_ssl_earliest_cert_expiry"
                        ),
                        # 14 days and an hour left: not yet
                        _probe(
                            "url",
                            "https://b.fanz.test/",
                            f"{14 * day + 3600}x20",
                            metric="probe_ssl_earliest_cert_expiry",
                        ),
                        # 60 days left
                        _probe(
                            "url", "https://c.fanz.test/", f"{60 * day}x20", metric="probe_ssl_earliest_cert_expiry"
                        ),
                    ],
                    "alert_rule_test": [
                        {"eval_time": "9m", "alertname": "TLSCertificateExpiringSoon", "exp_alerts": []},
                        {
                            "eval_time": "10m",
                            "alertname": "TLSCertificateExpiringSoon",
                            "exp_alerts": [_expiring("https://a.fanz.test/", "12d 23h 50m 0s")],
                        },
                    ],
                }
            ],
        },
        rule_files=("probes",),
    )


def _page(platform: str, values: str) -> dict[str, str]:
    return _probe("platform-page", f"http://10.0.0.1:8300/p/{platform}/", values, platform=platform)


def case_probe_availability_slo_burns_on_an_outage_not_on_one_failed_probe() -> PromtoolCase:
    """fanz-1's landing page fails from 60m on; fanz-3 fails one probe at 30m; fanz-2 never.

    The readiness probe fails all along but is not a landing page: the SLO does not count it.
    """
    return PromtoolCase(
        {
            "evaluation_interval": "15s",
            "tests": [
                {
                    "interval": "15s",
                    "input_series": [
                        _page("fanz-1", "1x239 0x60"),
                        _page("fanz-2", "1x300"),
                        _page("fanz-3", "1x119 0 1x180"),
                        _probe("platform-ready", "http://10.0.0.1:8300/health/ready", "0x300"),
                    ],
                    "promql_expr_test": [
                        {
                            "eval_time": "70m",
                            "expr": f'slo:sli_error:ratio_rate5m{{sloth_id="{_IDS["sloth_id"]}"}}',
                            "exp_samples": [
                                {"labels": _labels("slo:sli_error:ratio_rate5m", "fanz-1", "5m"), "value": 1},
                                {"labels": _labels("slo:sli_error:ratio_rate5m", "fanz-2", "5m"), "value": 0},
                                {"labels": _labels("slo:sli_error:ratio_rate5m", "fanz-3", "5m"), "value": 0},
                            ],
                        },
                        {
                            # 41 of the last hour's 241 probes failed (60m to 70m; ranges include both ends)
                            "eval_time": "70m",
                            "expr": f'slo:sli_error:ratio_rate1h{{sloth_id="{_IDS["sloth_id"]}", platform="fanz-1"}}',
                            "exp_samples": [
                                {"labels": _labels("slo:sli_error:ratio_rate1h", "fanz-1", "1h"), "value": 41 / 241}
                            ],
                        },
                    ],
                    "alert_rule_test": [
                        {"eval_time": "45m", "alertname": "SLOErrorBudgetBurnFast", "exp_alerts": []},
                        {"eval_time": "70m", "alertname": "SLOErrorBudgetBurnFast", "exp_alerts": [_fast("fanz-1")]},
                        {"eval_time": "70m", "alertname": "SLOErrorBudgetBurnSlow", "exp_alerts": []},
                    ],
                }
            ],
        },
        rule_files=(PROBE_SLO,),
    )


def _labels(name: str, platform: str, window: str) -> str:
    ids = ", ".join(f'{k}="{v}"' for k, v in _IDS.items())
    return f'{name}{{platform="{platform}", {ids}, sloth_window="{window}"}}'


def _fast(platform: str) -> dict[str, Any]:
    return {
        "exp_labels": {
            "severity": "critical",
            "priority": "P0",
            "service": "fanz-platform",
            "burn_tier": "fast",
            "sloth_severity": "page",
            **_IDS,
            "platform": platform,
        },
        "exp_annotations": {
            "summary": f"SLO probe-availability on {platform} is burning its error budget at 14.4x the "
            "sustainable rate",
            "description": f"17.01% of the events of SLO probe-availability on {platform} were bad over the last 1h "
            "(and still over 5m); the objective 99.9 % over 30 days allows 0.1 %. At this pace the budget lasts "
            "2.1 days.",
            "runbook_url": f"{RUNBOOKS}/SLOErrorBudgetBurnFast.md",
        },
    }


def _journey(platform: str, location: str, values: str) -> dict[str, str]:
    return {
        "series": f'fanz_journey_success{{job="journey-prober",instance="10.0.1.{len(location)}:8340",'
        f'journey="money",platform="{platform}",location="{location}"}}',
        "values": values,
    }


def _journey_failing(platform: str, locations: int) -> dict[str, Any]:
    return alert(
        "JourneyFailing",
        severity="critical",
        service="payments",
        journey="money",
        platform=platform,
        summary=f"The money journey fails on {platform} from {locations} probe locations",
        description=f"The journey prober's last money journey (sign in, subscribe, tip, unlock PPV) failed on "
        f"{platform} from {locations} locations for over a minute: a quorum of 2 locations (or all of them, if "
        "fewer report) agrees fans cannot pay. fanz_journey_step_failures_total says which step.",
    )


def case_journey_failing_needs_a_quorum_of_locations() -> PromtoolCase:
    """Three locations probe fanz-1 and fanz-2; only one probes fanz-3."""
    ok, failing = "1x20", "1x2 0x18"  # fails from 90s on, fires from 2m30s
    return PromtoolCase(
        {
            "evaluation_interval": "30s",
            "tests": [
                {
                    "interval": "30s",
                    "input_series": [
                        # fanz-1: one location of three fails (its own network, most likely): no page
                        _journey("fanz-1", "eu-west", failing),
                        _journey("fanz-1", "us-east", ok),
                        _journey("fanz-1", "ap-south", ok),
                        # fanz-2: two of three fail: the quorum pages
                        _journey("fanz-2", "eu-west", failing),
                        _journey("fanz-2", "us-east", failing),
                        _journey("fanz-2", "ap-south", ok),
                        # fanz-3: its only location fails: the quorum is capped at the locations reporting
                        _journey("fanz-3", "eu-west", failing),
                    ],
                    "alert_rule_test": [
                        {"eval_time": "2m", "alertname": "JourneyFailing", "exp_alerts": []},
                        {
                            "eval_time": "4m",
                            "alertname": "JourneyFailing",
                            "exp_alerts": [_journey_failing("fanz-2", 2), _journey_failing("fanz-3", 1)],
                        },
                    ],
                }
            ],
        },
        rule_files=("probes",),
    )


def _not_running(job: str, count: str) -> dict[str, Any]:
    return alert(
        "ProbesNotRunning",
        severity="warning",
        service="monitoring",
        job=job,
        summary=f"{count} synthetic probes of {job} are not running",
        description=f"Prometheus could not get a result from blackbox_exporter for {count} probes of {job} for "
        "over 2 minutes (the exporter is down, unreachable or timing out): those probes report nothing, so "
        "ProbeFailing cannot fire for them and the probe-availability SLO is blind.",
    )


def case_a_dead_exporter_is_not_every_probe_passing() -> PromtoolCase:
    """The exporter dies at 1m: ``up`` is 0 and ``probe_success`` has no sample after it."""
    down = "1x4 0x40"
    return PromtoolCase(
        {
            "evaluation_interval": "15s",
            "tests": [
                {
                    "interval": "15s",
                    "input_series": [
                        _probe("platform-page", PAGE, down, metric="up", platform="fanz-1"),
                        _probe("platform-page", "http://10.0.0.1:8300/p/fanz-2/", down, metric="up", platform="fanz-2"),
                        _probe("processor-tcp", "10.0.0.3:8310", down, metric="up"),
                        _probe("platform-page", PAGE, "1x4", platform="fanz-1"),
                        # another module's probes still answer: one alert per job that gets nothing
                        _probe("platform-ready", "http://10.0.0.1:8300/health/ready", "1x44", metric="up"),
                        _probe("platform-ready", "http://10.0.0.1:8300/health/ready", "1x44"),
                    ],
                    "alert_rule_test": [
                        {"eval_time": "2m30s", "alertname": "ProbesNotRunning", "exp_alerts": []},
                        {"eval_time": "5m", "alertname": "ProbeFailing", "exp_alerts": []},
                        {
                            "eval_time": "5m",
                            "alertname": "ProbesNotRunning",
                            "exp_alerts": [
                                _not_running("blackbox-http_platform_page", "2"),
                                _not_running("blackbox-tcp_connect", "1"),
                            ],
                        },
                    ],
                }
            ],
        },
        rule_files=("probes",),
    )


JOURNEY_SLO = "slo-payments-journey-availability"
_JOURNEY_IDS = {
    "sloth_id": "payments-journey-availability",
    "sloth_service": "payments",
    "sloth_slo": "journey-availability",
}


def _journey_ratio(window: str, platform: str, value: float) -> dict[str, Any]:
    ids = ", ".join(f'{k}="{v}"' for k, v in _JOURNEY_IDS.items())
    return {
        "labels": f'slo:sli_error:ratio_rate{window}{{platform="{platform}", {ids}, sloth_window="{window}"}}',
        "value": value,
    }


def case_journey_slo_counts_the_time_a_quorum_of_locations_failed() -> PromtoolCase:
    """Three locations walk fanz-1 and fanz-2, one walks fanz-3; the gauge is scraped every 15 s.

    fanz-1: one location fails all along (no quorum): the SLI stays at 0 and nothing pages.
    fanz-2: two of three fail from 60m: the quorum fails, the SLI burns and the fast tier pages.
    fanz-3: its only location fails one scrape at 30m: one bad evaluation of the hour, no page.
    """
    ok = "1x400"
    return PromtoolCase(
        {
            "evaluation_interval": "15s",
            "tests": [
                {
                    "interval": "15s",
                    "input_series": [
                        _journey("fanz-1", "eu-west", "0x400"),
                        _journey("fanz-1", "us-east", ok),
                        _journey("fanz-1", "ap-south", ok),
                        _journey("fanz-2", "eu-west", "1x239 0x160"),
                        _journey("fanz-2", "us-east", "1x239 0x160"),
                        _journey("fanz-2", "ap-south", ok),
                        _journey("fanz-3", "eu-west", "1x119 0 1x280"),
                    ],
                    "promql_expr_test": [
                        {
                            "eval_time": "70m",
                            "expr": f'slo:sli_error:ratio_rate1h{{sloth_id="{_JOURNEY_IDS["sloth_id"]}"}}',
                            # Evaluations of the last hour (ranges include both ends: 241) in which
                            # the quorum failed: fanz-2 from 60m to 70m (41), fanz-3 once.
                            "exp_samples": [
                                _journey_ratio("1h", "fanz-1", 0),
                                _journey_ratio("1h", "fanz-2", 41 / 241),
                                _journey_ratio("1h", "fanz-3", 1 / 241),
                            ],
                        },
                    ],
                    "alert_rule_test": [
                        {"eval_time": "45m", "alertname": "SLOErrorBudgetBurnFast", "exp_alerts": []},
                        {
                            "eval_time": "70m",
                            "alertname": "SLOErrorBudgetBurnFast",
                            "exp_alerts": [
                                {
                                    "exp_labels": {
                                        "severity": "critical",
                                        "priority": "P0",
                                        "service": "payments",
                                        "burn_tier": "fast",
                                        "sloth_severity": "page",
                                        **_JOURNEY_IDS,
                                        "platform": "fanz-2",
                                    },
                                    "exp_annotations": {
                                        "summary": "SLO journey-availability on fanz-2 is burning its error budget "
                                        "at 14.4x the sustainable rate",
                                        "description": "17.01% of the events of SLO journey-availability on fanz-2 "
                                        "were bad over the last 1h (and still over 5m); the objective 99.5 % over 30 "
                                        "days allows 0.5 %. At this pace the budget lasts 2.1 days.",
                                        "runbook_url": f"{RUNBOOKS}/SLOErrorBudgetBurnFast.md",
                                    },
                                }
                            ],
                        },
                    ],
                }
            ],
        },
        rule_files=("probes", JOURNEY_SLO),
    )


CASES = (
    case_journey_slo_counts_the_time_a_quorum_of_locations_failed,
    case_probe_failing_reaches_the_owner_of_each_probe,
    case_a_dead_exporter_is_not_every_probe_passing,
    case_journey_failing_needs_a_quorum_of_locations,
    case_tls_certificate_alerts_14_days_before_it_expires,
    case_probe_availability_slo_burns_on_an_outage_not_on_one_failed_probe,
)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.__name__.removeprefix("case_"))
def test_promtool(case: Callable[[], PromtoolCase], promtool_test: PromtoolRunner) -> None:
    promtool_test(case())

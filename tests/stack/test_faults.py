"""Every injectable fault fires what it is meant to, within its stated bound, on the real stack.

The run's shared demo stack (``demo_stack``, tests/stack/conftest.py: real Prometheus,
Alertmanager, server, platform, processor and simulator at the demo's pacing, 1 s scrape and
60 s rule windows, after a backfill of 2 days of metrics and 1 of platform data, so the
anomaly engine has history to judge by). Each fault is injected, its alerts
(``FAULTS[kind].alerts``, read from Prometheus) must fire on the largest platform within
``within_seconds``, then it is healed and they must resolve. The traffic spike has no
alert: the request rate must leave the anomaly engine's expected band within its bound.

Two platforms at 24 requests/s together at their peaks: the test runs at whatever hour it
is, and fanz-1 (57 % of the traffic) has more than the volume guards need at any hour.
"""

from __future__ import annotations

import time

import pytest

from _waiting import wait_until
from fanzwatch.demo.incidents import FAULTS, IncidentKind

from .conftest import DEMO_PLATFORM as PLATFORM
from .conftest import RESOLVE_SECONDS, DemoStack

pytestmark = [pytest.mark.prometheus, pytest.mark.slow, pytest.mark.timeout(900)]


def test_the_backfilled_history_is_in_prometheus_and_continues_live(demo_stack: DemoStack) -> None:
    assert any("metrics history: 2 days for 2 platforms" in e for e in demo_stack.events), demo_stack.events
    # Two days of the recorded request rate, every 150 s (over 1,100 points), then live ones.
    points = demo_stack.value(f'count_over_time(platform:http_server_requests:rate5m{{platform="{PLATFORM}"}}[3d])')
    assert points is not None and points > 1100
    # Yesterday's traffic at this hour, from the history: the live rate (once the simulator
    # has run a minute) is of the same size, so the live series continue the history.
    yesterday = demo_stack.value(
        f'sum(rate(http_server_request_duration_seconds_count{{platform="{PLATFORM}"}}[10m] offset 1d))'
    )
    assert yesterday is not None and yesterday > 1.0
    live_rate = f'sum(rate(http_server_request_duration_seconds_count{{platform="{PLATFORM}"}}[1m]))'
    wait_until(
        lambda: 0.6 < (demo_stack.value(live_rate) or 0) / yesterday < 1.6,
        timeout=120,
        message=f"the live request rate of {PLATFORM} near yesterday's {yesterday:.2f}/s",
        interval=2.0,
    )


@pytest.mark.parametrize(
    "kind",
    [
        IncidentKind.ERROR_BURST,
        IncidentKind.REGISTRATION_BREAKAGE,
        IncidentKind.LATENCY_REGRESSION,
        IncidentKind.PAYMENT_OUTAGE,
    ],
)
def test_the_fault_fires_its_alert_and_healing_resolves_it(demo_stack: DemoStack, kind: IncidentKind) -> None:
    effect = FAULTS[kind]
    for alert in effect.alerts:
        demo_stack.wait_quiet(alert)
    if kind is IncidentKind.PAYMENT_OUTAGE:  # the outage is the primary's: it shows only while the platform uses it
        active = demo_stack.http.get(f"{demo_stack.platform_url}/admin/payment-processor").json()
        assert active["active"] == "primary", f"the platform was failed over before the outage: {active}"
    fired: dict[str, float] = {}
    with demo_stack.fault(kind) as injected:
        for alert in effect.alerts:  # each within the bound from the injection
            demo_stack.wait_firing(alert, within=max(1.0, effect.within_seconds - (time.monotonic() - injected)))
            fired[alert] = time.monotonic() - injected
        if kind is IncidentKind.PAYMENT_OUTAGE:  # the journey probes' availability SLI goes down with them
            slo = f'sloth_slo="journey-availability", platform="{PLATFORM}"'
            journey_sli = f'max({{__name__=~"slo:sli_error:ratio_rate.+", {slo}}})'
            wait_until(
                lambda: demo_stack.value(journey_sli),
                timeout=120,
                message=f"the journey-availability SLI of {PLATFORM} shows the failing journeys",
                until=lambda bad: bad is not None and bad > 0,
            )
    healed = time.monotonic()
    for alert in effect.alerts:
        demo_stack.wait_quiet(alert, within=RESOLVE_SECONDS)
    resolved = time.monotonic() - healed
    said = ", ".join(f"{a} fired after {s:.1f} s" for a, s in fired.items())
    print(f"\n{kind.value}: {said}; resolved {resolved:.1f} s after healing")


def test_a_traffic_spike_leaves_the_request_rate_band(demo_stack: DemoStack) -> None:
    """The spike takes the request rate above the anomaly engine's expected band (what
    FanzDash draws) within the bound. Whether the engine then confirms an anomaly depends on
    the spike the machine can serve: the default detector needs about five minutes of a
    delivered 5x (a 2x, all a loaded 2-core machine serves here, stays a band breach)."""
    effect = FAULTS[IncidentKind.TRAFFIC_SPIKE]
    (signal,) = effect.anomalies
    upper = f'fanz_anomaly_expected_upper{{metric="{signal}",platform="{PLATFORM}"}}'
    rate = f'sum(rate(http_server_request_duration_seconds_count{{platform="{PLATFORM}"}}[5m]))'
    band = wait_until(lambda: demo_stack.value(upper), timeout=300, message=f"the {signal} band of {PLATFORM}")
    # A precondition, not the behaviour under test: the rate may sit at the band's top a while.
    before = wait_until(
        lambda: demo_stack.value(rate) or 0.0,
        until=lambda r: r < (demo_stack.value(upper) or band),
        timeout=180,
        message=f"{PLATFORM}'s request rate inside its band before the spike",
        interval=2.0,
    )
    with demo_stack.fault(IncidentKind.TRAFFIC_SPIKE) as injected:
        wait_until(
            lambda: (demo_stack.value(rate) or 0.0) > 1.3 * (demo_stack.value(upper) or float("inf")),
            timeout=effect.within_seconds,
            message=f"{PLATFORM}'s request rate 30 % above its expected band within {effect.within_seconds:g} s",
            interval=2.0,
        )
        after = demo_stack.value(rate)
    print(f"\ntraffic_spike: request rate {before:.1f}/s -> {after:.1f}/s, above the band "
          f"after {time.monotonic() - injected:.0f} s")  # fmt: skip

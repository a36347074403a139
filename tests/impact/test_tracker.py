"""Pricing incidents end to end on a real store: figures stored, money-driven priority, ordering."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import pytest
from prometheus_client import CollectorRegistry

from alerting._helpers import T0, Harness, am_alert, am_payload, api_client, base_settings, post_alerts
from fanzwatch.alerting import AlertingService
from fanzwatch.anomaly.forecast import forecast
from fanzwatch.core.clock import FrozenClock
from fanzwatch.core.impact import money_sentence
from fanzwatch.impact import ImpactTracker, IncidentPricer, RevenueEstimator
from fanzwatch.provisioning import check_expression
from fanzwatch.settings.impact import ImpactSettings

from ._history import DAY, STEP, FakeRevenuePrometheus, revenue_curve

T = np.arange(T0.timestamp() - 15 * DAY, T0.timestamp() + 4 * 3600 + STEP / 2, STEP)


def prometheus(*, revenue_drop: float = 0.0, failed_share: float = 0.0) -> FakeRevenuePrometheus:
    """fanz-1: tips and subscriptions in USD and EUR; from T0 on, ``revenue_drop`` of tips gone
    and ``failed_share`` of 40 attempts a minute failing."""
    tips = revenue_curve(T, base=60.0, seed=1)
    tips[T0.timestamp() < T] *= 1 - revenue_drop
    attempts = np.full(T.size, 40.0)
    failed = np.where(T0.timestamp() < T, 40.0 * failed_share, 0.0)
    return FakeRevenuePrometheus(
        T,
        revenue={
            ("fanz-1", "tip", "USD"): tips,
            ("fanz-1", "subscription", "EUR"): revenue_curve(T, base=20.0, seed=2),
        },
        payments={("fanz-1", "completed"): attempts - failed, ("fanz-1", "failed"): failed},
        failed_value={"USD": failed * 5.0},
    )


def tracker(h: Harness, svc: AlertingService, prom: FakeRevenuePrometheus) -> ImpactTracker:
    settings = ImpactSettings(history_days=14, settle_seconds=600, exchange_rates={"EUR": Decimal("1.10")})
    pricer = IncidentPricer(settings, prom, RevenueEstimator(prom, forecast, settings), reporting_currency="USD")
    return ImpactTracker(
        settings,
        pricer,
        svc.impact_ledger,
        CollectorRegistry(),
        h.clock,
        payment_success_objective=0.995,
        platforms=("fanz-1", "fanz-2"),
    )


async def fire(svc: AlertingService, **alert: Any) -> None:
    async with api_client(svc) as c:
        assert (await post_alerts(c, am_payload(am_alert(**alert)))).status_code == 202
    await svc.tick()


async def get(svc: AlertingService, incident_id: int) -> dict[str, Any]:
    found = await svc.queries.get(incident_id)
    assert found is not None
    return found


def money_entries(incident: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for e in incident["timeline"] if e["kind"] == "priority" and (e["data"] or {}).get("cause") == "money"]


async def test_a_warning_alert_during_a_revenue_drop_becomes_p0(any_store: Harness) -> None:
    h = any_store
    svc = h.service(base_settings())
    await fire(svc, alertname="HighErrorRate", severity="warning", service="payments-api")
    assert (await get(svc, 1))["priority"] == "P1"
    h.clock.advance(timedelta(minutes=10))
    prom = prometheus(revenue_drop=0.9)
    t = tracker(h, svc, prom)
    [impact] = await t.tick()
    incident = await get(svc, 1)
    assert incident["priority"] == "P0"
    [entry] = money_entries(incident)
    assert entry["actor"] == "fanzwatch-impact"
    assert entry["message"].startswith("Priority raised P1 → P0 by money: revenue on fanz-1 (tip, USD)")
    assert "below its expected band" in entry["message"]
    assert incident["escalation"]["priority"] == "P0"  # P0's policy from now on
    stored = incident["impact"]
    removed = (
        float(prometheus().revenue[("fanz-1", "tip", "USD")][(T0.timestamp() < T) & (T0.timestamp() + 600 >= T)].sum())
        * 0.9
    )
    assert stored["revenue"]["at_risk_lower"] <= removed <= stored["revenue"]["at_risk_upper"]
    assert incident["revenue_at_risk"] == pytest.approx(impact.at_risk, abs=0.01)
    assert stored["timings"]["time_to_detect"] == 0.0
    assert stored["timings"]["time_to_acknowledge"] is None
    assert stored["money_effect"] and stored["final"] is False
    chart = stored["series"]
    assert len(chart["t"]) == 10  # one point a minute
    assert all(a < lo for a, lo in zip(chart["actual"], chart["lower"], strict=True))  # below the band
    # A second round finds it P0 already: no second entry; the figures move on.
    h.clock.advance(timedelta(minutes=1))
    await t.tick()
    again = await get(svc, 1)
    assert len(money_entries(again)) == 1
    assert again["impact"]["computed_at"] > stored["computed_at"]
    assert t.metrics.at_risk.labels("fanz-1", "P0", "expected")._value.get() == pytest.approx(
        again["revenue_at_risk"], abs=0.01
    )


async def test_a_critical_alert_with_no_money_effect_stays_as_its_severity_says(any_store: Harness) -> None:
    h = any_store
    svc = h.service(base_settings())
    await fire(svc, alertname="HighLatency", severity="critical")
    await fire(svc, alertname="DiskFilling", severity="warning", platform="fanz-1", instance="db:1")
    h.clock.advance(timedelta(minutes=10))
    await tracker(h, svc, prometheus()).tick()
    critical, warning = await get(svc, 1), await get(svc, 2)
    assert (critical["priority"], warning["priority"]) == ("P0", "P1")
    assert money_entries(critical) == money_entries(warning) == []
    for incident in (critical, warning):
        assert incident["impact"]["money_effect"] == []
        r = incident["impact"]["revenue"]
        assert r["at_risk_lower"] <= 0 <= r["at_risk_upper"]


async def test_payment_success_below_its_slo_raises_to_p0(any_store: Harness) -> None:
    h = any_store
    svc = h.service(base_settings())
    await fire(svc, alertname="HighErrorRate", severity="info")
    h.clock.advance(timedelta(minutes=6))
    await tracker(h, svc, prometheus(failed_share=0.25)).tick()
    incident = await get(svc, 1)
    assert incident["priority"] == "P0"
    [entry] = money_entries(incident)
    assert (
        "payment success on fanz-1 75.0% over the last 5 min (200 attempts): the checkout SLO's budget (99.5%) "
        "burning 50× too fast" in (entry["message"])
    )
    assert incident["impact"]["payments"] == {
        "attempts": 240,
        "failed": 60,
        "failed_value": {"USD": 300.0},
        "failed_value_reporting": 300.0,
    }


async def test_priority_is_never_lowered_when_the_money_comes_back(harness: Harness) -> None:
    h = harness
    svc = h.service(base_settings())
    await fire(svc, alertname="HighErrorRate", severity="warning")
    h.clock.advance(timedelta(minutes=10))
    await tracker(h, svc, prometheus(revenue_drop=1.0)).tick()
    h.clock.advance(timedelta(minutes=10))
    await tracker(h, svc, prometheus()).tick()  # revenue as forecast again
    incident = await get(svc, 1)
    assert incident["priority"] == "P0"
    assert incident["impact"]["money_effect"] == []


async def test_lost_is_final_after_the_settling_time_and_never_overwritten(any_store: Harness) -> None:
    h = any_store
    svc = h.service(base_settings())
    await fire(svc, alertname="HighErrorRate", severity="warning")
    h.clock.advance(timedelta(minutes=30))
    await fire(svc, alertname="HighErrorRate", severity="warning", status="resolved", ends_at=h.clock.now())
    assert (await get(svc, 1))["status"] == "resolved"
    prom = prometheus(revenue_drop=1.0)
    t = tracker(h, svc, prom)
    h.clock.advance(timedelta(minutes=5))  # still settling
    [settling] = await t.tick()
    assert not settling.final
    h.clock.advance(timedelta(minutes=6))
    [final] = await t.tick()
    assert final.final
    incident = await get(svc, 1)
    assert incident["impact_final"] is True
    lost = incident["impact"]["lost"]
    assert incident["revenue_at_risk"] == pytest.approx(lost["lost"], abs=0.01)
    assert lost["lost_lower"] <= lost["lost"] <= lost["lost_upper"]
    assert incident["impact"]["timings"]["time_to_resolve"] == 1800.0
    # Final: the next round no longer prices it, and no write changes it.
    h.clock.advance(timedelta(minutes=1))
    assert await t.tick() == []
    assert not await svc.impact_ledger.save_impact(
        1, {"stale": True}, at_risk=0.0, computed_at=h.clock.now(), final=False
    )
    assert (await get(svc, 1))["impact"] == incident["impact"]


async def test_older_figures_never_overwrite_newer_ones(any_store: Harness) -> None:
    svc = any_store.service(base_settings())
    await fire(svc)
    ledger, now = svc.impact_ledger, any_store.clock.now()
    assert await ledger.save_impact(1, {"n": 2}, at_risk=20.0, computed_at=now + timedelta(minutes=2), final=False)
    assert not await ledger.save_impact(1, {"n": 1}, at_risk=10.0, computed_at=now + timedelta(minutes=1), final=False)
    assert (await get(svc, 1))["impact"] == {"n": 2}


async def test_lists_put_the_most_money_at_risk_first(harness: Harness) -> None:
    svc = harness.service(base_settings(correlation_window="0s"))  # three incidents
    for platform in ("fanz-1", "fanz-2"):
        await fire(svc, alertname="HighErrorRate", platform=platform)
    await fire(svc, alertname="Unpriced", platform="fanz-2")
    now = harness.clock.now()
    await svc.impact_ledger.save_impact(1, {}, at_risk=5.0, computed_at=now, final=False)
    await svc.impact_ledger.save_impact(2, {}, at_risk=500.0, computed_at=now, final=False)
    async with api_client(svc) as c:
        by_money = (await c.get("/api/v1/incidents")).json()
        newest = (await c.get("/api/v1/incidents", params={"order": "newest"})).json()
        bad = await c.get("/api/v1/incidents", params={"order": "loudest"})
    # open and unpriced first (unknown is not zero), then the most money at risk
    assert [(i["id"], i["revenue_at_risk"]) for i in by_money["incidents"]] == [(3, None), (2, 500.0), (1, 5.0)]
    assert [i["id"] for i in newest["incidents"]] == [3, 2, 1]
    assert bad.status_code == 422


async def test_every_query_sent_is_sound_promql_on_catalogued_metrics(harness: Harness) -> None:
    svc = harness.service(base_settings())
    await fire(svc, alertname="HighErrorRate", severity="warning")
    harness.clock.advance(timedelta(minutes=10))
    prom = prometheus(revenue_drop=0.5)
    await tracker(harness, svc, prom).tick()
    assert len(set(prom.queries)) == 3  # revenue, payment attempts by status, failed value
    for expr in set(prom.queries):
        assert check_expression(expr) == [], expr


class SlowClock(FrozenClock):
    """Each look at the monotonic clock finds 15 s gone (pricing that takes long)."""

    def monotonic(self) -> float:
        self._mono += 15.0
        return self._mono


async def test_a_round_stops_at_its_budget_and_the_next_starts_with_the_unpriced(harness: Harness) -> None:
    svc = harness.service(base_settings(correlation_window="0s"))
    await fire(svc, alertname="HighErrorRate", platform="fanz-1")
    await fire(svc, alertname="HighLatency", platform="fanz-1")
    harness.clock.advance(timedelta(minutes=5))
    settings = ImpactSettings(history_days=14, round_budget_seconds=20)
    prom = prometheus()
    t = ImpactTracker(
        settings,
        IncidentPricer(settings, prom, RevenueEstimator(prom, forecast, settings)),
        svc.impact_ledger,
        CollectorRegistry(),
        SlowClock(harness.clock.now()),
        payment_success_objective=0.995,
    )
    [first] = await t.tick()
    [second] = await t.tick()
    assert {first.incident_id, second.incident_id} == {1, 2}
    assert t.metrics.rounds.labels("partial")._value.get() == 2  # cut short, nothing failed
    assert t.metrics.rounds.labels("failed")._value.get() == 0


@pytest.mark.parametrize("failed_share", [0.005, 0.01, 0.03])
async def test_a_failure_or_two_in_hundreds_of_attempts_is_noise_and_keeps_the_priority(
    harness: Harness, failed_share: float
) -> None:
    svc = harness.service(base_settings())
    await fire(svc, alertname="DiskFilling", severity="warning")
    harness.clock.advance(timedelta(minutes=6))
    await tracker(harness, svc, prometheus(failed_share=failed_share)).tick()
    incident = await get(svc, 1)
    assert incident["priority"] == "P1"
    assert money_entries(incident) == []


async def test_without_history_to_forecast_from_nothing_is_priced_and_it_says_why(harness: Harness) -> None:
    """A fresh install: 30 minutes of revenue before a total outage."""
    svc = harness.service(base_settings())
    await fire(svc, alertname="HighErrorRate", severity="warning")
    harness.clock.advance(timedelta(minutes=20))
    prom = prometheus(revenue_drop=1.0)
    young = T0.timestamp() - 30 * 60 >= T
    for values in prom.revenue.values():
        values[young] = np.nan  # no samples before that
    t = tracker(harness, svc, prom)
    [impact] = await t.tick()
    assert impact.at_risk is None
    incident = await get(svc, 1)
    assert incident["revenue_at_risk"] is None
    assert incident["impact"]["revenue"]["at_risk"] is None
    reasons = {u["reason"] for u in incident["impact"]["unforecast_streams"]}
    assert len(reasons) == 1
    assert next(iter(reasons)).startswith("a forecast reaches at most half its history ahead")
    assert money_sentence(incident["impact"]) == (f"Revenue at risk: not priced (no forecast: {next(iter(reasons))})")
    assert incident["priority"] == "P1"  # no figure, no money-driven raise
    assert t.metrics.at_risk.labels("fanz-1", "P1", "expected")._value.get() == 0.0


async def test_a_short_history_is_forecast_as_far_as_it_allows(harness: Harness) -> None:
    """90 minutes of history cover a 20-minute window (not the whole hour the cache would like)."""
    svc = harness.service(base_settings())
    await fire(svc, alertname="HighErrorRate", severity="warning")
    harness.clock.advance(timedelta(minutes=20))
    prom = prometheus(revenue_drop=1.0)
    for values in prom.revenue.values():
        values[T0.timestamp() - 90 * 60 >= T] = np.nan
    [impact] = await tracker(harness, svc, prom).tick()
    assert impact.at_risk is not None and impact.at_risk > 0


async def test_overlapping_incidents_count_a_platforms_money_once(harness: Harness) -> None:
    svc = harness.service(base_settings(correlation_window="0s"))
    await fire(svc, alertname="HighErrorRate", severity="warning")
    await fire(svc, alertname="DiskFilling", severity="critical", instance="db:1")
    harness.clock.advance(timedelta(minutes=10))
    t = tracker(harness, svc, prometheus(revenue_drop=0.9))
    impacts = await t.tick()
    assert len(impacts) == 2
    largest = max(i.at_risk or 0.0 for i in impacts)
    gauge = t.metrics.at_risk
    assert gauge.labels("fanz-1", "P0", "expected")._value.get() == pytest.approx(largest, abs=0.01)
    assert gauge.labels("fanz-1", "P1", "expected")._value.get() == 0.0


async def test_a_reopened_incident_is_priced_again(harness: Harness) -> None:
    svc = harness.service(base_settings(reopen_window="1h"))
    await fire(svc, alertname="HighErrorRate", severity="warning")
    harness.clock.advance(timedelta(minutes=10))
    await fire(svc, alertname="HighErrorRate", severity="warning", status="resolved", ends_at=harness.clock.now())
    settings = ImpactSettings(history_days=14, settle_seconds=0)
    prom = prometheus(revenue_drop=1.0)
    t = ImpactTracker(
        settings,
        IncidentPricer(settings, prom, RevenueEstimator(prom, forecast, settings)),
        svc.impact_ledger,
        CollectorRegistry(),
        harness.clock,
        payment_success_objective=0.995,
    )
    [final] = await t.tick()
    assert final.final
    harness.clock.advance(timedelta(minutes=5))
    await fire(svc, alertname="HighErrorRate", severity="warning", starts_at=harness.clock.now())
    reopened = await get(svc, 1)
    assert reopened["status"] == "triggered" and reopened["impact_final"] is True
    harness.clock.advance(timedelta(minutes=1))
    [again] = await t.tick()
    assert not again.final
    stored = await get(svc, 1)
    assert stored["impact_final"] is False
    assert "lost" not in stored["impact"]
    assert stored["revenue_at_risk"] == pytest.approx(again.at_risk, abs=0.01)


class DownPrometheus:
    async def query_range(self, expr: str, start: float, end: float, step: float) -> Any:
        raise ConnectionError("Prometheus at http://127.0.0.1:9 is unavailable: ConnectError")


async def test_prometheus_down_stops_the_round_writes_nothing_and_keeps_the_gauge(harness: Harness) -> None:
    svc = harness.service(base_settings())
    await fire(svc, alertname="HighErrorRate", severity="warning")
    harness.clock.advance(timedelta(minutes=10))
    t = tracker(harness, svc, prometheus(revenue_drop=0.9))
    [before] = await t.tick()
    stored = (await get(svc, 1))["impact"]
    down = DownPrometheus()
    settings = ImpactSettings(history_days=14)
    t._pricer = IncidentPricer(settings, down, RevenueEstimator(down, forecast, settings))
    harness.clock.advance(timedelta(minutes=1))
    assert await t.tick() == []
    assert (await get(svc, 1))["impact"] == stored
    assert t.metrics.rounds.labels("failed")._value.get() == 1
    assert t.metrics.at_risk.labels("fanz-1", "P0", "expected")._value.get() == pytest.approx(before.at_risk, abs=0.01)


class OnePlatformTimesOut(FakeRevenuePrometheus):
    """Every query naming fanz-2 fails the way the Prometheus client says a timeout (ConnectionError)."""

    async def query_range(self, expr: str, start: float, end: float, step: float) -> Any:
        if "fanz-2" in expr:
            raise ConnectionError("Prometheus at http://prometheus is unavailable: ReadTimeout")
        return await super().query_range(expr, start, end, step)


async def test_one_incident_whose_queries_time_out_never_starves_the_others(harness: Harness) -> None:
    svc = harness.service(base_settings(correlation_window="0s"))
    await fire(svc, alertname="HighErrorRate", platform="fanz-2", severity="warning")
    await fire(svc, alertname="HighErrorRate", platform="fanz-1", severity="warning")
    harness.clock.advance(timedelta(minutes=10))
    base = prometheus(revenue_drop=0.9)
    prom = OnePlatformTimesOut(base.timestamps, base.revenue, base.payments, base.failed_value)
    t = tracker(harness, svc, prom)
    for _ in range(3):  # round after round, the fanz-1 incident is priced
        harness.clock.advance(timedelta(minutes=1))
        assert [i.incident_id for i in await t.tick()] == [2]
    assert (await get(svc, 1))["impact"] is None
    assert (await get(svc, 2))["impact"]["computed_at"] == harness.clock.now().isoformat()
    assert t.metrics.rounds.labels("failed")._value.get() == 3

"""``ImpactTracker``: prices every open incident each round, stores it, raises priority for money.

A round reads the incidents to price from the ledger (open ones, and resolved ones until
their loss is final), prices each, stores the figures with a guarded update (newer
figures win; final ones are never overwritten), and raises to P0 the open ones that cost
money now. Safe on every server replica: pricing is a pure function of Prometheus and the
database, the update is guarded, and raising a priority is a compare-and-set that one
replica wins (the others find it P0 already). A failed round is logged and counted, and
the next round tries again; an incident that cannot be priced never stops the others.

>>> tracker = ImpactTracker(settings, pricer, ledger, registry, clock, payment_success_objective=0.995)
>>> await tracker.start(); ...; await tracker.stop()
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Gauge

from ..core.catalog import impact as spec
from ..core.catalog.impact import BOUNDS
from ..core.clock import Clock
from ..core.impact import IncidentLedger, IncidentWindow
from ..core.models import Priority
from ..core.platforms import OTHER_PLATFORM, bound_platform
from ..settings.impact import ImpactSettings
from .pricing import IncidentImpact, IncidentPricer
from .priority import money_reasons

logger = logging.getLogger(__name__)
UNAVAILABLE_STOP = 2
"""Consecutive incidents that could not reach Prometheus before a round stops."""


class ImpactMetrics:
    """``fanz_incident_revenue_at_risk`` and the rounds counter."""

    def __init__(self, registry: CollectorRegistry, platforms: Iterable[str]) -> None:
        self._platforms = frozenset(platforms)
        m = spec.INCIDENT_REVENUE_AT_RISK
        self.at_risk = Gauge(m.name, m.help, labelnames=m.label_names, registry=registry)
        r = spec.INCIDENT_IMPACT_ROUNDS
        self.rounds = Counter(r.name, r.help, labelnames=r.label_names, registry=registry)

    def set_at_risk(self, priced: list[tuple[IncidentWindow, IncidentImpact]]) -> None:
        """Per platform, the largest open incident's figure under the highest open priority there.

        Incidents overlapping on a platform price the same revenue: their sum would count it twice.
        """
        best: dict[str, tuple[float, float, float]] = {}
        top: dict[str, Priority] = {}
        for incident, impact in priced:
            if incident.resolved_at is not None:
                continue
            per_platform: dict[str, tuple[float, float, float]] = {}
            for s in impact.forecast_streams():
                f = impact.converter.factor(s.currency) or 0.0
                w = s.window
                platform = bound_platform(s.platform, self._platforms)
                at, lo, hi = per_platform.get(platform, (0.0, 0.0, 0.0))
                per_platform[platform] = (at + w.at_risk * f, lo + w.at_risk_lower * f, hi + w.at_risk_upper * f)
            for platform, figures in per_platform.items():
                if platform not in best or figures[0] > best[platform][0]:
                    best[platform] = figures
                top[platform] = Priority.highest(top.get(platform, Priority.P2), incident.priority)
        for platform in (*sorted(self._platforms), OTHER_PLATFORM):
            for priority in Priority:
                shown = best.get(platform) if top.get(platform) is priority else None
                for bound, value in zip(BOUNDS, shown or (0.0, 0.0, 0.0), strict=True):
                    self.at_risk.labels(platform, priority.value, bound).set(value)


class ImpactTracker:
    def __init__(
        self,
        settings: ImpactSettings,
        pricer: IncidentPricer,
        ledger: IncidentLedger,
        registry: CollectorRegistry,
        clock: Clock,
        *,
        payment_success_objective: float,
        platforms: Iterable[str] = (),
    ) -> None:
        self._settings = settings
        self._pricer = pricer
        self._ledger = ledger
        self._clock = clock
        self._objective = payment_success_objective
        self.metrics = ImpactMetrics(registry, platforms)
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._latest: dict[int, IncidentImpact] = {}
        self._failing: set[int] = set()

    async def start(self) -> None:
        self._stopping.clear()
        self._task = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        self._stopping.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                await self.tick()
            except Exception:  # a failed round must not end the worker
                logger.exception("impact round failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=self._settings.interval_seconds)

    async def tick(self) -> list[IncidentImpact]:
        """One round at ``clock.now()``: price, store, raise. Returns what was priced."""
        now = self._clock.now()
        s = self._settings
        try:
            incidents = await self._ledger.to_price(
                now=now, settle_seconds=s.settle_seconds, limit=s.max_incidents_per_round
            )
        except Exception:
            self.metrics.rounds.labels("failed").inc()
            raise
        priced: list[tuple[IncidentWindow, IncidentImpact]] = []
        failed = partial = False
        unavailable = 0
        began = self._clock.monotonic()
        self._pricer.retain(incidents, now)  # histories of incidents no longer priced are dropped
        # Incidents that failed last time go last, then the least recently priced first: neither a
        # round cut short by its budget nor one incident whose queries keep failing starves the others.
        incidents.sort(key=lambda i: (i.id in self._failing, str((i.impact or {}).get("computed_at", ""))))
        for incident in incidents:
            if self._stopping.is_set():  # stopping: leave the rest, nothing half-written
                break
            if self._clock.monotonic() - began > s.round_budget_seconds:
                partial = True  # the rest wait for the next round; the gauge keeps their last figures
                logger.warning("impact: round budget of %.0f s spent, the rest next round", s.round_budget_seconds)
                break
            try:
                impact = await self._pricer.price(incident, now)
            except Exception as exc:  # Prometheus down or slow, a refused query: the next round tries again
                failed = True
                self._failing.add(incident.id)
                logger.warning("impact: incident %s could not be priced: %s", incident.id, exc)
                # Two in a row unreachable: Prometheus is down, the others would wait for the same timeouts.
                unavailable = unavailable + 1 if isinstance(exc, ConnectionError) else 0
                if unavailable >= UNAVAILABLE_STOP:
                    break
                continue
            unavailable = 0
            self._failing.discard(incident.id)
            try:
                impact, raised = await self._store(incident, impact, now)
            except Exception:  # the store: this incident next round, the others now
                failed = True
                logger.exception("impact: figures of incident %s could not be stored", incident.id)
                continue
            if raised:  # the gauge counts it under the priority it has now
                incident = replace(incident, priority=Priority.P0)
                incidents = [incident if i.id == incident.id else i for i in incidents]
            priced.append((incident, impact))
            self._latest[incident.id] = impact
        # The gauge from the newest figures of every incident still being priced (a failed one keeps its last).
        self._latest = {i.id: self._latest[i.id] for i in incidents if i.id in self._latest}
        self.metrics.set_at_risk([(i, self._latest[i.id]) for i in incidents if i.id in self._latest])
        self._failing &= {i.id for i in incidents}
        self.metrics.rounds.labels("failed" if failed else "partial" if partial else "ok").inc()
        return [i for _, i in priced]

    async def _store(
        self, incident: IncidentWindow, impact: IncidentImpact, now: datetime
    ) -> tuple[IncidentImpact, bool]:
        """Judge the money, raise to P0 if it says so, store the figures: (impact, raised)."""
        s = self._settings
        raised = False
        if incident.resolved_at is None:
            reasons = money_reasons(
                impact,
                payment_success_objective=self._objective,
                min_attempts=s.min_payment_attempts,
                window_minutes=s.priority_window_minutes,
            )
            impact = replace(impact, money_effect=reasons)
            if reasons and incident.priority is not Priority.P0:
                raised = await self._ledger.raise_to_p0(
                    incident.id,
                    reason="; ".join(reasons),
                    data={"at_risk": _round(impact.at_risk), "currency": impact.reporting_currency},
                    now=now,
                )
        await self._ledger.save_impact(
            incident.id, impact.to_json(), at_risk=_round(impact.at_risk), computed_at=now, final=impact.final
        )
        return impact, raised


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)

"""Pricing one incident: revenue at risk and lost, failed payments, people hit, timings.

``IncidentPricer.price(incident, now)`` reads Prometheus (revenue and payment series) and
the platform database (people, exchange rates) and returns an ``IncidentImpact``, whose
``to_json()`` is what is stored on the incident. While the incident is open the window is
``(began_at, now]`` and the figure is *at risk*; once resolved and ``settle_seconds``
later it is *lost*: at risk over ``(began_at, resolved_at]`` less the revenue above the
forecast in the settling span (late payments that came back), and final.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import anyio.to_thread
import numpy as np
import sqlalchemy as sa

from ..core.catalog.business import FAILED_PAYMENTS_VALUE, PAYMENT_TRANSACTIONS
from ..core.impact import IncidentWindow, RangeReader
from ..settings.impact import ImpactSettings
from .platform_db import AffectedPeople, affected_people, latest_rates
from .revenue import RevenueEstimate, RevenueEstimator, StreamRevenue, Totals, platform_selector

logger = logging.getLogger(__name__)
CHART_POINTS = 240
"""Points of the stored expected-vs-actual series at most (FanzDash draws it)."""


class RateFactors:
    """Amounts to the reporting currency at USD rates (estimates: floats, rounded when shown)."""

    def __init__(self, rates: Mapping[str, Decimal], reporting: str) -> None:
        self._rates = {"USD": Decimal(1), **rates}
        self.reporting = reporting

    def factor(self, currency: str) -> float | None:
        if currency == self.reporting:
            return 1.0
        src, dst = self._rates.get(currency), self._rates.get(self.reporting)
        return None if src is None or dst is None else float(src / dst)


@dataclass(frozen=True, slots=True)
class Payments:
    attempts: float
    failed: float
    failed_value: dict[str, float]
    recent_attempts: dict[str, float]
    recent_failed: dict[str, float]

    def recent_success(self, platform: str) -> float | None:
        attempts = self.recent_attempts.get(platform, 0.0)
        return None if attempts <= 0 else 1.0 - self.recent_failed.get(platform, 0.0) / attempts


@dataclass(frozen=True, slots=True)
class IncidentImpact:
    incident_id: int
    computed_at: datetime
    final: bool
    reporting_currency: str
    revenue: RevenueEstimate
    converter: RateFactors
    payments: Payments | None
    people: AffectedPeople | None
    timings: dict[str, float | None]
    money_effect: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default=())

    def forecast_streams(self) -> list[StreamRevenue]:
        """Streams with a forecast, in a currency that converts: the ones totals are made of."""
        return [s for s in self.revenue.streams if s.baseline is None and self.converter.factor(s.currency) is not None]

    @property
    def priced(self) -> bool:
        """Whether any stream could be forecast (else there is no money figure, only a reason)."""
        return bool(self.forecast_streams())

    def total(self, pick: Callable[[StreamRevenue], Totals]) -> Totals:
        out = Totals()
        for s in self.forecast_streams():
            out = out + pick(s).scaled(self.converter.factor(s.currency) or 0.0)
        return out

    @property
    def unconverted(self) -> list[str]:
        return sorted({s.currency for s in self.revenue.streams if self.converter.factor(s.currency) is None})

    @property
    def unforecast(self) -> list[dict[str, str]]:
        return [
            {"platform": s.platform, "stream": s.stream, "currency": s.currency, "reason": s.baseline}
            for s in self.revenue.streams
            if s.baseline is not None
        ]

    @property
    def at_risk(self) -> float | None:
        """At risk while open; lost once final (reporting currency); None when nothing could be forecast."""
        if not self.priced:
            return None
        w = self.total(lambda s: s.window).at_risk
        return w - self.recovered if self.final else w

    @property
    def recovered(self) -> float:
        """Revenue above the forecast's upper edge after resolution: late payments, not noise."""
        return max(0.0, -self.total(lambda s: s.after).at_risk_upper)

    def series(self, max_points: int = CHART_POINTS) -> dict[str, list[float]] | None:
        """Revenue per minute over the window in the reporting currency, expected (with its
        interval) and actual, summed over the convertible streams; at most ``max_points``
        points (bucket means). None without a forecast stream."""
        streams = [s for s in self.forecast_streams() if s.points]
        if not streams or streams[0].points[0].size == 0:
            return None
        t = streams[0].points[0]
        per_minute = 60.0 / float(t[1] - t[0]) if t.size > 1 else 1.0
        sums = [np.zeros(t.size) for _ in range(4)]
        for s in streams:
            f = (self.converter.factor(s.currency) or 0.0) * per_minute
            for total, part in zip(sums, s.points[1:], strict=True):
                total += part * f
        n = max(1, -(-t.size // max_points))  # buckets of n points
        cut = t.size // n * n
        if cut == 0:
            cut, n = t.size, t.size

        def shrink(a: np.ndarray, ends: bool = False) -> list[float]:
            head = a[a.size - cut :].reshape(-1, n)  # the newest whole buckets (a live view ends now)
            b = head[:, -1] if ends else head.mean(axis=1)
            return [round(float(x), 2) for x in b]

        return {
            "t": shrink(t, ends=True),
            "expected": shrink(sums[0]),
            "lower": shrink(sums[1]),
            "upper": shrink(sums[2]),
            "actual": shrink(sums[3]),
        }

    def to_json(self) -> dict[str, Any]:
        w = self.total(lambda s: s.window)
        rec = self.recovered
        priced = self.priced
        out: dict[str, Any] = {
            "computed_at": self.computed_at.isoformat(),
            "final": self.final,
            "reporting_currency": self.reporting_currency,
            "level": self.revenue.level,
            "window": {"start": _iso(self.revenue.start), "end": _iso(self.revenue.end)},
            "revenue": {
                "expected": _r(w.expected) if priced else None,
                "expected_lower": _r(w.lower) if priced else None,
                "expected_upper": _r(w.upper) if priced else None,
                "actual": _r(w.actual) if priced else None,
                "at_risk": _r(w.at_risk) if priced else None,
                "at_risk_lower": _r(w.at_risk_lower) if priced else None,
                "at_risk_upper": _r(w.at_risk_upper) if priced else None,
            },
            "unforecast_streams": self.unforecast,
            "streams": [_stream_json(s) for s in self.revenue.streams],
            "unconverted_currencies": self.unconverted,
            "timings": self.timings,
            "money_effect": list(self.money_effect),
            "notes": list(self.notes),
            "series": self.series(),
        }
        if self.final and priced:
            out["lost"] = {
                "lost": _r(w.at_risk - rec),
                "lost_lower": _r(w.at_risk_lower - rec),
                "lost_upper": _r(w.at_risk_upper - rec),
                "recovered": _r(rec),
                "settle_end": _iso(self.revenue.settle_end) if self.revenue.settle_end else None,
            }
        if self.payments is not None:
            fv = self.payments.failed_value
            out["payments"] = {
                "attempts": round(self.payments.attempts),
                "failed": round(self.payments.failed),
                "failed_value": {c: _r(v) for c, v in sorted(fv.items())},
                "failed_value_reporting": _r(
                    sum(v * f for c, v in fv.items() if (f := self.converter.factor(c)) is not None)
                ),
            }
        if self.people is not None:
            out["people"] = {
                "creators": self.people.creators,
                "fans": self.people.fans,
                "failed_attempts": self.people.failed_attempts,
                "source": "platform database: distinct ids of failed payment attempts in the window",
            }
        return out


def _r(x: float) -> float:
    return round(float(x), 2)


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).isoformat()


def _stream_json(s: StreamRevenue) -> dict[str, Any]:
    w = s.window
    return {
        "platform": s.platform,
        "stream": s.stream,
        "currency": s.currency,
        "expected": _r(w.expected),
        "expected_lower": _r(w.lower),
        "expected_upper": _r(w.upper),
        "actual": _r(w.actual),
        "at_risk": _r(w.at_risk),
        "at_risk_lower": _r(w.at_risk_lower),
        "at_risk_upper": _r(w.at_risk_upper),
        "recovered": _r(max(0.0, -s.after.at_risk)),
        "below_band": s.below_band,
        "baseline": s.baseline or "forecast",
    }


def timings(incident: IncidentWindow) -> dict[str, float | None]:
    """Time to detect, acknowledge, mitigate and resolve, in seconds (None: not yet)."""

    def since(a: datetime | None, b: datetime) -> float | None:
        return None if a is None else max(0.0, (a - b).total_seconds())

    return {
        "time_to_detect": since(incident.opened_at, incident.began_at),
        "time_to_acknowledge": since(incident.acknowledged_at, incident.opened_at),
        "time_to_mitigate": since(incident.mitigated_at or incident.resolved_at, incident.began_at),
        "time_to_resolve": since(incident.resolved_at, incident.began_at),
    }


class IncidentPricer:
    """Prices incidents; ``platform_db`` (the BI database, optional) adds people and exchange rates."""

    def __init__(
        self,
        settings: ImpactSettings,
        reader: RangeReader,
        estimator: RevenueEstimator,
        *,
        reporting_currency: str = "USD",
        platform_db: sa.Engine | None = None,
    ) -> None:
        self._settings = settings
        self._reader = reader
        self._estimator = estimator
        self._currency = reporting_currency
        self._db = platform_db

    def retain(self, incidents: list[IncidentWindow], now: datetime) -> None:
        """Keep the cached histories of these incidents only."""
        self._estimator.retain(
            {(incident.platforms, self.window(incident, now)[0].timestamp()) for incident in incidents}
        )

    def window(self, incident: IncidentWindow, now: datetime) -> tuple[datetime, datetime, datetime | None, bool]:
        """(start, end, settle end, final) of the incident's pricing window at ``now``."""
        start = min(incident.began_at, incident.opened_at)
        if incident.resolved_at is None:
            return start, now, None, False
        settle_end = incident.resolved_at + timedelta(seconds=self._settings.settle_seconds)
        final = now >= settle_end
        return start, incident.resolved_at, min(settle_end, now), final

    async def price(self, incident: IncidentWindow, now: datetime) -> IncidentImpact:
        start, end, settle_end, final = self.window(incident, now)
        platforms = incident.platforms
        revenue = await self._estimator.estimate(
            platforms, start.timestamp(), end.timestamp(), settle_end=settle_end.timestamp() if settle_end else None
        )
        notes: list[str] = []
        payments = await self._payments(platforms, start.timestamp(), end.timestamp())
        people: AffectedPeople | None = None
        rates = dict(self._settings.exchange_rates)
        if self._db is not None:
            db = self._db
            try:
                people = await anyio.to_thread.run_sync(lambda: affected_people(db, platforms, start, end))
                rates.update(await anyio.to_thread.run_sync(lambda: latest_rates(db, end)))
            except sa.exc.SQLAlchemyError as exc:
                logger.warning("impact: the platform database could not be read: %s", type(exc).__name__)
                notes.append("the platform database could not be read: no creators and fans counted this round")
                final = False  # never finalise figures missing the database's rates and people: next round
        else:
            notes.append("no platform database configured: creators and fans are not counted")
        return IncidentImpact(
            incident_id=incident.id,
            computed_at=now,
            final=final,
            reporting_currency=self._currency,
            revenue=revenue,
            converter=RateFactors(rates, self._currency),
            payments=payments,
            people=people,
            timings=timings(incident),
            notes=tuple(notes),
        )

    async def _payments(self, platforms: tuple[str, ...], start: float, end: float) -> Payments:
        step = self._settings.step_seconds
        sel = platform_selector(platforms)
        first = (start // step) * step + step
        last = (end // step) * step
        if last < first:
            return Payments(0.0, 0.0, {}, {}, {})
        attempts = await self._reader.query_range(
            f"sum by (platform, status) (increase({PAYMENT_TRANSACTIONS.name}_total{{{sel}}}[{int(step)}s]))",
            first,
            last,
            step,
        )
        values = await self._reader.query_range(
            f"sum by (currency) (increase({FAILED_PAYMENTS_VALUE.name}_total{{{sel}}}[{int(step)}s]))",
            first,
            last,
            step,
        )
        recent_from = last - self._settings.priority_window_minutes * 60
        total = failed = 0.0
        recent_all: dict[str, float] = {}
        recent_failed: dict[str, float] = {}
        for x in attempts:
            ts, vs = np.asarray(x.timestamps, dtype=np.float64), np.nan_to_num(np.asarray(x.values, dtype=np.float64))
            n, recent = float(vs.sum()), float(vs[ts > recent_from].sum())
            platform = x.labels.get("platform", "")
            total += n
            recent_all[platform] = recent_all.get(platform, 0.0) + recent
            if x.labels.get("status") == "failed":
                failed += n
                recent_failed[platform] = recent_failed.get(platform, 0.0) + recent
        failed_value = {
            x.labels.get("currency", ""): float(np.nansum(np.asarray(x.values, dtype=np.float64))) for x in values
        }
        return Payments(total, failed, failed_value, recent_all, recent_failed)

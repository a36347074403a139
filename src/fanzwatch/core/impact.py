"""What business impact reads and writes, as small protocols (composed in ``server``).

``fanzwatch.impact`` prices incidents from money series and forecasts and writes the
figures back on the incident; it may not import the packages that own those things
(``anomaly`` has the forecaster and the Prometheus client, ``alerting`` the incidents).
They meet here: the server hands the impact package objects that fit these protocols.

>>> tracker = ImpactTracker(settings, reader=prometheus, forecaster=forecast, ledger=ledger, ...)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol

from .models import Priority

Seasonality = Literal["auto", "none", "daily", "weekly"]


class RangeSeriesLike(Protocol):
    """One series of a range query: labels, and timestamps/values as float arrays (NumPy)."""

    @property
    def labels(self) -> Mapping[str, str]: ...

    @property
    def timestamps(self) -> Any: ...

    @property
    def values(self) -> Any: ...


class RangeReader(Protocol):
    """Evaluates PromQL over a range (Prometheus's ``query_range``, chunked as needed)."""

    async def query_range(self, expr: str, start: float, end: float, step: float) -> Sequence[RangeSeriesLike]: ...


class ForecastLike(Protocol):
    """A forecast: ``mean`` and a ``level`` interval ``lower``..``upper`` at ``timestamps``."""

    @property
    def timestamps(self) -> Any: ...

    @property
    def mean(self) -> Any: ...

    @property
    def lower(self) -> Any: ...

    @property
    def upper(self) -> Any: ...

    @property
    def level(self) -> float: ...


class Forecaster(Protocol):
    """The anomaly engine's forecast (``fanzwatch.anomaly.forecast.forecast``).

    Raises ``ValueError`` when the history cannot support the forecast (too few points,
    a horizon longer than half the history).
    """

    def __call__(
        self,
        timestamps: Any,
        values: Any,
        *,
        horizon_seconds: float,
        level: float = ...,
        max_points: int = ...,
        seasonality: Seasonality = ...,
    ) -> ForecastLike: ...


@dataclass(frozen=True, slots=True)
class IncidentWindow:
    """What pricing needs to know of an incident, read from the incident store.

    ``began_at`` is when the problem began: the earliest alert's start less its rule's
    hold (``for:``), never after ``opened_at``. ``mitigated_at`` is when its symptoms last
    stopped (every alert resolved: the last "resolving" entry), if they did.
    """

    id: int
    title: str
    priority: Priority
    status: str
    platforms: tuple[str, ...]
    began_at: datetime
    opened_at: datetime
    acknowledged_at: datetime | None
    mitigated_at: datetime | None
    resolved_at: datetime | None
    impact: Mapping[str, Any] | None


class IncidentLedger(Protocol):
    """The incident store, as impact sees it (``alerting`` implements it)."""

    async def to_price(self, *, now: datetime, settle_seconds: float, limit: int) -> list[IncidentWindow]:
        """Open incidents, and resolved ones whose impact is not final yet."""
        ...

    async def save_impact(
        self, incident_id: int, impact: Mapping[str, Any], *, at_risk: float | None, computed_at: datetime, final: bool
    ) -> bool:
        """Store the figures unless newer ones (or final ones) are stored; whether they were."""
        ...

    async def raise_to_p0(self, incident_id: int, *, reason: str, data: Mapping[str, Any], now: datetime) -> bool:
        """Raise an open incident to P0 with ``reason`` on its timeline; False if it already is, or is resolved."""
        ...


def money_sentence(impact: Mapping[str, Any] | None) -> str | None:
    """One line on an incident's money, as notifications say it (None: not priced yet).

    ``impact`` is the JSON ``fanzwatch.impact`` stores on the incident. Never raises: a
    figure that is missing or malformed leaves the sentence out.

    >>> money_sentence({"reporting_currency": "USD", "level": 0.9, "revenue": {"at_risk": 1200,
    ...     "at_risk_lower": 900, "at_risk_upper": 1500}})
    'Revenue at risk so far: 1,200.00 USD (90% interval 900.00 to 1,500.00)'
    """
    if not impact:
        return None
    try:
        cur = str(impact.get("reporting_currency", ""))
        level = float(impact.get("level", 0.9))
        lost = impact.get("lost")
        if lost:
            text = (
                f"Revenue lost: {float(lost['lost']):,.2f} {cur} ({level:.0%} interval "
                f"{float(lost['lost_lower']):,.2f} to {float(lost['lost_upper']):,.2f})"
            )
        elif impact["revenue"].get("at_risk") is None:
            reasons = sorted({str(u.get("reason", "")) for u in impact.get("unforecast_streams", [])})
            text = "Revenue at risk: not priced (no forecast" + (f": {reasons[0]}" if reasons else "") + ")"
        else:
            r = impact["revenue"]
            text = (
                f"Revenue at risk so far: {float(r['at_risk']):,.2f} {cur} ({level:.0%} interval "
                f"{float(r['at_risk_lower']):,.2f} to {float(r['at_risk_upper']):,.2f})"
            )
        missing = impact.get("unforecast_streams") or []
        if missing and impact["revenue"].get("at_risk") is not None:
            text += f" without {len(missing)} stream{'s' if len(missing) > 1 else ''} that could not be forecast"
        payments = impact.get("payments")
        if payments and payments.get("failed"):
            text += (
                f"; {int(payments['failed'])} failed payments worth "
                f"{float(payments.get('failed_value_reporting', 0)):,.2f} {cur}"
            )
        people = impact.get("people")
        if people:
            text += f"; {int(people['creators'])} creators and {int(people['fans'])} fans with failed payments"
        return text
    except (KeyError, TypeError, ValueError, AttributeError):
        return None

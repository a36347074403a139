"""Composition of ``fanzwatch.impact``: the anomaly engine's forecaster and Prometheus client,
the alerting store's ledger, BI's platform database, the checkout SLO's objective.

>>> tracker = build_impact_tracker(settings, http, registry, clock, ledger=alerting.impact_ledger, platform_db=None)
"""

from __future__ import annotations

from collections.abc import Sequence

import httpx
import sqlalchemy as sa
from prometheus_client import CollectorRegistry

from ..anomaly.engine.prometheus import PrometheusClient, RangeSeries
from ..anomaly.forecast import forecast
from ..core.clock import Clock
from ..core.impact import IncidentLedger
from ..impact import ImpactTracker, IncidentPricer, RevenueEstimator
from ..provisioning.definitions.slos import CHECKOUT_SUCCESS
from ..settings import ServerSettings


class PrometheusRanges:
    """``core.impact.RangeReader`` over the anomaly engine's client, in chunks Prometheus accepts."""

    def __init__(self, client: PrometheusClient, *, max_points: int) -> None:
        self._client = client
        self._max_points = max_points

    async def query_range(self, expr: str, start: float, end: float, step: float) -> Sequence[RangeSeries]:
        return await self._client.query_range_chunked(expr, start, end, step, max_points=self._max_points)


def build_impact_tracker(
    settings: ServerSettings,
    http: httpx.AsyncClient,
    registry: CollectorRegistry,
    clock: Clock,
    *,
    ledger: IncidentLedger,
    platform_db: sa.Engine | None,
) -> ImpactTracker:
    reader = PrometheusRanges(
        PrometheusClient(settings.anomaly.prometheus_url, http), max_points=settings.anomaly.max_points_per_query
    )
    impact = settings.impact
    pricer = IncidentPricer(
        impact,
        reader,
        RevenueEstimator(reader, forecast, impact),
        reporting_currency=settings.bi.reporting_currency,
        platform_db=platform_db,
    )
    return ImpactTracker(
        impact,
        pricer,
        ledger,
        registry,
        clock,
        payment_success_objective=CHECKOUT_SUCCESS.objective,
        platforms=settings.platforms,
    )

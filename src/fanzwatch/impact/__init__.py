"""Business impact of incidents: revenue at risk and lost, money-driven priority, reports.

Reads money series, forecasts and incidents through the protocols of ``core.impact``; the
server composes it with the anomaly engine's forecaster and Prometheus client and with the
alerting store (see docs/impact.md).
"""

from .api import build_router
from .pricing import IncidentImpact, IncidentPricer, RateFactors, timings
from .priority import money_reasons
from .report import render_report
from .revenue import RevenueEstimate, RevenueEstimator, StreamRevenue, Totals
from .tracker import ImpactMetrics, ImpactTracker

__all__ = [
    "ImpactMetrics",
    "ImpactTracker",
    "IncidentImpact",
    "IncidentPricer",
    "RateFactors",
    "RevenueEstimate",
    "RevenueEstimator",
    "StreamRevenue",
    "Totals",
    "build_router",
    "money_reasons",
    "render_report",
    "timings",
]

"""Metrics of incident impact: the money open incidents are putting at risk.

Emitted by the fanzwatch server (``fanzwatch.impact``). Incident ids never become labels:
the gauge sums the open incidents of each platform and priority. Every replica computes
the same figures from the same store, so read them with ``max``, never ``sum``, across
replicas.
"""

from __future__ import annotations

from ._spec import PLATFORM, Label, MetricKind, MetricSpec, Source

PRIORITIES = ("P0", "P1", "P2")
BOUNDS = ("expected", "lower", "upper")

INCIDENT_REVENUE_AT_RISK = MetricSpec(
    name="fanz_incident_revenue_at_risk",
    kind=MetricKind.GAUGE,
    unit="reporting currency units",
    help=(
        "Revenue open incidents have put at risk so far (expected from the seasonal forecast minus actual), "
        "in the reporting currency; bound=lower/upper is the forecast interval."
    ),
    labels=(
        PLATFORM,
        Label("priority", "the incident's priority", PRIORITIES),
        Label("bound", "expected, or an edge of the forecast interval", BOUNDS),
    ),
    source=Source.SERVER,
)
INCIDENT_IMPACT_ROUNDS = MetricSpec(
    name="fanz_incident_impact_rounds",
    kind=MetricKind.COUNTER,
    unit="rounds",
    help=(
        "Rounds of pricing the open incidents, by outcome (failed: an incident could not be priced or stored; "
        "partial: the round's time budget ran out, the rest next round)."
    ),
    labels=(Label("result", "ok, partial or failed", ("ok", "partial", "failed")),),
    source=Source.SERVER,
)

METRICS = (INCIDENT_REVENUE_AT_RISK, INCIDENT_IMPACT_ROUNDS)

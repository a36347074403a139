"""Rules that say when anomaly detection is blind (meta-alerts on the engine's own gauges).

"No anomaly" must never be read from an engine that cannot see. The engine posts
``AnomalyEngineBlind`` and ``AnomalySeriesStale`` to Alertmanager itself (that works while
Prometheus is down); these rules raise the same alerts from its gauges, with exactly the
labels the engine posts (``alertname``, ``severity``, ``priority``, ``service`` and, for a
series, ``metric`` and ``platform``; ``job``/``instance`` are aggregated away), so when
both speak Alertmanager holds one alert. Only Prometheus can see the third case, an
engine that stopped: the server died (its gauges vanished after having been there) or
the engine no longer evaluates while it can read Prometheus.

``WatchedSeriesAbsent`` does not depend on the engine at all: a platform that served
requests an hour ago and has no request series now (``... offset 1h unless ...``, the
generic form of ``absent()`` over every platform).
"""

from __future__ import annotations

from datetime import timedelta

from ...core import Severity
from ...core.catalog import anomaly as spec
from ...core.catalog import http
from ..rules import AlertRule, RuleGroup

SERVICE = "fanzwatch-anomaly"
"""The engine's own ``service`` label (``anomaly.engine.alertmanager.SERVICE``)."""
STOPPED_AFTER = timedelta(minutes=10)

_AGG = "max without (instance, job)"

ANOMALY_ALERTS = (
    AlertRule(
        name="AnomalyEngineBlind",
        expr=f'max without (instance, job, state) ({spec.ENGINE_STATE.name}{{state="unknown"}}) == 1',
        hold=timedelta(minutes=2),
        severity=Severity.WARNING,
        service=SERVICE,
        summary="Anomaly detection is blind: it cannot read Prometheus",
        description=(
            "The anomaly engine's state has been unknown for 2 minutes: it cannot read Prometheus (unreachable, "
            "erroring, or no evaluation yet). No anomaly can be detected or resolved; 'no anomalies' means nothing."
        ),
    ),
    AlertRule(
        name="AnomalySeriesStale",
        expr=f"{_AGG} ({spec.SERIES_STALE.name}) == 1",
        hold=timedelta(minutes=1),
        severity=Severity.WARNING,
        service=SERVICE,
        summary="{{ $labels.metric }} on {{ $labels.platform }} has no data: anomaly detection cannot watch it",
        description=(
            "The anomaly engine has had no point of {{ $labels.metric }} for {{ $labels.platform }} for its stale "
            "period while Prometheus answers: the platform is not scraped or stopped exporting."
        ),
    ),
    AlertRule(
        name="AnomalyEngineStopped",
        expr=(
            f"(time() - {_AGG} ({spec.LAST_EVALUATION.name}) > {int(STOPPED_AFTER.total_seconds())}\n"
            f'  unless on () {spec.ENGINE_STATE.name}{{state="unknown"}} == 1)\n'
            f"or (absent_over_time({spec.ENGINE_UP.name}[{int(STOPPED_AFTER.total_seconds() // 60)}m])\n"
            f"  and on () present_over_time({spec.ENGINE_UP.name}[1d]))"
        ),
        hold=timedelta(minutes=1),
        severity=Severity.WARNING,
        service=SERVICE,
        summary="Anomaly detection has stopped evaluating",
        description=(
            "The anomaly engine has not evaluated for 10 minutes although it is not reporting itself blind, or its "
            "metrics have vanished after being there (the server stopped). Nothing is being watched."
        ),
    ),
    AlertRule(
        name="WatchedSeriesAbsent",
        expr=(
            f"sum by (platform) (rate({http.HTTP_SERVER_REQUEST_DURATION.name}_count[5m] offset 1h)) > 0\n"
            f"unless sum by (platform) (rate({http.HTTP_SERVER_REQUEST_DURATION.name}_count[5m]))"
        ),
        hold=timedelta(minutes=10),
        severity=Severity.WARNING,
        service=SERVICE,
        summary="{{ $labels.platform }} has stopped reporting requests",
        description=(
            "{{ $labels.platform }} served requests an hour ago and has had no request series for 10 minutes: "
            "its metrics are gone (scrape broken or service down), so neither rules nor anomaly detection see it."
        ),
    ),
)

ANOMALY = RuleGroup("fanzwatch.anomaly", "anomaly", ANOMALY_ALERTS)

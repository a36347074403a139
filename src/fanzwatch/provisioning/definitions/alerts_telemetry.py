"""Alerts on the traces and logs pipeline itself: the OTLP receiver, its queue and spool, the store.

The receiver never loses what it accepted: when the store is down or the queue is full it
answers 503 ``Retry-After`` and the exporters keep the data and retry. That is right for a
blip and silent data loss when it lasts (an exporter gives up after its retries), so
``TelemetryPipelineRejecting`` warns when a share of the export requests has been refused for
5 minutes. ``TelemetryStoreUnavailable`` names the usual cause: a server has found the store
process unreachable or failing for 2 minutes (then no trace or log can be written or read).
``TelemetrySpoolBacklog`` warns when batches spooled to disk by a stopping server are still
there 10 minutes later: the store is still away, or no running server replays them (replay
happens at start).
"""

from __future__ import annotations

from datetime import timedelta

from ...core import Severity
from ...core.catalog import otlp as cat
from ..rules import AlertRule, RuleGroup

SERVICE = "monitoring"
REJECTING_RATIO = 0.05
"""Share of export requests refused with 503 (queue full or store down) that warns, over 5 minutes."""
_REFUSED = "|".join((cat.BACK_PRESSURE, cat.STORE_UNAVAILABLE))
_REQUESTS = f"{cat.OTLP_REQUESTS.name}_total"

TELEMETRY_PIPELINE_REJECTING = AlertRule(
    name="TelemetryPipelineRejecting",
    expr=(
        f'sum by (signal) (rate({_REQUESTS}{{outcome=~"{_REFUSED}"}}[5m]))\n'
        f"/ sum by (signal) (rate({_REQUESTS}[5m]))\n"
        f"> {REJECTING_RATIO}"
    ),
    hold=timedelta(minutes=5),
    severity=Severity.WARNING,
    service=SERVICE,
    summary="The OTLP receiver refuses {{ $value | humanizePercentage }} of {{ $labels.signal }} exports",
    description=(
        "For over 5 minutes, {{ $value | humanizePercentage }} of the OTLP {{ $labels.signal }} export requests "
        f"were answered 503 (the receiver's queue full, or the telemetry store down; threshold "
        f"{REJECTING_RATIO:.0%}). Exporters retry for a while and then drop what they hold: traces and logs "
        "are being lost at the services."
    ),
)

TELEMETRY_STORE_UNAVAILABLE = AlertRule(
    name="TelemetryStoreUnavailable",
    # One alert per server job: any of its instances that cannot write.
    expr=f"min without (instance) ({cat.OTLP_STORE_UP.name}) == 0",
    hold=timedelta(minutes=2),
    severity=Severity.WARNING,
    service=SERVICE,
    summary="The telemetry store is unavailable to {{ $labels.job }}",
    description=(
        "For over 2 minutes a fanzwatch server of {{ $labels.job }} has found the telemetry store process "
        "unreachable, failing or too slow: it holds what it accepted and answers 503 to new OTLP exports, and "
        "FanzDash cannot show traces or logs."
    ),
)

TELEMETRY_SPOOL_BACKLOG = AlertRule(
    name="TelemetrySpoolBacklog",
    # Every worker of a server sees the same spool directory: one alert, not one per worker.
    expr=f"max without (instance) ({cat.OTLP_SPOOL_FILES.name}) > 0",
    hold=timedelta(minutes=10),
    severity=Severity.WARNING,
    service=SERVICE,
    summary="{{ $value }} spooled trace and log batches wait on disk for {{ $labels.job }}",
    description=(
        "{{ $value }} batches a stopping server spooled to disk (its data dir's otlp-spool/) have not been "
        "delivered for over 10 minutes: the telemetry store is still away, or no running server has replayed "
        "them (replay happens when a server starts). They are kept, not lost, and not yet readable."
    ),
)

TELEMETRY_ALERTS = (TELEMETRY_PIPELINE_REJECTING, TELEMETRY_STORE_UNAVAILABLE, TELEMETRY_SPOOL_BACKLOG)

TELEMETRY = RuleGroup("fanzwatch.telemetry", "telemetry", TELEMETRY_ALERTS)

"""Recording rules: the shared building blocks of alerts and dashboards.

Each record name is a ``Source.PROMETHEUS`` entry of ``core/catalog/recording.py``.
Ratios keep a zero numerator as ``0`` rather than no series (``or 0 * denominator``), so
a platform without errors shows 0 % instead of a gap.
"""

from __future__ import annotations

from ...core.catalog import recording as rec
from ..rules import RecordingRule, RuleGroup

_REQ = "http_server_request_duration_seconds_count"
_PAY = "fanz_payment_transactions_total"


def _ratio(series: str, selector: str, by: str = "platform", window: str = "5m") -> str:
    total = f"sum by ({by}) (rate({series}[{window}]))"
    part = f"sum by ({by}) (rate({series}{{{selector}}}[{window}]))"
    return f"(\n  {part}\n  or 0 * {total}\n)\n/ {total}"


def _quantile(q: float) -> str:
    return f"histogram_quantile({q}, sum by (platform, le) (rate(http_server_request_duration_seconds_bucket[5m])))"


RECORDING_RULES = (
    RecordingRule(rec.HTTP_REQUEST_RATE.name, f"sum by (platform) (rate({_REQ}[5m]))"),
    RecordingRule(rec.HTTP_5XX_RATIO.name, _ratio(_REQ, 'status_class="5xx"')),
    RecordingRule(rec.HTTP_4XX_RATIO.name, _ratio(_REQ, 'status_class="4xx"')),
    RecordingRule(rec.HTTP_P95.name, _quantile(0.95)),
    RecordingRule(rec.HTTP_P50.name, _quantile(0.5)),
    RecordingRule(rec.PAYMENT_FAILURE_RATIO.name, _ratio(_PAY, 'status="failed"')),
    RecordingRule(rec.PAYMENT_SUCCESS_RATIO.name, _ratio(_PAY, 'status="completed"')),
    RecordingRule(rec.PAYMENT_ATTEMPTS.name, f"sum by (platform) (increase({_PAY}[5m]))"),
    RecordingRule(rec.REGISTRATIONS_HOURLY.name, "sum by (platform) (increase(fanz_user_registrations_total[1h]))"),
    RecordingRule(
        rec.DB_POOL_USAGE.name, 'db_client_connection_count{state="used"}\n/ ignoring (state) db_client_connection_max'
    ),
    RecordingRule(rec.MEMORY_USAGE.name, "process_resident_memory_bytes\n/ fanz_process_memory_limit_bytes"),
    RecordingRule(
        rec.FILESYSTEM_AVAILABLE.name,
        "(\n"
        '  node_filesystem_avail_bytes{fstype!~"tmpfs|ramfs|devtmpfs|squashfs|overlay|nsfs|fuse\\\\..*"}\n'
        "  / node_filesystem_size_bytes\n"
        ")\nunless node_filesystem_readonly == 1",
    ),
)

RECORDING = RuleGroup("fanzwatch.recording", "recording", RECORDING_RULES)

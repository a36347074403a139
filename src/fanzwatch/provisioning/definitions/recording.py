"""Recording rules: the shared building blocks of alerts and dashboards.

Each record name is a ``Source.PROMETHEUS`` entry of ``core/catalog/recording.py``.
Ratios keep a zero numerator as ``0`` rather than no series (``or 0 * denominator``), so
a platform without errors shows 0 % instead of a gap.

The short-term window is a parameter (``ProvisioningSettings.rate_window``, 5 minutes by
default): a demo or test scraping every second uses 30 s, so alerts resolve within
seconds of a fix, too. The recorded names keep their ``5m`` suffix whatever the window
(names are the catalog's stable identifiers; the window is a deployment choice).
"""

from __future__ import annotations

from datetime import timedelta

from ...core.catalog import recording as rec
from .._output import prom_duration
from ..rules import RecordingRule, RuleGroup

DEFAULT_RATE_WINDOW = timedelta(minutes=5)

_REQ = "http_server_request_duration_seconds_count"
_PAY = "fanz_payment_transactions_total"


def _ratio(series: str, selector: str, *, window: str, by: str = "platform") -> str:
    total = f"sum by ({by}) (rate({series}[{window}]))"
    part = f"sum by ({by}) (rate({series}{{{selector}}}[{window}]))"
    return f"(\n  {part}\n  or 0 * {total}\n)\n/ {total}"


def _quantile(q: float, window: str) -> str:
    return (
        f"histogram_quantile({q}, sum by (platform, le) (rate(http_server_request_duration_seconds_bucket[{window}])))"
    )


# Not short-term rates: an hour of registrations, and instant ratios.
_LONG_AND_INSTANT = (
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


def recording_rules(rate_window: timedelta = DEFAULT_RATE_WINDOW) -> tuple[RecordingRule, ...]:
    """The recording rules, their short-term rates over ``rate_window``."""
    w = prom_duration(rate_window)
    return (
        RecordingRule(rec.HTTP_REQUEST_RATE.name, f"sum by (platform) (rate({_REQ}[{w}]))"),
        RecordingRule(rec.HTTP_5XX_RATIO.name, _ratio(_REQ, 'status_class="5xx"', window=w)),
        RecordingRule(rec.HTTP_4XX_RATIO.name, _ratio(_REQ, 'status_class="4xx"', window=w)),
        RecordingRule(rec.HTTP_P95.name, _quantile(0.95, w)),
        RecordingRule(rec.HTTP_P50.name, _quantile(0.5, w)),
        RecordingRule(rec.PAYMENT_FAILURE_RATIO.name, _ratio(_PAY, 'status="failed"', window=w)),
        RecordingRule(rec.PAYMENT_SUCCESS_RATIO.name, _ratio(_PAY, 'status="completed"', window=w)),
        RecordingRule(rec.PAYMENT_ATTEMPTS.name, f"sum by (platform) (increase({_PAY}[{w}]))"),
        *_LONG_AND_INSTANT,
    )


def recording_group(rate_window: timedelta = DEFAULT_RATE_WINDOW) -> RuleGroup:
    return RuleGroup("fanzwatch.recording", "recording", recording_rules(rate_window))


RECORDING = recording_group()
RECORDING_RULES = RECORDING.rules

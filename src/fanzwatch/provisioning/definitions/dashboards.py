"""The guide's two dashboards, core platform and business, with queries that work.

Fixes over the guide: request rate from the duration histogram's ``_count`` (nothing
emitted ``http_requests_total``); latency in seconds per platform with the ``le``
label kept through the sum; errors as ratios; connections against the pool maximum;
memory against the limit (no V8 heap); revenue per currency, never summed across
currencies; payment success from the ``status`` label the counter now has; every
query filtered by the ``$platform`` selector.
"""

from __future__ import annotations

from ...core.catalog import recording as rec
from ..dashboard import Color, Dashboard, Panel, PanelKind, PlatformVariable, Row, Step, Target, Thresholds, Unit
from . import alerts_business as biz
from . import alerts_service as svc

P = 'platform=~"$platform"'
_PLATFORMS = PlatformVariable(series="http_server_request_duration_seconds_count")
_TS = PanelKind.TIMESERIES
_STAT = PanelKind.STAT


def _rec(series: str) -> str:
    return f"{series}{{{P}}}"


CORE = Dashboard(
    uid="fanz-core",
    title="FANZ Platform - Core Metrics",
    description="Traffic, latency, errors, users and resources of the FANZ platforms.",
    tags=("fanz", "platform", "core"),
    platform_variable=_PLATFORMS,
    rows=(
        Row(
            "Traffic and latency",
            (
                Panel(
                    "Request rate",
                    _TS,
                    Unit.REQUESTS_PER_SECOND,
                    (
                        Target(
                            "sum by (platform, http_request_method, http_route) "
                            f"(rate(http_server_request_duration_seconds_count{{{P}}}[5m]))",
                            "{{platform}} {{http_request_method}} {{http_route}}",
                        ),
                    ),
                    min=0,
                ),
                Panel(
                    "Response time p95 / p50",
                    _TS,
                    Unit.SECONDS,
                    (
                        Target(_rec(rec.HTTP_P95.name), "p95 {{platform}}"),
                        Target(_rec(rec.HTTP_P50.name), "p50 {{platform}}"),
                    ),
                    thresholds=Thresholds(Color.GREEN, (Step(svc.P95_SECONDS_WARNING, Color.RED),)),
                    min=0,
                ),
            ),
        ),
        Row(
            "Errors and users",
            (
                Panel(
                    "Error ratio",
                    _TS,
                    Unit.RATIO,
                    (
                        Target(_rec(rec.HTTP_4XX_RATIO.name), "4xx {{platform}}"),
                        Target(_rec(rec.HTTP_5XX_RATIO.name), "5xx {{platform}}"),
                    ),
                    thresholds=Thresholds(
                        Color.GREEN,
                        (Step(svc.ERROR_RATIO_WARNING, Color.YELLOW), Step(svc.ERROR_RATIO_CRITICAL, Color.RED)),
                    ),
                    min=0,
                    span=16,
                ),
                Panel(
                    "Active users",
                    _STAT,
                    Unit.COUNT,
                    (Target(f"sum(fanz_active_users{{{P}}})", "active users"),),
                    description="Distinct authenticated users seen in the last 5 minutes.",
                    span=8,
                ),
            ),
        ),
        Row(
            "Resources",
            (
                Panel(
                    "Database pool use",
                    _TS,
                    Unit.RATIO,
                    (Target(_rec(rec.DB_POOL_USAGE.name), "{{platform}} {{pool_name}} {{instance}}"),),
                    description="Used connections as a share of each pool's maximum.",
                    thresholds=Thresholds(
                        Color.GREEN,
                        (Step(svc.POOL_USAGE_WARNING, Color.YELLOW), Step(svc.POOL_USAGE_CRITICAL, Color.RED)),
                    ),
                    min=0,
                    max=1,
                    span=8,
                ),
                Panel(
                    "Memory",
                    _TS,
                    Unit.BYTES,
                    (
                        Target(
                            "process_resident_memory_bytes\nand on (job, instance) fanz_process_memory_limit_bytes",
                            "RSS {{job}} {{instance}}",
                        ),
                        Target("fanz_process_memory_limit_bytes", "limit {{job}} {{instance}}"),
                    ),
                    min=0,
                    span=8,
                ),
                Panel(
                    "Scrape targets down",
                    _STAT,
                    Unit.COUNT,
                    (Target("count(up == 0) or vector(0)", "targets down"),),
                    thresholds=Thresholds(Color.GREEN, (Step(1, Color.RED),)),
                    span=8,
                ),
            ),
        ),
    ),
)

BUSINESS = Dashboard(
    uid="fanz-business",
    title="FANZ Platform - Business Metrics",
    description="Registrations, uploads, revenue and payments of the FANZ platforms.",
    tags=("fanz", "business", "revenue"),
    platform_variable=_PLATFORMS,
    rows=(
        Row(
            "Users and content",
            (
                Panel(
                    "Registrations per hour",
                    _TS,
                    Unit.COUNT,
                    (
                        Target(_rec(rec.REGISTRATIONS_HOURLY.name), "{{platform}}"),
                        Target(
                            f"sum by (platform) (increase(fanz_user_registrations_total{{{P}}}[1h] offset 1w))",
                            "{{platform}} same hour last week",
                        ),
                    ),
                    description="Compared with the same hour a week earlier, as the LowUserRegistrations alert does.",
                    min=0,
                ),
                Panel(
                    "Content uploads",
                    _TS,
                    Unit.EVENTS_PER_SECOND,
                    (
                        Target(
                            f"sum by (content_type) (rate(fanz_content_uploads_total{{{P}}}[5m]))",
                            "{{content_type}}",
                        ),
                    ),
                    min=0,
                ),
            ),
        ),
        Row(
            "Revenue and payments",
            (
                Panel(
                    "Revenue per hour",
                    _TS,
                    Unit.CURRENCY,
                    (Target(f"sum by (currency) (increase(fanz_revenue_total{{{P}}}[1h]))", "{{currency}}"),),
                    description="Completed payments only, one series per currency (currencies are never added up).",
                    min=0,
                ),
                Panel(
                    "Payment success rate",
                    _STAT,
                    Unit.RATIO,
                    (
                        Target(
                            f'sum(rate(fanz_payment_transactions_total{{status="completed",{P}}}[5m]))\n'
                            f"/ sum(rate(fanz_payment_transactions_total{{{P}}}[5m]))",
                            "success rate",
                        ),
                    ),
                    thresholds=Thresholds(Color.RED, (Step(0.9, Color.YELLOW), Step(0.95, Color.GREEN))),
                    min=0,
                    max=1,
                    span=6,
                ),
                Panel(
                    "Payment failure ratio",
                    _TS,
                    Unit.RATIO,
                    (Target(_rec(rec.PAYMENT_FAILURE_RATIO.name), "{{platform}}"),),
                    description="Processing failures (not declines) per platform: PaymentFailureRate's input.",
                    thresholds=Thresholds(Color.GREEN, (Step(biz.PAYMENT_FAILURE_RATIO, Color.RED),)),
                    min=0,
                    span=6,
                ),
            ),
        ),
    ),
)

DASHBOARDS = (CORE, BUSINESS)

"""Business intelligence for the creator economy: KPIs in SQL, period comparison, insights.

Reads the FANZ platform schema (``fanzwatch.schema``) on SQLite or PostgreSQL, keeps
incremental hourly rollups next to it, and serves reports through ``BiService``, the
JSON API (``build_router``), the CLI (``fanzwatch bi``) and Prometheus gauges
(``BiMetricsCollector``). See docs/bi.md.

>>> settings = BiSettings(database_url="sqlite:///platform.db")  # doctest: +SKIP
>>> parts = build_bi(settings, platforms=("fanz-1",), clock=SystemClock())  # doctest: +SKIP
>>> parts.service.report("24h").insights  # doctest: +SKIP
"""

from .api import build_router
from .build import BiComponents, build_bi
from .compare import change, compare, insights
from .kpis import KpiEngine
from .metrics import BiMetricsCollector
from .models import BiMetrics, BiReport, Change
from .refresh import RefreshResult, RollupRefresher, RollupStatus
from .rollup_tables import create_rollup_tables, drop_rollup_tables
from .runner import BiRunner
from .service import BiService, UnknownPlatformError
from .window import Window, WindowError, parse_duration

__all__ = [
    "BiComponents",
    "BiMetrics",
    "BiMetricsCollector",
    "BiReport",
    "BiRunner",
    "BiService",
    "Change",
    "KpiEngine",
    "RefreshResult",
    "RollupRefresher",
    "RollupStatus",
    "UnknownPlatformError",
    "Window",
    "WindowError",
    "build_bi",
    "build_router",
    "change",
    "compare",
    "create_rollup_tables",
    "drop_rollup_tables",
    "insights",
    "parse_duration",
]

"""History for the demo before its first page view: weeks of metrics, written the real way.

``backfill_metrics`` draws what the demo platform would have exposed under the simulator's
seasonal traffic (``model``), writes it as OpenMetrics (``openmetrics``) and has
``promtool`` turn it into TSDB blocks in Prometheus's data dir (``backfill``).
"""

from .backfill import DEFAULT_STEP_SECONDS, BackfillError, MetricsBackfill, backfill_metrics, find_promtool, time_grid
from .model import HistoryParams, PlatformHistory, Series

__all__ = [
    "DEFAULT_STEP_SECONDS",
    "BackfillError",
    "HistoryParams",
    "MetricsBackfill",
    "PlatformHistory",
    "Series",
    "backfill_metrics",
    "find_promtool",
    "time_grid",
]

"""The streaming anomaly engine over the Prometheus API, and what it needs around it.

Public pieces: ``AnomalyEngine`` (start/stop/tick/status), the watch-list, the Prometheus
and Alertmanager clients, and the analysis helpers the API and CLI share.
"""

from .alertmanager import ALERTNAME, SERVICE, AlertmanagerClient, AlertmanagerError, AnomalyAlert
from .analysis import AnalysisError, NoDataError, SeriesData, fetch_metric, forecast_report, insights_report
from .engine import AnomalyEngine, EngineState, EngineStatus, TickReport, default_detector_factory
from .episodes import Episode
from .prometheus import PrometheusClient, PrometheusQueryError, PrometheusUnavailableError, RangeSeries
from .watchlist import WatchedSignal, build_watchlist

__all__ = [
    "ALERTNAME",
    "SERVICE",
    "AlertmanagerClient",
    "AlertmanagerError",
    "AnalysisError",
    "AnomalyAlert",
    "AnomalyEngine",
    "EngineState",
    "EngineStatus",
    "Episode",
    "NoDataError",
    "PrometheusClient",
    "PrometheusQueryError",
    "PrometheusUnavailableError",
    "RangeSeries",
    "SeriesData",
    "TickReport",
    "WatchedSignal",
    "build_watchlist",
    "default_detector_factory",
    "fetch_metric",
    "forecast_report",
    "insights_report",
]

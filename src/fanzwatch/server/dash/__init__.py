"""FanzDash: the web UI of the fanzwatch server (Overview, Dashboards, Alerts, Anomalies,
RUM, BI, Health, Incidents and one incident's page), server-rendered, with uPlot charts drawn by ``static/fanzdash.js``.

It reads everything through ``DashSources``: Prometheus and Alertmanager over HTTP, the
server's features in process. See docs/fanzdash.md for wiring and configuration.
"""

from .alertmanager import HttpAlertmanager
from .errors import SourceError, SourceRejectedError, SourceUnavailableError
from .features import (
    EngineAnomalySource,
    RunnerHealthSource,
    ServiceBiSource,
    StoreRumSource,
)
from .history import HealthHistory
from .incidents import AlertingIncidentSource, IncidentMissingError
from .prometheus import HttpPrometheus
from .router import DEFAULT_PREFIX, build_dash_router
from .security import is_loopback
from .sources import (
    Alert,
    AlertmanagerSource,
    Analysis,
    AnomalySeries,
    AnomalySource,
    BiSource,
    DashSources,
    EngineView,
    HealthPoint,
    HealthSource,
    Incident,
    IncidentDetail,
    IncidentFilter,
    IncidentSource,
    Matcher,
    PrometheusSource,
    RumSource,
    Series,
    Silence,
    SilenceRequest,
)
from .wiring import build_dash_sources

__all__ = [
    "DEFAULT_PREFIX",
    "Alert",
    "AlertingIncidentSource",
    "AlertmanagerSource",
    "Analysis",
    "AnomalySeries",
    "AnomalySource",
    "BiSource",
    "DashSources",
    "EngineAnomalySource",
    "EngineView",
    "HealthHistory",
    "HealthPoint",
    "HealthSource",
    "HttpAlertmanager",
    "HttpPrometheus",
    "Incident",
    "IncidentDetail",
    "IncidentFilter",
    "IncidentMissingError",
    "IncidentSource",
    "Matcher",
    "PrometheusSource",
    "RumSource",
    "RunnerHealthSource",
    "Series",
    "ServiceBiSource",
    "Silence",
    "SilenceRequest",
    "SourceError",
    "SourceRejectedError",
    "SourceUnavailableError",
    "StoreRumSource",
    "build_dash_router",
    "build_dash_sources",
    "is_loopback",
]

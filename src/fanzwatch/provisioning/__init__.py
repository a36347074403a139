"""Prometheus, Alertmanager and Grafana configuration generated from Python definitions.

Alert rules, recording rules, routing and dashboards are typed definitions checked
against the metric catalog, rendered deterministically:

>>> from fanzwatch.settings.provisioning import ProvisioningSettings, StackTargets
>>> settings = ProvisioningSettings(targets=StackTargets(platforms=("127.0.0.1:8001",)))
>>> paths = render_all(settings, Path("out"))  # doctest: +SKIP

``fanzwatch render --out DIR`` does the same from the command line.
"""

from ..settings.provisioning import ProvisioningSettings, StackTargets
from .alertmanager import AlertmanagerConfig, InhibitRule, Matcher, Receiver, Route
from .dashboard import Dashboard, Panel, PanelKind, Row, Target, Thresholds, Unit
from .promql import check_expression, metric_names
from .render import Provisioning, build_provisioning, check_provisioning, render_all, render_files
from .rules import AlertRule, RecordingRule, RuleGroup
from .scrape import PrometheusConfig, ScrapeJob
from .tools import check_rendered

__all__ = [
    "AlertRule",
    "AlertmanagerConfig",
    "Dashboard",
    "InhibitRule",
    "Matcher",
    "Panel",
    "PanelKind",
    "PrometheusConfig",
    "Provisioning",
    "ProvisioningSettings",
    "Receiver",
    "RecordingRule",
    "Route",
    "Row",
    "RuleGroup",
    "ScrapeJob",
    "StackTargets",
    "Target",
    "Thresholds",
    "Unit",
    "build_provisioning",
    "check_expression",
    "check_provisioning",
    "check_rendered",
    "metric_names",
    "render_all",
    "render_files",
]

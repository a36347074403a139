"""Grafana renderer of the neutral dashboards, plus Grafana's provisioning files.

Built with grafana-foundation-sdk (Grafana's own generated types and builders, here the
11.6 schema): it writes current panel JSON (``timeseries``/``stat``, ``fieldConfig``
units and thresholds, ``schemaVersion`` 41) and lays panels out on the grid, so no
hand-kept dict can drift into the legacy ``graph``/``yAxes`` shape the guide used.
"""

from __future__ import annotations

import json
from typing import Any

from grafana_foundation_sdk.builders import dashboard as gd
from grafana_foundation_sdk.builders import stat as gstat
from grafana_foundation_sdk.builders import timeseries as gts
from grafana_foundation_sdk.builders.common import GraphThresholdsStyleConfig, ReduceDataOptions
from grafana_foundation_sdk.builders.prometheus import Dataquery
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.common import BigValueColorMode, BigValueGraphMode, GraphThresholdsStyleMode
from grafana_foundation_sdk.models.dashboard import (
    DataSourceRef,
    Threshold,
    ThresholdsMode,
    VariableRefresh,
    VariableSort,
)

from .dashboard import Dashboard, Panel, PanelKind, Thresholds, Unit

DATASOURCE_UID = "fanzwatch-prometheus"
DATASOURCE_NAME = "Prometheus (fanzwatch)"
_DATASOURCE = DataSourceRef(type_val="prometheus", uid="${datasource}")
_PANEL_HEIGHT = 8
GRAFANA_UNITS: dict[Unit, str] = {
    Unit.REQUESTS_PER_SECOND: "reqps",
    Unit.EVENTS_PER_SECOND: "cps",
    Unit.SECONDS: "s",
    Unit.RATIO: "percentunit",
    Unit.BYTES: "bytes",
    Unit.COUNT: "short",
    Unit.CURRENCY: "short",
}


def _thresholds(t: Thresholds) -> gd.ThresholdsConfig:
    steps = [Threshold(value=None, color=t.base.value)] + [
        Threshold(value=s.value, color=s.color.value) for s in t.steps
    ]
    return gd.ThresholdsConfig().mode(ThresholdsMode.ABSOLUTE).steps(steps)


def _panel(panel: Panel, panel_id: int) -> gts.Panel | gstat.Panel:
    built: gts.Panel | gstat.Panel
    if panel.kind is PanelKind.TIMESERIES:
        ts = gts.Panel()
        if panel.thresholds is not None:
            ts = ts.thresholds_style(GraphThresholdsStyleConfig().mode(GraphThresholdsStyleMode.LINE))
        built = ts
    else:
        built = (
            gstat.Panel()
            .reduce_options(ReduceDataOptions().calcs(["lastNotNull"]))
            .color_mode(BigValueColorMode.VALUE)
            .graph_mode(BigValueGraphMode.AREA)
        )
    built = (
        built.id(panel_id)
        .title(panel.title)
        .datasource(_DATASOURCE)
        .unit(GRAFANA_UNITS[panel.unit])
        .span(panel.span)
        .height(_PANEL_HEIGHT)
    )
    if panel.description:
        built = built.description(panel.description)
    if panel.min is not None:
        built = built.min(panel.min)
    if panel.max is not None:
        built = built.max(panel.max)
    if panel.thresholds is not None:
        built = built.thresholds(_thresholds(panel.thresholds))
    for index, target in enumerate(panel.targets):
        query = Dataquery().expr(target.expr).ref_id(chr(ord("A") + index)).datasource(_DATASOURCE).range()
        if target.legend:
            query = query.legend_format(target.legend)
        built = built.with_target(query)
    return built


def grafana_dashboard(dashboard: Dashboard) -> dict[str, Any]:
    """The Grafana dashboard JSON model (what a file provider loads) as a dict."""
    builder = (
        gd.Dashboard(dashboard.title)
        .uid(dashboard.uid)
        .description(dashboard.description)
        .tags(list(dashboard.tags))
        .refresh(dashboard.refresh)
        .time(dashboard.time_from, "now")
        .timezone("browser")
        .readonly()
        .with_variable(gd.DatasourceVariable("datasource").label("Data source").type("prometheus"))
    )
    if dashboard.platform_variable is not None:
        var = dashboard.platform_variable
        builder = builder.with_variable(
            gd.QueryVariable("platform")
            .label("Platform")
            .datasource(_DATASOURCE)
            .query(f"label_values({var.series}, {var.label})")
            .refresh(VariableRefresh.ON_TIME_RANGE_CHANGED)
            .sort(VariableSort.ALPHABETICAL_ASC)
            .multi(True)
            .include_all(True)
            .all_value(".+")
        )
    next_id = 1
    for row in dashboard.rows:
        builder = builder.with_row(gd.Row(row.title).id(next_id))
        next_id += 1
        for panel in row.panels:
            builder = builder.with_panel(_panel(panel, next_id))
            next_id += 1
    encoded: dict[str, Any] = json.loads(JSONEncoder(sort_keys=True).encode(builder.build()))
    # The SDK leaves the built-in annotation list empty; Grafana adds it on first save,
    # so add it here to keep provisioned dashboards unchanged by a UI visit.
    encoded["annotations"] = {
        "list": [
            {
                "builtIn": 1,
                "datasource": {"type": "grafana", "uid": "-- Grafana --"},
                "enable": True,
                "hide": True,
                "iconColor": "rgba(0, 211, 255, 1)",
                "name": "Annotations & Alerts",
                "type": "dashboard",
            }
        ]
    }
    return encoded


def grafana_datasource(prometheus_url: str, scrape_interval: str) -> dict[str, Any]:
    """``provisioning/datasources/fanzwatch.yml``: the Prometheus data source."""
    return {
        "apiVersion": 1,
        "datasources": [
            {
                "name": DATASOURCE_NAME,
                "uid": DATASOURCE_UID,
                "type": "prometheus",
                "access": "proxy",
                "url": prometheus_url,
                "isDefault": True,
                "editable": False,
                "jsonData": {"timeInterval": scrape_interval, "httpMethod": "POST"},
            }
        ],
    }


def grafana_dashboard_provider(dashboards_path: str) -> dict[str, Any]:
    """``provisioning/dashboards/fanzwatch.yml``: load the rendered dashboards from a folder."""
    return {
        "apiVersion": 1,
        "providers": [
            {
                "name": "fanzwatch",
                "orgId": 1,
                "folder": "FANZ",
                "type": "file",
                "disableDeletion": True,
                "allowUiUpdates": False,
                "updateIntervalSeconds": 60,
                "options": {"path": dashboards_path, "foldersFromFilesStructure": False},
            }
        ],
    }

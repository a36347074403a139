"""Grafana renderer of the neutral dashboards, plus Grafana's provisioning files.

Built with grafana-foundation-sdk (Grafana's own generated types and builders, here the
11.6 schema): it writes current panel JSON (``timeseries``/``stat``, ``fieldConfig``
units and thresholds, ``schemaVersion`` 41) and lays panels out on the grid, so no
hand-kept dict can drift into the legacy ``graph``/``yAxes`` shape the guide used.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

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
CLICKHOUSE_DATASOURCE_UID = "fanzwatch-clickhouse"
CLICKHOUSE_DATASOURCE_NAME = "ClickHouse traces and logs (fanzwatch)"
CLICKHOUSE_PLUGIN = "grafana-clickhouse-datasource"
OTEL_TRACES_TABLE = "otel_traces"
OTEL_LOGS_TABLE = "otel_logs"
"""The Collector exporter's tables, as ``fanzwatch.telemetry.schema`` names them (provisioning may not
import telemetry; tests/provisioning/test_grafana.py keeps the two equal)."""
OTEL_SCHEMA_VERSION = "1.29.0"
"""The plugin's built-in OTel column map (``src/otel.ts`` of grafana/clickhouse-datasource) for
``otel_logs`` with ``TimestampTime``: exporter v0.150 and earlier, as fanzwatch's schema is."""
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


def grafana_clickhouse_datasource(url: str, *, database: str, username: str, password_file: Path) -> dict[str, Any]:
    """The ClickHouse data source over the traces and logs tables (Grafana's ClickHouse plugin).

    ``http(s)://host[:port][/path]`` uses the plugin's ``http`` protocol (default ports 8123 and
    8443), ``clickhouse://`` or ``tcp://host[:port][?secure=true]`` the native one (9000, 9440 with
    TLS). The password is read by Grafana from ``password_file`` at provisioning time.
    """
    parts = urlsplit(url)
    http = parts.scheme in ("http", "https")
    secure = parts.scheme == "https" or parse_qs(parts.query).get("secure") == ["true"]
    default_port = {(True, False): 8123, (True, True): 8443, (False, False): 9000, (False, True): 9440}[(http, secure)]
    port = parts.port or default_port
    json_data: dict[str, Any] = {
        "host": parts.hostname,
        "port": port,
        "protocol": "http" if http else "native",
        "secure": secure,
        "username": username,
        "defaultDatabase": database,
        "logs": {
            "defaultDatabase": database,
            "defaultTable": OTEL_LOGS_TABLE,
            "otelEnabled": True,
            "otelVersion": OTEL_SCHEMA_VERSION,
        },
        "traces": {
            "defaultDatabase": database,
            "defaultTable": OTEL_TRACES_TABLE,
            "otelEnabled": True,
            "otelVersion": OTEL_SCHEMA_VERSION,
            "durationUnit": "nanoseconds",
            "traceTimestampTableSuffix": "_trace_id_ts",
        },
    }
    if http and parts.path.strip("/"):
        json_data["path"] = parts.path
    return {
        "name": CLICKHOUSE_DATASOURCE_NAME,
        "uid": CLICKHOUSE_DATASOURCE_UID,
        "type": CLICKHOUSE_PLUGIN,
        "editable": False,
        "jsonData": json_data,
        # Grafana expands $__file{} in provisioning values (pkg/services/provisioning/values: setting.ExpandVar).
        "secureJsonData": {"password": f"$__file{{{password_file}}}"},
    }

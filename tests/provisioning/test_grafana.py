"""The Grafana renderer: current panel JSON that says exactly what the neutral definitions say."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from fanzwatch.provisioning import grafana, render_files
from fanzwatch.provisioning.dashboard import Color, Dashboard, Panel, PanelKind, Row, Step, Target, Thresholds, Unit
from fanzwatch.provisioning.definitions.dashboards import BUSINESS, CORE, DASHBOARDS
from fanzwatch.telemetry import schema

from .conftest import make_settings


@pytest.fixture(scope="module")
def files() -> dict[str, bytes]:
    return render_files(make_settings())


def _dashboard(files: dict[str, bytes], uid: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(files[f"grafana/dashboards/{uid}.json"])
    return loaded


@pytest.mark.parametrize("dash", DASHBOARDS, ids=lambda d: d.uid)
def test_panels_are_current_grafana_and_mirror_the_definition(files: dict[str, bytes], dash: Dashboard) -> None:
    doc = _dashboard(files, dash.uid)
    assert (doc["uid"], doc["title"], doc["schemaVersion"]) == (dash.uid, dash.title, 41)
    text = json.dumps(doc)
    assert '"graph"' not in text and "yAxes" not in text
    rows = [p for p in doc["panels"] if p["type"] == "row"]
    panels = [p for p in doc["panels"] if p["type"] != "row"]
    assert [r["title"] for r in rows] == [r.title for r in dash.rows]
    assert len({p["id"] for p in doc["panels"]}) == len(doc["panels"])
    expected = list(dash.panels())
    assert [p["title"] for p in panels] == [p.title for p in expected]
    for got, want in zip(panels, expected, strict=True):
        assert got["type"] == want.kind.value
        assert got["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
        assert got["gridPos"]["w"] == want.span and got["gridPos"]["x"] + got["gridPos"]["w"] <= 24
        assert [(t["refId"], t["expr"], t.get("legendFormat", "")) for t in got["targets"]] == [
            (chr(ord("A") + i), t.expr, t.legend) for i, t in enumerate(want.targets)
        ]
        defaults = got["fieldConfig"]["defaults"]
        assert defaults.get("min") == want.min and defaults.get("max") == want.max


def test_units_thresholds_and_variables(files: dict[str, bytes]) -> None:
    core = _dashboard(files, "fanz-core")
    by_title = {p["title"]: p for p in core["panels"]}
    units = {title: p["fieldConfig"]["defaults"]["unit"] for title, p in by_title.items() if p["type"] != "row"}
    assert units == {
        "Request rate": "reqps",
        "Response time p95 / p50": "s",
        "Error ratio": "percentunit",
        "Active users": "short",
        "Database pool use": "percentunit",
        "Memory": "bytes",
        "Scrape targets down": "short",
    }
    assert by_title["Error ratio"]["fieldConfig"]["defaults"]["thresholds"] == {
        "mode": "absolute",
        "steps": [
            {"color": "green", "value": None},
            {"color": "yellow", "value": 0.01},
            {"color": "red", "value": 0.05},
        ],
    }
    variables = {v["name"]: v for v in core["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource" and variables["datasource"]["query"] == "prometheus"
    platform = variables["platform"]
    assert (platform["type"], platform["query"], platform["multi"], platform["includeAll"], platform["allValue"]) == (
        "query",
        "label_values(http_server_request_duration_seconds_count, platform)",
        True,
        True,
        ".+",
    )
    business = {p["title"]: p for p in _dashboard(files, "fanz-business")["panels"]}
    success = business["Payment success rate"]
    assert success["type"] == "stat"
    assert success["fieldConfig"]["defaults"]["thresholds"]["steps"] == [
        {"color": "red", "value": None},
        {"color": "yellow", "value": 0.9},
        {"color": "green", "value": 0.95},
    ]
    assert success["options"]["reduceOptions"]["calcs"] == ["lastNotNull"]
    assert success["targets"][0]["expr"] == (
        'sum(rate(fanz_payment_transactions_total{status="completed",platform=~"$platform"}[5m]))\n'
        '/ sum(rate(fanz_payment_transactions_total{platform=~"$platform"}[5m]))'
    )


def test_every_platform_split_query_uses_the_platform_variable() -> None:
    for dash in (CORE, BUSINESS):
        for panel, target in dash.targets():
            if "platform" in target.legend:
                assert 'platform=~"$platform"' in target.expr, (dash.uid, panel.title)


def test_grafana_provisioning_files(files: dict[str, bytes]) -> None:
    datasource = yaml.safe_load(files["grafana/provisioning/datasources/fanzwatch.yml"])
    assert datasource == {
        "apiVersion": 1,
        "datasources": [
            {
                "name": "Prometheus (fanzwatch)",
                "uid": "fanzwatch-prometheus",
                "type": "prometheus",
                "access": "proxy",
                "url": "http://127.0.0.1:9090",
                "isDefault": True,
                "editable": False,
                "jsonData": {"timeInterval": "15s", "httpMethod": "POST"},
            }
        ],
    }
    provider = yaml.safe_load(files["grafana/provisioning/dashboards/fanzwatch.yml"])
    assert provider["providers"][0]["options"] == {
        "path": "/var/lib/grafana/dashboards/fanzwatch",
        "foldersFromFilesStructure": False,
    }
    assert provider["providers"][0]["type"] == "file"


def test_a_clickhouse_url_adds_the_clickhouse_data_source_over_the_otel_tables(tmp_path: Path) -> None:
    settings = make_settings(
        clickhouse_url="https://ch.fanz.test:8443/query", clickhouse_username="grafana", secrets_dir=tmp_path
    )
    doc = yaml.safe_load(render_files(settings)["grafana/provisioning/datasources/fanzwatch.yml"])
    prometheus, clickhouse = doc["datasources"]
    assert prometheus["uid"] == "fanzwatch-prometheus" and prometheus["isDefault"] is True
    otel = {"otelEnabled": True, "otelVersion": "1.29.0"}
    assert clickhouse == {
        "name": "ClickHouse traces and logs (fanzwatch)",
        "uid": "fanzwatch-clickhouse",
        "type": "grafana-clickhouse-datasource",
        "editable": False,
        "jsonData": {
            "host": "ch.fanz.test",
            "port": 8443,
            "protocol": "http",
            "secure": True,
            "username": "grafana",
            "defaultDatabase": "otel",
            "path": "/query",
            "logs": {"defaultDatabase": "otel", "defaultTable": "otel_logs", **otel},
            "traces": {
                "defaultDatabase": "otel",
                "defaultTable": "otel_traces",
                **otel,
                "durationUnit": "nanoseconds",
                "traceTimestampTableSuffix": "_trace_id_ts",
            },
        },
        # Grafana reads the file when it provisions; the rendered file holds no secret.
        "secureJsonData": {"password": f"$__file{{{tmp_path / 'clickhouse_password'}}}"},
    }


@pytest.mark.parametrize(
    ("url", "protocol", "port", "secure"),
    [
        ("http://ch", "http", 8123, False),
        ("https://ch", "http", 8443, True),
        ("clickhouse://ch", "native", 9000, False),
        ("tcp://ch?secure=true", "native", 9440, True),
        ("clickhouse://10.0.0.7:19000", "native", 19000, False),
    ],
)
def test_the_clickhouse_url_picks_the_plugins_protocol_and_port(
    url: str, protocol: str, port: int, secure: bool
) -> None:
    rendered = render_files(make_settings(clickhouse_url=url))
    doc = yaml.safe_load(rendered["grafana/provisioning/datasources/fanzwatch.yml"])
    data = doc["datasources"][1]["jsonData"]
    assert (data["protocol"], data["port"], data["secure"]) == (protocol, port, secure)
    assert "path" not in data


@pytest.mark.parametrize(
    "url", ["postgres://ch:5432", "http://user:pw@ch:8123", "http://:8123", "http://ch:99999", "ch:8123"]
)
def test_a_bad_clickhouse_url_is_refused(url: str) -> None:
    with pytest.raises(ValidationError, match="clickhouse_url"):
        make_settings(clickhouse_url=url)


def test_the_data_source_names_the_stores_tables() -> None:
    assert (grafana.OTEL_TRACES_TABLE, grafana.OTEL_LOGS_TABLE) == (schema.TRACES_TABLE, schema.LOGS_TABLE)
    assert schema.TRACE_ID_TS_TABLE == schema.TRACES_TABLE + "_trace_id_ts"
    # The plugin's 1.2.9 column map filters logs on TimestampTime: our otel_logs has it.
    assert "TimestampTime DateTime DEFAULT toDateTime(Timestamp)" in schema.LOGS_DDL


def test_the_neutral_model_resolves_and_validates() -> None:
    target = Target('sum(fanz_active_users{platform=~"$platform"})', "users")
    assert target.resolve() == 'sum(fanz_active_users{platform=~".+"})'
    assert target.resolve(("fanz-1", "fanz-12")) == 'sum(fanz_active_users{platform=~"fanz-1|fanz-12"})'
    with pytest.raises(ValueError, match="not platform slugs"):
        target.resolve(('x"}) or vector(1', "fanz-1"))
    with pytest.raises(ValueError, match="strictly increasing"):
        Thresholds(Color.GREEN, (Step(2, Color.RED), Step(1, Color.YELLOW)))
    with pytest.raises(ValueError, match="no targets"):
        Panel("empty", PanelKind.STAT, Unit.COUNT, ())
    with pytest.raises(ValueError, match="span"):
        Panel("wide", PanelKind.STAT, Unit.COUNT, (target,), span=25)
    with pytest.raises(ValueError, match="uid"):
        Dashboard("Not A UID", "t", "d", (), (Row("r", ()),))

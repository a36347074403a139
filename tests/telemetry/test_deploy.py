"""deploy/: the Collector config and ClickHouse DDL, generated from the store's schema and checked
against the upstream components as far as this machine can (no otelcol binary, no ClickHouse server)."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from fanzwatch.cli import app
from fanzwatch.settings.telemetry_store import TelemetryStoreSettings
from fanzwatch.telemetry.deploy import (
    REPLICATED_ENGINE,
    DeployOptions,
    cluster_statements,
    collector_config,
    deploy_files,
    stale_files,
)
from fanzwatch.telemetry.schema import LOG_COLUMNS, LOGS_TABLE, TRACE_COLUMNS, TRACES_TABLE, table_statements

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"

# --- upstream facts, transcribed ------------------------------------------------------------
# Read 2026-12-04 from stored copies: opentelemetry-collector-contrib config.schema.yaml @fff7223e,
# sqltemplates traces_insert.sql @61540ced, logs_insert.sql @2cbebc60, traces_table.sql @f92a5763,
# logs_table.sql @e3bd2d1d; opentelemetry-collector @934999fb (2026-08-21); grafana/clickhouse-datasource
# @1d04063a (2026-08-20).
# open-telemetry/opentelemetry-collector-contrib, exporter/clickhouseexporter/internal/sqltemplates/
# traces_insert.sql and logs_insert.sql: the columns the exporter's INSERT names. logs_insert.sql adds
# EventName when detectSchemaFeatures (exporter_logs.go) finds that column in the table, as it does
# in ours; it runs with create_schema: false too.
EXPORTER_TRACE_INSERT = (
    "Timestamp", "TraceId", "SpanId", "ParentSpanId", "TraceState", "SpanName", "SpanKind", "ServiceName",
    "ResourceAttributes", "ScopeName", "ScopeVersion", "SpanAttributes", "Duration", "StatusCode",
    "StatusMessage", "Events.Timestamp", "Events.Name", "Events.Attributes", "Links.TraceId", "Links.SpanId",
    "Links.TraceState", "Links.Attributes",
)  # fmt: skip
EXPORTER_LOG_INSERT = (
    "Timestamp", "TraceId", "SpanId", "TraceFlags", "SeverityText", "SeverityNumber", "ServiceName", "Body",
    "ResourceSchemaUrl", "ResourceAttributes", "ScopeSchemaUrl", "ScopeName", "ScopeVersion", "ScopeAttributes",
    "LogAttributes", "EventName",
)  # fmt: skip
_MAP = "Map(LowCardinality(String), String)"
_LC = "LowCardinality(String)"
# The same directory's traces_table.sql and logs_table.sql: column → type (Nested flattened as
# ClickHouse reports it in system.columns). logs_table.sql here is the v0.150-and-earlier one with
# TimestampTime; v0.151.0 dropped that column (contrib PR #47720, per grafana/clickhouse-datasource
# docs/sources/configure.md and src/otel.ts) — its INSERT never named it, so both fit our table.
EXPORTER_TRACE_TYPES = {
    "Timestamp": "DateTime64(9)", "TraceId": "String", "SpanId": "String", "ParentSpanId": "String",
    "TraceState": "String", "SpanName": _LC, "SpanKind": _LC, "ServiceName": _LC, "ResourceAttributes": _MAP,
    "ScopeName": "String", "ScopeVersion": "String", "SpanAttributes": _MAP, "Duration": "UInt64",
    "StatusCode": _LC, "StatusMessage": "String", "Events.Timestamp": "Array(DateTime64(9))",
    "Events.Name": f"Array({_LC})", "Events.Attributes": f"Array({_MAP})", "Links.TraceId": "Array(String)",
    "Links.SpanId": "Array(String)", "Links.TraceState": "Array(String)", "Links.Attributes": f"Array({_MAP})",
}  # fmt: skip
EXPORTER_LOG_TYPES = {
    "Timestamp": "DateTime64(9)", "TimestampTime": "DateTime", "TraceId": "String", "SpanId": "String",
    "TraceFlags": "UInt8", "SeverityText": _LC, "SeverityNumber": "UInt8", "ServiceName": _LC, "Body": "String",
    "ResourceSchemaUrl": _LC, "ResourceAttributes": _MAP, "ScopeSchemaUrl": _LC, "ScopeName": "String",
    "ScopeVersion": _LC, "ScopeAttributes": _MAP, "LogAttributes": _MAP, "EventName": "String",
}  # fmt: skip
# The mapstructure keys of each component's config struct, as far as this config uses them.
_RETRY = {"enabled", "initial_interval", "max_interval", "max_elapsed_time", "multiplier", "randomization_factor"}
UPSTREAM_KEYS: dict[str, Any] = {
    # opentelemetry-collector receiver/otlpreceiver/config.go (Protocols: grpc = configgrpc.ServerConfig,
    # http = HTTPConfig{confighttp.ServerConfig squashed, traces/metrics/logs_url_path}); the endpoint
    # is confignet.AddrConfig's / TCPAddrConfig's `endpoint`.
    "receivers.otlp": {
        "protocols": {
            "grpc": {"endpoint", "transport", "tls", "max_recv_msg_size_mib"},
            "http": {"endpoint", "tls", "cors", "auth", "max_request_body_size", "traces_url_path", "logs_url_path"},
        }
    },
    # opentelemetry-collector internal/memorylimiter/config.go (processor/memorylimiterprocessor's Config).
    "processors.memory_limiter": {
        "check_interval",
        "limit_mib",
        "spike_limit_mib",
        "limit_percentage",
        "spike_limit_percentage",
        "min_gc_interval_when_soft_limited",
        "min_gc_interval_when_hard_limited",
    },
    # opentelemetry-collector processor/batchprocessor/config.go.
    "processors.batch": {
        "timeout",
        "send_batch_size",
        "send_batch_max_size",
        "metadata_keys",
        "metadata_cardinality_limit",
    },
    # opentelemetry-collector-contrib exporter/clickhouseexporter/config.schema.yaml (generated from
    # config.go), plus exporterhelper's timeout_config (`timeout`) and configretry's back_off_config
    # (config/configretry/generated_config.go in the core repository).
    "exporters.clickhouse": {
        "endpoint",
        "username",
        "password",
        "database",
        "connection_params",
        "logs_table_name",
        "traces_table_name",
        "metrics_tables",
        "ttl",
        "table_engine",
        "cluster_name",
        "create_schema",
        "async_insert",
        "compress",
        "tls",
        "sending_queue",
        "timeout",
        "retry_on_failure",
    },
}
UPSTREAM_NESTED = {"exporters.clickhouse.retry_on_failure": _RETRY}


def _unknown_keys(used: Any, allowed: Any, where: str) -> list[str]:
    if isinstance(allowed, set):
        return [f"{where}.{k}" for k in used if k not in allowed]
    out: list[str] = []
    for key, value in used.items():
        if key not in allowed:
            out.append(f"{where}.{key}")
        elif isinstance(value, dict):
            out += _unknown_keys(value, allowed[key], f"{where}.{key}")
    return out


def test_the_committed_deploy_files_are_the_generated_ones() -> None:
    files = deploy_files(DeployOptions())
    # deploy/ may hold more (compose, Helm); these two folders are generated whole.
    owned = [p for folder in ("otel-collector", "clickhouse") for p in (DEPLOY / folder).rglob("*")]
    on_disk = sorted(str(p.relative_to(DEPLOY)) for p in owned if p.is_file())
    assert on_disk == sorted(files), "deploy/ out of date: fanzwatch deploy-files --out deploy"
    for rel, content in files.items():
        assert (DEPLOY / rel).read_bytes() == content, f"deploy/{rel} differs: fanzwatch deploy-files --out deploy"


def test_the_files_keep_the_stores_default_retention() -> None:
    assert DeployOptions().ttl_days == TelemetryStoreSettings.model_fields["ttl_days"].default == 7
    config = collector_config(DeployOptions())
    assert config["exporters"]["clickhouse"]["ttl"] == "168h"
    for rel in ("clickhouse/schema.sql", "clickhouse/schema-cluster.sql"):
        text = deploy_files(DeployOptions()).get(rel, b"").decode()
        assert text.count("+ toIntervalDay(7)") == 3, rel  # traces, logs, the trace-id lookup
    assert "toIntervalDay(30)" in deploy_files(DeployOptions(ttl_days=30))["clickhouse/schema-cluster.sql"].decode()


def test_the_collector_config_uses_only_keys_of_the_upstream_component_configs() -> None:
    config = collector_config(DeployOptions())
    problems: list[str] = []
    for path, allowed in UPSTREAM_KEYS.items():
        kind, name = path.split(".")
        problems += _unknown_keys(config[kind][name], allowed, path)
    retry = config["exporters"]["clickhouse"]["retry_on_failure"]
    problems += _unknown_keys(retry, UPSTREAM_NESTED["exporters.clickhouse.retry_on_failure"], "retry_on_failure")
    assert problems == []
    assert set(config) == {"receivers", "processors", "exporters", "service"}
    assert {f"{k}.{n}" for k in ("receivers", "processors", "exporters") for n in config[k]} == set(UPSTREAM_KEYS)


def test_the_collector_config_is_wired_and_sane() -> None:
    config = collector_config(DeployOptions())
    pipelines = config["service"]["pipelines"]
    assert set(pipelines) == {"traces", "logs"}  # the exporter's metrics tables are not ours
    for pipeline in pipelines.values():
        assert pipeline["receivers"] == ["otlp"] and pipeline["exporters"] == ["clickhouse"]
        # memory_limiter first (upstream README), batch after it.
        assert pipeline["processors"] == ["memory_limiter", "batch"]
    # The Validate() rules of memorylimiter and batch (their config.go).
    limiter = config["processors"]["memory_limiter"]
    assert 0 < limiter["spike_limit_percentage"] < limiter["limit_percentage"] <= 100
    batch = config["processors"]["batch"]
    assert batch["send_batch_max_size"] >= batch["send_batch_size"] > 0
    exporter = config["exporters"]["clickhouse"]
    assert exporter["create_schema"] is False  # we ship the DDL
    assert (exporter["traces_table_name"], exporter["logs_table_name"]) == (TRACES_TABLE, LOGS_TABLE)
    assert exporter["database"] == "otel"
    secrets = {exporter[k] for k in ("endpoint", "username", "password")}
    assert secrets == {"${env:CLICKHOUSE_ENDPOINT}", "${env:CLICKHOUSE_USERNAME}", "${env:CLICKHOUSE_PASSWORD}"}
    assert yaml.safe_load(deploy_files(DeployOptions())["otel-collector/config.yaml"]) == config


def _statements(sql: bytes) -> list[str]:
    body = "\n".join(line for line in sql.decode().splitlines() if not line.startswith("--"))
    return [s.strip() for s in re.split(r";\s*(?:\n|$)", body) if s.strip()]


@pytest.fixture(scope="module")
def single_node(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """schema.sql executed statement by statement in a fresh chDB database."""
    from chdb import session

    opened: Any = session.Session(str(tmp_path_factory.mktemp("deploy") / "db"))
    for statement in _statements(deploy_files(DeployOptions())["clickhouse/schema.sql"]):
        opened.query(statement)
    yield opened
    opened.close()


def test_schema_sql_is_exactly_what_the_embedded_store_runs() -> None:
    assert _statements(deploy_files(DeployOptions())["clickhouse/schema.sql"]) == list(table_statements(ttl_days=7))


@pytest.mark.parametrize(
    ("table", "expected"), [(TRACES_TABLE, EXPORTER_TRACE_TYPES), (LOGS_TABLE, EXPORTER_LOG_TYPES)]
)
def test_the_tables_have_the_exporters_columns_and_types(
    single_node: Any, table: str, expected: dict[str, str]
) -> None:
    rows = single_node.query(
        f"SELECT name, type, default_kind FROM system.columns WHERE database = currentDatabase() "
        f"AND table = '{table}' ORDER BY position",
        "JSONEachRow",
    )
    columns = [json.loads(line) for line in rows.bytes().decode().splitlines()]
    ours = {c["name"]: c["type"] for c in columns if c["default_kind"] != "MATERIALIZED"}
    assert ours == expected
    extra = sorted(c["name"] for c in columns if c["default_kind"] == "MATERIALIZED")
    assert extra == (["HttpRoute", "Platform"] if table == TRACES_TABLE else ["Platform"])


def test_the_exporters_insert_column_lists_are_ours() -> None:
    assert TRACE_COLUMNS == EXPORTER_TRACE_INSERT
    assert LOG_COLUMNS == EXPORTER_LOG_INSERT


def test_an_insert_naming_the_exporters_columns_fits_and_fills_ours(single_node: Any) -> None:
    """The exporter's INSERT statements (column lists from upstream), one row each, read back."""
    now = time.time_ns()
    ts = f"{now // 10**9}.{now % 10**9:09d}"
    trace = "4bf92f3577b34da6a3ce929d0e0e4736"
    span_values = (
        f"('{ts}', '{trace}', '00f067aa0ba902b7', '', '', 'POST /tips', 'Server', 'fanz-platform', "
        "{'fanz.platform': 'fanz-1'}, 'fanzwatch', '1', {'http.route': '/tips', 'fanz.platform': 'fanz-3'}, "
        f"250000000, 'Error', 'declined', ['{ts}'], ['fraud.checked'], [{{'fraud.score': '0.93'}}], [], [], [], [])"
    )
    single_node.query(f"INSERT INTO {TRACES_TABLE} ({', '.join(EXPORTER_TRACE_INSERT)}) VALUES {span_values}")
    log_values = (
        f"('{ts}', '{trace}', '00f067aa0ba902b7', 1, 'ERROR', 17, 'fanz-platform', 'payment declined', '', "
        "{'fanz.platform': 'fanz-1'}, '', 'payments', '', {}, {'payment.id': 'p-1'}, '')"
    )
    single_node.query(f"INSERT INTO {LOGS_TABLE} ({', '.join(EXPORTER_LOG_INSERT)}) VALUES {log_values}")
    span = single_node.query(
        f"SELECT Platform, HttpRoute, Duration, toUnixTimestamp64Nano(Timestamp) AS ns FROM {TRACES_TABLE}", "CSV"
    )
    assert span.bytes().decode().strip() == f'"fanz-3","/tips",250000000,{now}'
    lookup = single_node.query(
        f"SELECT count() FROM otel_traces_trace_id_ts WHERE TraceId = '{trace}' AND Start <= End", "CSV"
    )
    assert lookup.bytes().decode().strip() == "1"
    log = single_node.query(f"SELECT Platform, TimestampTime = toDateTime(Timestamp), Body FROM {LOGS_TABLE}", "CSV")
    assert log.bytes().decode().strip() == '"fanz-1",1,"payment declined"'


def _format_query(db: Any, statement: str) -> str:
    # A query parameter's text is read in escaped (TSV) form: a raw newline would end it.
    escaped = statement.replace("\\", "\\\\").replace("\n", "\\n").replace("\t", "\\t")
    formatted: str = db.query("SELECT formatQuery({q:String})", "TSVRaw", params={"q": escaped}).bytes().decode()
    return formatted


def test_every_cluster_statement_parses_in_clickhouses_own_parser(single_node: Any) -> None:
    """No cluster runs here: chDB's parser (formatQuery) must accept each statement as written."""
    statements = _statements(deploy_files(DeployOptions())["clickhouse/schema-cluster.sql"])
    assert statements == cluster_statements(DeployOptions())
    for statement in statements:
        formatted = _format_query(single_node, statement)
        assert formatted.startswith("CREATE") and "ON CLUSTER fanzwatch" in formatted, statement[:60]
    logs = _format_query(single_node, statements[-2])
    assert "ENGINE = Distributed(fanzwatch, otel, otel_logs_local, rand())" in logs
    with pytest.raises(Exception, match=r"SYNTAX_ERROR|Syntax error"):
        _format_query(single_node, statements[1].replace("ENGINE =", "ENGINE = ("))


def test_the_cluster_has_replicated_local_tables_and_distributed_ones_under_the_exporters_names() -> None:
    statements = cluster_statements(DeployOptions(cluster="prod", database="obs"))
    assert statements[0] == "CREATE DATABASE IF NOT EXISTS obs ON CLUSTER prod"
    assert all(" ON CLUSTER prod" in s for s in statements)
    creates = {re.search(r"EXISTS (\S+)", s).group(1): s for s in statements[1:]}  # type: ignore[union-attr]
    for table in ("otel_traces", "otel_logs", "otel_traces_trace_id_ts"):
        assert (
            "ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')"
            in (creates[f"obs.{table}_local"])
        )
        assert f"AS obs.{table}_local\nENGINE = Distributed(prod, obs, {table}_local, " in creates[f"obs.{table}"]
    view = creates["obs.otel_traces_trace_id_ts_mv"]
    assert "TO obs.otel_traces_trace_id_ts_local" in view and "FROM obs.otel_traces_local" in view
    assert "cityHash64(TraceId)" in creates["obs.otel_traces"]
    # The local tables are the single-node tables, renamed: same columns, indexes, keys, TTL.
    single = table_statements(ttl_days=7)
    assert (
        creates["obs.otel_traces_local"]
        .split("(\n", 1)[1]
        .replace("ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')", "MergeTree()")
        == single[0].split("(\n", 1)[1]
    )


def test_the_cluster_local_tables_and_view_work_on_one_server_once_replication_is_taken_out(single_node: Any) -> None:
    """What runs without a Keeper: each local statement minus ON CLUSTER, on MergeTree, in its own database.
    The view must read the local spans and fill the local lookup (the Distributed tables need a cluster)."""
    options = DeployOptions(cluster="prod", database="obs")
    local = [
        s.replace(" ON CLUSTER prod", "").replace(REPLICATED_ENGINE, "MergeTree()")
        for s in cluster_statements(options)
        if "ENGINE = Distributed" not in s
    ]
    assert len(local) == 5  # database, three tables, the view
    for statement in local:
        single_node.query(statement)
    trace = "0af7651916cd43dd8448eb211c80319c"
    single_node.query(
        f"INSERT INTO obs.otel_traces_local ({', '.join(EXPORTER_TRACE_INSERT)}) VALUES "
        f"(now64(9), '{trace}', 'b7ad6b7169203331', '', '', 'GET /', 'Server', 'svc', {{}}, '', '', "
        "{'http.route': '/'}, 1000, 'Unset', '', [], [], [], [], [], [], [])"
    )
    found = single_node.query(
        f"SELECT (SELECT count() FROM obs.otel_traces_trace_id_ts_local WHERE TraceId = '{trace}'), "
        "(SELECT HttpRoute FROM obs.otel_traces_local)",
        "CSV",
    )
    assert found.bytes().decode().strip() == '1,"/"'


def test_options_refuse_names_that_would_break_the_sql() -> None:
    with pytest.raises(ValueError, match="letters, digits and underscores"):
        DeployOptions(cluster="prod; DROP TABLE x")
    with pytest.raises(ValueError, match="at least one day"):
        DeployOptions(ttl_days=0)


def test_the_command_writes_the_files_and_check_finds_drift(tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "deploy"
    result = runner.invoke(app, ["deploy-files", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert stale_files(DeployOptions(), out) == []
    assert runner.invoke(app, ["deploy-files", "--out", str(out), "--check"]).exit_code == 0
    (out / "clickhouse/schema.sql").write_text("-- edited\n")
    drift = runner.invoke(app, ["deploy-files", "--out", str(out), "--check"])
    assert drift.exit_code == 1 and "clickhouse/schema.sql" in drift.output
    other = runner.invoke(app, ["deploy-files", "--out", str(out), "--check", "--ttl-days", "3"])
    assert other.exit_code == 1 and "otel-collector/config.yaml" in other.output
    # the command it prints regenerates what was checked
    assert f"regenerate with: fanzwatch deploy-files --out {out} --ttl-days 3" in other.output
    assert "--database" not in other.output and "--cluster" not in other.output
    assert runner.invoke(app, ["deploy-files", "--out", str(out), "--cluster", "a-b"]).exit_code == 2

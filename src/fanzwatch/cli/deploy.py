"""``fanzwatch deploy-files``: the OTel Collector config and ClickHouse DDL of the scale column."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def deploy_files(
    out: Annotated[Path, typer.Option("--out", "-o", help="Directory to write into (created if missing).")] = Path(
        "deploy"
    ),
    ttl_days: Annotated[
        int | None,
        typer.Option(min=1, help="Retention of traces and logs in days [default: the store's, 7]."),
    ] = None,
    database: Annotated[str, typer.Option(help="ClickHouse database of the tables.")] = "otel",
    cluster: Annotated[str, typer.Option(help="ClickHouse cluster name (remote_servers) of schema-cluster.sql.")] = (
        "fanzwatch"
    ),
    check: Annotated[
        bool,
        typer.Option("--check", help="Write nothing; exit 1 if a file under --out is missing or differs."),
    ] = False,
) -> None:
    """Write otel-collector/config.yaml, clickhouse/schema.sql and clickhouse/schema-cluster.sql.

    All three come from the store's own schema (fanzwatch.telemetry.schema), so a Collector's
    ClickHouse exporter writes the tables fanzwatch reads: schema.sql is the MergeTree DDL the
    embedded store runs, schema-cluster.sql the ReplicatedMergeTree + Distributed variant
    (ON CLUSTER). The Collector takes CLICKHOUSE_ENDPOINT, CLICKHOUSE_USERNAME and
    CLICKHOUSE_PASSWORD from its environment. See docs/traces-logs.md, "At scale".
    """
    from ..telemetry.deploy import DEFAULT_TTL_DAYS, DeployOptions, stale_files, write_deploy_files

    try:
        options = DeployOptions(ttl_days=ttl_days or DEFAULT_TTL_DAYS, database=database, cluster=cluster)
    except ValueError as exc:
        typer.secho(f"error: {exc}", err=True, fg=typer.colors.RED)
        raise typer.Exit(2) from None
    if check:
        stale = stale_files(options, out)
        for rel in stale:
            typer.echo(f"differs or missing: {out / rel}")
        if stale:
            given = "".join(
                f" {flag} {value}"
                for flag, value, default in (
                    ("--ttl-days", ttl_days, None),
                    ("--database", database, "otel"),
                    ("--cluster", cluster, "fanzwatch"),
                )
                if value != default
            )
            typer.echo(f"regenerate with: fanzwatch deploy-files --out {out}{given}")
            raise typer.Exit(1)
        typer.echo(f"{out}: up to date")
        return
    try:
        written = write_deploy_files(options, out)
    except OSError as exc:
        typer.secho(f"error: cannot write to {out}: {exc.strerror or exc}", err=True, fg=typer.colors.RED)
        raise typer.Exit(2) from None
    for path in written:
        typer.echo(str(path))

"""``fanzwatch render``: write the Prometheus, Alertmanager and Grafana configuration."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from ..core import ConfigError, DependencyMissingError
from ..settings.provisioning import ProvisioningSettings
from ._common import load_settings

_TARGET = "HOST:PORT"


def render(
    out: Annotated[
        Path,
        typer.Option("--out", "-o", help="Directory to write into (created if missing).", show_default=False),
    ],
    fanzwatch: Annotated[
        str | None,
        typer.Option(
            metavar=_TARGET, help="The fanzwatch server, scraped and the alert webhook (default: 127.0.0.1:8900)."
        ),
    ] = None,
    prometheus: Annotated[
        str | None, typer.Option(metavar=_TARGET, help="Prometheus itself (default: 127.0.0.1:9090).")
    ] = None,
    alertmanager: Annotated[
        str | None, typer.Option(metavar=_TARGET, help="Alertmanager (default: 127.0.0.1:9093).")
    ] = None,
    platform: Annotated[
        list[str] | None, typer.Option(metavar=_TARGET, help="A FANZ platform service; repeat for several.")
    ] = None,
    payment_processor: Annotated[
        list[str] | None, typer.Option(metavar=_TARGET, help="A payment processor exporter; repeatable.")
    ] = None,
    node_exporter: Annotated[
        list[str] | None, typer.Option(metavar=_TARGET, help="A node_exporter; repeatable (default: 127.0.0.1:9100).")
    ] = None,
    scrape_interval: Annotated[
        str | None, typer.Option(help="Scrape interval, e.g. 15s, 1s, 500ms (default: 15s).")
    ] = None,
    evaluation_interval: Annotated[str | None, typer.Option(help="Rule evaluation interval (default: 15s).")] = None,
    runbook_base_url: Annotated[
        str | None, typer.Option(help="Base of runbook_url annotations (default: http://<fanzwatch>/runbooks).")
    ] = None,
    slo_file: Annotated[
        list[Path] | None,
        typer.Option(
            metavar="FILE", help="An OpenSLO v1 YAML file whose SLOs are rendered too (docs/slos.md); repeatable."
        ),
    ] = None,
    clickhouse_url: Annotated[
        str | None,
        typer.Option(
            metavar="URL",
            help="Also provision Grafana's ClickHouse data source over otel_traces/otel_logs: http(s)://host:8123 "
            "or clickhouse://host:9000 (password from <secrets_dir>/clickhouse_password; default: none).",
        ),
    ] = None,
    check: Annotated[
        bool, typer.Option("--check/--no-check", help="Validate the output with promtool and amtool.")
    ] = False,
) -> None:
    """Render prometheus.yml, rules/ (with one file per SLO), alertmanager.yml and Grafana dashboards + provisioning.

    Values not given here come from FANZWATCH_PROVISIONING_* variables
    (e.g. FANZWATCH_PROVISIONING_TARGETS__FANZWATCH=10.0.0.5:8900), then the defaults.
    Secrets are never written: Alertmanager reads them from files in
    FANZWATCH_PROVISIONING_SECRETS_DIR (slack_api_url, pagerduty_routing_key,
    smtp_password, webhook_token).
    """
    from ..provisioning import check_rendered, render_all

    base = load_settings(ProvisioningSettings)
    targets: dict[str, Any] = base.targets.model_dump()
    for key, value in {
        "fanzwatch": fanzwatch,
        "prometheus": prometheus,
        "alertmanager": alertmanager,
        "platforms": tuple(platform) if platform else None,
        "payment_processor": tuple(payment_processor) if payment_processor else None,
        "node_exporter": tuple(node_exporter) if node_exporter else None,
    }.items():
        if value is not None:
            targets[key] = value
    overrides: dict[str, Any] = {
        k: v
        for k, v in {
            "scrape_interval": scrape_interval,
            "evaluation_interval": evaluation_interval,
            "runbook_base_url": runbook_base_url,
            "slo_files": tuple(slo_file) if slo_file else None,
            "clickhouse_url": clickhouse_url,
        }.items()
        if v is not None
    }
    settings = load_settings(lambda: ProvisioningSettings(targets=targets, **overrides))
    try:
        written = render_all(settings, out)
        if check:
            check_rendered(out)
    except (ConfigError, DependencyMissingError) as exc:
        typer.secho(f"error: {exc}", err=True, fg=typer.colors.RED)
        raise typer.Exit(2) from None
    except OSError as exc:
        typer.secho(f"error: cannot write to {out}: {exc.strerror or exc}", err=True, fg=typer.colors.RED)
        raise typer.Exit(2) from None
    for path in written:
        typer.echo(str(path))
    typer.echo(
        f"rendered {len(written)} files into {out}"
        + (" (checked with promtool, amtool and blackbox_exporter)" if check else "")
    )

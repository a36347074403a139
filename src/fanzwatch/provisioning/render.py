"""Build every definition from settings and render them to the files a deployment needs.

``render_files`` is pure (settings in, ``{relative path: bytes}`` out) and refuses to
render an expression that does not parse or names a metric outside the catalog;
``render_all`` writes the files and removes rendered files it no longer produces.

Layout of the output directory::

    prometheus.yml                      rule_files point at rules/ (relative)
    rules/<group>.yml                   recording and alert rules
    alertmanager.yml
    blackbox.yml                        blackbox_exporter's modules (the probes' scrape jobs are in prometheus.yml)
    grafana/dashboards/<uid>.json
    grafana/provisioning/datasources/fanzwatch.yml   Prometheus; ClickHouse too when clickhouse_url is set
    grafana/provisioning/dashboards/fanzwatch.yml
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from ..core import ConfigError
from ..settings.provisioning import CLICKHOUSE_PASSWORD_FILE, ProvisioningSettings, check_rate_window
from ._output import GENERATED, prom_duration, to_json, to_yaml
from .alertmanager import AlertmanagerConfig
from .blackbox import Probe, blackbox_config, probe_jobs
from .dashboard import Dashboard
from .definitions.alerts_anomaly import ANOMALY
from .definitions.alerts_business import BUSINESS, business_group
from .definitions.alerts_health import HEALTH
from .definitions.alerts_infra import INFRASTRUCTURE
from .definitions.alerts_probes import PROBES
from .definitions.alerts_service import SERVICE, service_group
from .definitions.alerts_telemetry import TELEMETRY
from .definitions.dashboards import DASHBOARDS
from .definitions.jobs import VIEWER_TOKEN_FILE, scrape_jobs
from .definitions.probes import probes
from .definitions.recording import RECORDING, recording_group
from .definitions.routing import alertmanager_config
from .definitions.slos import SLOS
from .grafana import grafana_clickhouse_datasource, grafana_dashboard, grafana_dashboard_provider, grafana_datasource
from .openslo import load_openslo_files
from .promql import check_expression
from .rules import AlertRule, RuleGroup
from .scrape import PrometheusConfig
from .slo import SLO
from .slo_rules import slo_rule_group

RULE_GROUPS: tuple[RuleGroup, ...] = (
    RECORDING,
    SERVICE,
    BUSINESS,
    INFRASTRUCTURE,
    HEALTH,
    ANOMALY,
    PROBES,
    TELEMETRY,
)
"""The rule groups with the default 5-minute rate window."""
_OWNED_GLOBS = ("rules/*.yml", "grafana/dashboards/*.json")


@dataclass(frozen=True, slots=True)
class Provisioning:
    """Everything fanzwatch provisions, as typed definitions (before rendering)."""

    prometheus: PrometheusConfig
    rule_groups: tuple[RuleGroup, ...]
    alertmanager: AlertmanagerConfig
    dashboards: tuple[Dashboard, ...]
    probes: tuple[Probe, ...] = ()

    def alert_rules(self) -> tuple[AlertRule, ...]:
        return tuple(rule for group in self.rule_groups for rule in group.alerts())

    def expressions(self) -> list[tuple[str, str]]:
        """``(where, expr)`` for every PromQL expression in rules and dashboards."""
        out: list[tuple[str, str]] = []
        for group in self.rule_groups:
            for rule in group.rules:
                name = rule.name if isinstance(rule, AlertRule) else rule.record
                out.append((f"rules/{group.file}.yml: {name}", rule.expr))
        for dash in self.dashboards:
            for panel, target in dash.targets():
                out.append((f"dashboard {dash.uid}: {panel.title}", target.resolve()))
            if dash.platform_variable is not None:
                out.append((f"dashboard {dash.uid}: $platform", dash.platform_variable.series))
        return out


def slos(settings: ProvisioningSettings) -> tuple[SLO, ...]:
    """The built-in SLOs and those of ``settings.slo_files``; two SLOs may not share an id."""
    out = SLOS + load_openslo_files(settings.slo_files)
    seen: set[str] = set()
    for slo in out:
        if slo.id in seen:
            raise ConfigError(f"two SLOs have the id {slo.id!r} (service-name); rename one", setting="slo_files")
        seen.add(slo.id)
    return out


def rule_groups(settings: ProvisioningSettings) -> tuple[RuleGroup, ...]:
    """The rule groups, their short-term rates over ``settings.rate_window``, then one group per SLO."""
    window = settings.rate_window
    return (
        recording_group(window),
        service_group(window),
        business_group(window),
        INFRASTRUCTURE,
        HEALTH,
        ANOMALY,
        PROBES,
        TELEMETRY,
        *(slo_rule_group(slo) for slo in slos(settings)),
    )


def build_provisioning(settings: ProvisioningSettings) -> Provisioning:
    """The definitions for a stack described by ``settings``."""
    # Checked here as well as in the settings: model_copy(update=...) skips validators.
    try:
        check_rate_window(settings.rate_window, settings.scrape_interval)
    except ValueError as exc:
        raise ConfigError(str(exc), setting="rate_window") from None
    groups = rule_groups(settings)
    synthetic = probes(settings)
    return Provisioning(
        prometheus=PrometheusConfig(
            scrape_interval=settings.scrape_interval,
            evaluation_interval=settings.evaluation_interval,
            rule_files=tuple(f"rules/{g.file}.yml" for g in groups),
            alertmanagers=(settings.targets.alertmanager,),
            jobs=scrape_jobs(
                settings.targets,
                fanzwatch_token_file=str(settings.secrets_dir / VIEWER_TOKEN_FILE) if settings.scrape_token else None,
            ),
            probe_jobs=probe_jobs(synthetic, settings.targets.blackbox, scrape_interval=settings.scrape_interval),
        ),
        rule_groups=groups,
        alertmanager=alertmanager_config(settings, slos(settings)),
        dashboards=DASHBOARDS,
        probes=synthetic,
    )


def check_provisioning(provisioning: Provisioning) -> list[str]:
    """Every problem with every expression, as ``where: message`` lines."""
    return [f"{where}: {problem}" for where, expr in provisioning.expressions() for problem in check_expression(expr)]


SLO_MIN_INTERVAL = timedelta(seconds=10)
"""The SLO groups' evaluation interval under demo pacing (1 s elsewhere): each re-sums its windows
(up to a calendar month of steps) at every evaluation, and a dozen SLOs per platform at 1 s kept a
2-core Prometheus minutes behind, so every alert came late. Production pacing (15 s) is unchanged."""


def render_files(settings: ProvisioningSettings) -> dict[str, bytes]:
    """Every rendered file by its path relative to the output directory."""
    provisioning = build_provisioning(settings)
    problems = check_provisioning(provisioning)
    if problems:
        raise ConfigError("invalid PromQL in the provisioning definitions:\n  " + "\n  ".join(problems))
    runbooks = settings.resolved_runbook_base_url
    files: dict[str, bytes] = {"prometheus.yml": to_yaml(provisioning.prometheus.to_dict(), header=GENERATED)}
    for group in provisioning.rule_groups:
        if group.file.startswith("slo-") and settings.evaluation_interval < SLO_MIN_INTERVAL:
            group = dataclasses.replace(group, interval=SLO_MIN_INTERVAL)
        doc = {"groups": [group.to_dict(runbook_base_url=runbooks, for_scale=settings.for_scale)]}
        files[f"rules/{group.file}.yml"] = to_yaml(doc, header=GENERATED)
    files["alertmanager.yml"] = to_yaml(provisioning.alertmanager.to_dict(), header=GENERATED)
    files["blackbox.yml"] = to_yaml(blackbox_config(provisioning.probes), header=GENERATED)
    for dash in provisioning.dashboards:
        files[f"grafana/dashboards/{dash.uid}.json"] = to_json(grafana_dashboard(dash))
    datasources = grafana_datasource(f"http://{settings.targets.prometheus}", prom_duration(settings.scrape_interval))
    if settings.clickhouse_url is not None:
        datasources["datasources"].append(
            grafana_clickhouse_datasource(
                settings.clickhouse_url,
                database=settings.clickhouse_database,
                username=settings.clickhouse_username,
                password_file=settings.secrets_dir / CLICKHOUSE_PASSWORD_FILE,
            )
        )
    files["grafana/provisioning/datasources/fanzwatch.yml"] = to_yaml(datasources, header=GENERATED)
    files["grafana/provisioning/dashboards/fanzwatch.yml"] = to_yaml(
        grafana_dashboard_provider(settings.grafana_dashboards_path), header=GENERATED
    )
    return files


def render_all(settings: ProvisioningSettings, out_dir: Path) -> list[Path]:
    """Write every file under ``out_dir`` and return their paths, sorted.

    Files are replaced atomically (write, then rename), so a Prometheus reloading
    mid-render never reads half a file. Rule and dashboard files left from an earlier
    render that this one no longer produces are removed; nothing else is touched.
    """
    files = render_files(settings)
    if out_dir.exists() and not out_dir.is_dir():
        raise ConfigError(f"{out_dir} exists and is not a directory", setting="out")
    written: list[Path] = []
    for rel, content in sorted(files.items()):
        path = out_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_bytes(content)
        os.replace(tmp, path)
        written.append(path)
    keep = set(written)
    for pattern in _OWNED_GLOBS:
        for stale in out_dir.glob(pattern):
            if stale not in keep:
                stale.unlink()
    return written

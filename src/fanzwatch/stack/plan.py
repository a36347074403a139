"""What ``fanzwatch up`` runs: the rendered configuration and one ``ChildSpec`` per process.

Pure functions of the settings (no process is started here), so the plan can be tested
and printed before anything runs.

Data directory layout (a second run reuses every part of it)::

    config/            rendered provisioning: prometheus.yml, rules/, alertmanager.yml, blackbox.yml
    prometheus/        Prometheus TSDB
    alertmanager/      Alertmanager silences and notification log
    fanzwatch.db       the server's store
    telemetry/         traces and logs (chDB, owned by the telemetry_store child)
    otlp-spool/        OTLP batches a stopping server could not hand to the store (replayed on start)
    demo/              platform.db and objects/ (uploaded content) of the demo platform,
                       notifications.jsonl (what the demo's sinks received)
    secrets/           files Alertmanager reads secrets from (slack_api_url, ...), role tokens,
                       rum_synthetic_key (the demo's browser sessions), otlp_token (what services send
                       to /v1/traces and /v1/logs), telemetry_store_token (server → store process)
    logs/<child>.log   each child's output, appended run after run
    stack.json         PIDs and URLs of the running stack (removed on stop)
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from ..provisioning import ProvisioningSettings, StackTargets
from ..server.security import ROLE_TOKEN_FILES, WEBHOOK_TOKEN_FILE
from ..settings.demo import DemoSettings
from ..settings.stack import StackSettings
from ..settings.telemetry_store import OTLP_TOKEN_FILE, TELEMETRY_STORE_TOKEN_FILE
from .binaries import Binaries
from .demo_alerting import demo_alerting_config
from .ports import check_port_plan
from .supervisor import ChildSpec

SHORT = timedelta(seconds=1)
DEMO_RATE_WINDOW = timedelta(seconds=60)
"""The rules' rate window of the demo at short intervals: long enough for the volume
guards (10 payment attempts per window) on the larger platforms at any hour, short
enough that an alert fires and resolves within about a minute of the fault."""
DEMO_ANOMALY_WARMUP_SECONDS = 420
"""The anomaly engine's warm-up in the demo: the stack's start-up until traffic runs (~1-2 min),
then the 5 minutes active users are counted over (the longest window of a watched signal)."""
# Channels whose secret file must exist before Alertmanager is told to use them.
SECRET_OF_CHANNEL = {"slack": "slack_api_url", "pagerduty": "pagerduty_routing_key"}
RUM_SYNTHETIC_KEY_FILE = "rum_synthetic_key"
"""The demo's browser sessions send it; the server's RUM ingestion lets them past bot detection."""
OTLP_ENDPOINT_VARIABLES = (
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "FANZWATCH_TELEMETRY_OTLP_ENDPOINT",
    "FANZWATCH_TELEMETRY_OTLP_TRACES_ENDPOINT",
)


def fanzwatch_argv(*args: str) -> tuple[str, ...]:
    """Run a ``fanzwatch`` sub-command with this interpreter (the venv's, whatever PATH says)."""
    return (
        sys.executable,
        "-c",
        "import sys; sys.argv[0] = 'fanzwatch'; from fanzwatch.cli import main; main()",
        *args,
    )


@dataclass(frozen=True, slots=True)
class StackPaths:
    root: Path

    @property
    def config(self) -> Path:
        return self.root / "config"

    @property
    def prometheus(self) -> Path:
        return self.root / "prometheus"

    @property
    def alertmanager(self) -> Path:
        return self.root / "alertmanager"

    @property
    def demo(self) -> Path:
        return self.root / "demo"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def state_file(self) -> Path:
        return self.root / "stack.json"

    @property
    def lock_file(self) -> Path:
        return self.root / ".lock"


def port_plan(stack: StackSettings, demo: DemoSettings | None) -> dict[str, int]:
    """Every port the stack will listen on, by service (clashes and 9090 misuse refused)."""
    ports = {
        "prometheus": stack.prometheus_port,
        "alertmanager": stack.alertmanager_port,
        "node_exporter": stack.node_exporter_port,
        "blackbox": stack.blackbox_port,
        "server": stack.server_port,
        "telemetry_store": stack.telemetry_store_port,
    }
    if demo is not None:
        ports |= {"platform": demo.platform_port, "processor": demo.processor_port}
        ports |= {"sinks": demo.sinks_port, "smtp": demo.smtp_port, "prober": demo.prober_port}
        if demo.traffic:
            ports["simulator"] = demo.simulator_port
    check_port_plan(ports)
    return ports


def _addr(stack: StackSettings, port: int) -> str:
    host = f"[{stack.host}]" if ":" in stack.host else stack.host
    return f"{host}:{port}"


def blackbox_required(stack: StackSettings, base: ProvisioningSettings | None = None) -> bool:
    """Whether the stack cannot start without blackbox_exporter: when its probes are asked for
    explicitly (``probes=true``, a ``blackbox_exporter_binary``, or probe URLs or a DNS resolver
    in the provisioning settings). Otherwise a missing binary only turns the probes off."""
    if stack.probes is not None:
        return stack.probes
    if stack.blackbox_exporter_binary is not None:
        return True
    return base is not None and bool(base.probe_urls or base.probe_dns_server)


def provisioning_settings(
    stack: StackSettings, demo: DemoSettings | None, base: ProvisioningSettings | None = None, *, probes: bool = True
) -> ProvisioningSettings:
    """The provisioning for this stack: its targets and pace on top of ``base`` (env settings).

    Slack and PagerDuty are used only when their secret file exists in the secrets dir
    (Alertmanager would otherwise fail every notification); e-mail only when configured
    explicitly (there is no SMTP server on a laptop). ``base``'s extra webhooks are kept.
    Short intervals also shorten the rules' rate windows (30 s; 60 s with the demo, see
    ``DEMO_RATE_WINDOW``), so an alert resolves within about that long after the cause is
    fixed, not 5 minutes. Without ``probes`` (no blackbox_exporter runs) the rendered config
    has no probe jobs.
    """
    base = base or ProvisioningSettings()
    secrets = stack.resolved_secrets_dir
    update: dict[str, object] = {
        "targets": StackTargets(
            fanzwatch=_addr(stack, stack.server_port),
            prometheus=_addr(stack, stack.prometheus_port),
            alertmanager=_addr(stack, stack.alertmanager_port),
            platforms=(_addr(stack, demo.platform_port),) if demo is not None else (),
            payment_processor=(_addr(stack, demo.processor_port),) if demo is not None else (),
            node_exporter=(_addr(stack, stack.node_exporter_port),),
            blackbox=_addr(stack, stack.blackbox_port) if probes else None,
            journey_probers=(_addr(stack, demo.prober_port),) if demo is not None else (),
        ),
        "probe_platforms": tuple(demo.platforms) if demo is not None else base.probe_platforms,
        "secrets_dir": secrets.resolve(),
        "for_scale": stack.resolved_for_scale,
        "slack": base.slack and (secrets / SECRET_OF_CHANNEL["slack"]).is_file(),
        "pagerduty": base.pagerduty and (secrets / SECRET_OF_CHANNEL["pagerduty"]).is_file(),
        "email": base.email and "email" in base.model_fields_set,
        # The server's alert webhook always checks a bearer token (written by the runner).
        "webhook_token": True,
    }
    if stack.short_intervals:
        update |= {
            "scrape_interval": SHORT,
            "evaluation_interval": SHORT,
            "group_wait": SHORT,
            "group_interval": SHORT,
        }
    if stack.short_intervals and stack.rate_window is None and demo is not None:
        update["rate_window"] = DEMO_RATE_WINDOW
    elif stack.resolved_rate_window is not None:
        update["rate_window"] = stack.resolved_rate_window
    return base.model_copy(update=update)


def _url(stack: StackSettings, port: int, path: str = "") -> str:
    return f"http://{_addr(stack, port)}{path}"


def demo_database_url(demo: DemoSettings, paths: StackPaths) -> str:
    """The demo platform's database: the configured URL or a SQLite file in the data dir."""
    return demo.database_url or f"sqlite:///{paths.demo / 'platform.db'}"


def alerting_config(stack: StackSettings, demo: DemoSettings | None) -> dict[str, object]:
    """The server's alerting configuration (written to ``config/alerting.yml``).

    The webhook token is the file Alertmanager sends from. With the demo: the on-call
    people, rotations and channels delivering to the demo's sinks, and the
    payment-failover playbook, run for real unless ``demo.remediation_dry_run``
    (see ``demo_alerting``).
    """
    config: dict[str, object] = {
        "webhook_token": {"file": str(stack.resolved_secrets_dir.resolve() / WEBHOOK_TOKEN_FILE)},
    }
    if demo is not None:
        config |= demo_alerting_config(
            server_url=_url(stack, stack.server_port),
            platform_url=_url(stack, demo.platform_port),
            sinks_url=_url(stack, demo.sinks_port),
            smtp_host=stack.host,
            smtp_port=demo.smtp_port,
            dry_run=demo.remediation_dry_run,
            short_intervals=stack.short_intervals,
        )
    return config


def otlp_env(stack: StackSettings) -> dict[str, str]:
    """How the stack's instrumented children (server, demo services) find the OTLP receiver.

    ``fanzwatch.sdk`` reads these (``TelemetrySettings``): traces and logs go to the server's
    ``/v1/traces`` and ``/v1/logs`` with the bearer token of ``<secrets_dir>/otlp_token``.
    Nothing is added when an OTLP endpoint is configured in the environment already (that
    one wins, e.g. a Collector), or when this stack runs no server to receive them.
    """
    if not stack.run_server or any(os.environ.get(v) for v in OTLP_ENDPOINT_VARIABLES):
        return {}
    return {
        "FANZWATCH_TELEMETRY_OTLP_ENDPOINT": _url(stack, stack.server_port),
        "FANZWATCH_TELEMETRY_OTLP_TOKEN_FILE": str(stack.resolved_secrets_dir.resolve() / OTLP_TOKEN_FILE),
    }


def server_env(stack: StackSettings, demo: DemoSettings | None, paths: StackPaths) -> dict[str, str]:
    """Environment for the fanzwatch server child: where Prometheus and Alertmanager are and,
    with the demo, which dependencies to health-check and which origin may post RUM beacons.

    A value the user set in the environment wins (the supervisor only adds missing ones).
    The role tokens are the files the runner generated in the secrets dir (Prometheus
    scrapes with the viewer one), unless the user configured that role's token.
    """
    secrets = stack.resolved_secrets_dir.resolve()
    env = {
        **otlp_env(stack),  # the server traces itself to its own receiver (which it leaves untraced)
        "FANZWATCH_ALERTING_CONFIG_FILE": str(paths.config / "alerting.yml"),
        "FANZWATCH_ANOMALY_PROMETHEUS_URL": _url(stack, stack.prometheus_port),
        "FANZWATCH_ANOMALY_ALERTMANAGER_URL": _url(stack, stack.alertmanager_port),
        "FANZWATCH_DASH_PROMETHEUS_URL": _url(stack, stack.prometheus_port),
        "FANZWATCH_DASH_ALERTMANAGER_URL": _url(stack, stack.alertmanager_port),
        "FANZWATCH_TELEMETRY_STORE_URL": _url(stack, stack.telemetry_store_port),
        "FANZWATCH_TELEMETRY_STORE_TOKEN_FILE": str(secrets / TELEMETRY_STORE_TOKEN_FILE),
        "FANZWATCH_OTLP_TOKEN_FILE": str(secrets / OTLP_TOKEN_FILE),  # what the receiver checks
    }
    for role, filename in ROLE_TOKEN_FILES.items():
        variable = f"FANZWATCH_AUTH_{role.upper()}_TOKEN"
        if variable not in os.environ:
            env[f"{variable}_FILE"] = str(secrets / filename)
    if demo is not None and stack.short_intervals:
        # Demo pacing of the anomaly engine: the same 1-minute points, read 10 s behind the
        # 1 s scrape and judged every 15 s, so an anomaly shows within a few minutes.
        env["FANZWATCH_ANOMALY_INTERVAL_SECONDS"] = "15"
        env["FANZWATCH_ANOMALY_QUERY_DELAY_SECONDS"] = "10"
    if demo is not None and demo.traffic:
        # The simulated traffic starts with the stack: the first minutes' rates and active-user
        # counts refill their windows (a ramp, judged against the backfilled history, would page).
        env["FANZWATCH_ANOMALY_WARMUP_SECONDS"] = str(DEMO_ANOMALY_WARMUP_SECONDS)
    if demo is not None:
        env["FANZWATCH_RUM_ALLOWED_ORIGINS"] = json.dumps([_url(stack, demo.platform_port)])
        env["FANZWATCH_RUM_SYNTHETIC_KEY_FILE"] = str(secrets / RUM_SYNTHETIC_KEY_FILE)
        env["FANZWATCH_BI_DATABASE_URL"] = demo_database_url(demo, paths)  # BI reads the demo's data
        objects = str(paths.demo / "objects")
        env["FANZWATCH_HEALTH_CHECKS"] = json.dumps(
            [
                {"kind": "sql", "name": "platform_db", "url": demo_database_url(demo, paths)},
                {
                    "kind": "http",
                    "name": "payment_processor",
                    "url": _url(stack, demo.processor_port, "/health"),
                    "slow_after_seconds": 1.0,
                },
                {"kind": "storage", "name": "media_storage", "store": {"type": "local", "directory": objects}},
                {"kind": "disk", "name": "disk", "paths": [str(paths.root), objects], "critical": False},
                {"kind": "memory", "name": "memory", "critical": False},
            ]
        )
    return {k: v for k, v in env.items() if k not in os.environ}


def core_children(
    stack: StackSettings,
    binaries: Binaries,
    paths: StackPaths,
    *,
    env: Mapping[str, str] | None = None,
    retention: str | None = None,
) -> list[ChildSpec]:
    """Prometheus, Alertmanager, node_exporter, the telemetry store and the fanzwatch server (with ``env``).

    ``retention`` overrides the settings' TSDB retention (the demo keeps its history).
    """
    prom, am = stack.prometheus_port, stack.alertmanager_port
    children = [
        ChildSpec(
            "node_exporter",
            (str(binaries.node_exporter), f"--web.listen-address={_addr(stack, stack.node_exporter_port)}"),
            ready_url=_url(stack, stack.node_exporter_port, "/"),
            url=_url(stack, stack.node_exporter_port, "/metrics"),
        ),
        ChildSpec(
            "alertmanager",
            (
                str(binaries.alertmanager),
                f"--config.file={paths.config / 'alertmanager.yml'}",
                f"--storage.path={paths.alertmanager}",
                f"--web.listen-address={_addr(stack, am)}",
                f"--web.external-url={_url(stack, am)}",
                "--cluster.listen-address=",  # one instance: no gossip port
            ),
            ready_url=_url(stack, am, "/-/ready"),
            url=_url(stack, am),
        ),
        ChildSpec(
            "prometheus",
            (
                str(binaries.prometheus),
                f"--config.file={paths.config / 'prometheus.yml'}",
                f"--storage.tsdb.path={paths.prometheus}",
                f"--storage.tsdb.retention.time={retention or stack.prometheus_retention}",
                f"--web.listen-address={_addr(stack, prom)}",
                f"--web.external-url={_url(stack, prom)}",
                "--web.enable-lifecycle",  # POST /-/reload after a re-render
            ),
            ready_url=_url(stack, prom, "/-/ready"),
            url=_url(stack, prom),
        ),
        ChildSpec(
            "telemetry_store",  # owns the chDB database of traces and logs; the server flushes into it on stop
            fanzwatch_argv(
                "telemetry-store",
                "--host",
                stack.host,
                "--port",
                str(stack.telemetry_store_port),
                "--data-dir",
                str(stack.data_dir),
            ),
            ready_url=_url(stack, stack.telemetry_store_port, "/health"),
            url=_url(stack, stack.telemetry_store_port),
            env={
                "FANZWATCH_TELEMETRY_STORE_TOKEN_FILE": str(
                    stack.resolved_secrets_dir.resolve() / TELEMETRY_STORE_TOKEN_FILE
                )
            },
            stop_last=True,
        ),
        ChildSpec(
            "server",
            fanzwatch_argv(
                "serve", "--host", stack.host, "--port", str(stack.server_port), "--data-dir", str(stack.data_dir)
            ),
            ready_url=_url(stack, stack.server_port, "/health/live"),
            url=_url(stack, stack.server_port),
            env=dict(env or {}),
        ),
    ]
    return children if stack.run_server else [c for c in children if c.name != "server"]


def probe_children(
    stack: StackSettings, binaries: Binaries, paths: StackPaths, demo: DemoSettings | None = None
) -> list[ChildSpec]:
    """The synthetic probes: blackbox_exporter (``config/blackbox.yml``; Prometheus scrapes
    every probe through it) and, with the demo, the journey prober on every demo platform.

    No blackbox_exporter when the binaries have none (not found, not required) or ``probes``
    is off; the journey prober is fanzwatch's own and runs all the same.
    Started once every service is ready, so a stack's own start-up is not an outage
    counted against the probe SLO.
    """
    children = []
    if binaries.blackbox_exporter is not None and stack.probes is not False:
        children.append(
            ChildSpec(
                "blackbox",
                (
                    str(binaries.blackbox_exporter),
                    f"--config.file={paths.config / 'blackbox.yml'}",
                    f"--web.listen-address={_addr(stack, stack.blackbox_port)}",
                ),
                ready_url=_url(stack, stack.blackbox_port, "/-/healthy"),
                url=_url(stack, stack.blackbox_port),
            )
        )
    if demo is not None:
        children.append(
            ChildSpec(
                "prober",  # the money journey, walked like a fan (fanzwatch probe journey)
                fanzwatch_argv(
                    "probe",
                    "journey",
                    "--platform-url",
                    _url(stack, demo.platform_port),
                    "--platforms",
                    ",".join(demo.platforms),
                    "--location",
                    "local",
                    "--interval",
                    str(demo.prober_interval_seconds),
                    "--host",
                    stack.host,
                    "--port",
                    str(demo.prober_port),
                ),
                ready_url=_url(stack, demo.prober_port, "/metrics"),
                url=_url(stack, demo.prober_port, "/metrics"),
            )
        )
    return children


def demo_children(
    stack: StackSettings, demo: DemoSettings, paths: StackPaths
) -> tuple[list[ChildSpec], list[ChildSpec]]:
    """(services, traffic): the processor and platform first, the simulator once they are ready."""
    processor_url = _url(stack, demo.processor_port)
    platform_url = _url(stack, demo.platform_port)
    database = demo_database_url(demo, paths)
    seed = ("--seed", str(demo.seed)) if demo.seed is not None else ()
    otlp = otlp_env(stack)  # traces and logs of the payment flow go to the server's receiver
    services = [
        ChildSpec(
            "processor",
            fanzwatch_argv("demo", "processor", "--host", stack.host, "--port", str(demo.processor_port), *seed),
            ready_url=f"{processor_url}/health",
            url=processor_url,
            env=otlp,
        ),
        ChildSpec(
            "platform",
            fanzwatch_argv(
                "demo",
                "platform",
                "--host",
                stack.host,
                "--port",
                str(demo.platform_port),
                "--database-url",
                database,
                "--storage-dir",
                str(paths.demo / "objects"),
                "--processor-url",
                processor_url,
                "--platforms",
                ",".join(demo.platforms),
                "--rum-script-url",
                _url(stack, stack.server_port, "/rum/fanz-rum.js"),
            ),
            ready_url=f"{platform_url}/health/ready",
            url=f"{platform_url}/p/{demo.platforms[0]}/",
            env=otlp,
        ),
    ]
    services.append(
        ChildSpec(
            "notifications",  # the demo's Slack, PagerDuty and SMTP sinks, and their page
            fanzwatch_argv(
                "demo",
                "sinks",
                "--host",
                stack.host,
                "--port",
                str(demo.sinks_port),
                "--smtp-port",
                str(demo.smtp_port),
                "--log-file",
                str(paths.demo / "notifications.jsonl"),
            ),
            ready_url=_url(stack, demo.sinks_port, "/health"),
            url=_url(stack, demo.sinks_port, "/"),
        )
    )
    traffic: list[ChildSpec] = []
    if demo.traffic:
        traffic.append(
            ChildSpec(
                "simulator",
                fanzwatch_argv(
                    "demo",
                    "simulate",
                    "--platform-url",
                    platform_url,
                    "--platforms",
                    ",".join(demo.platforms),
                    "--host",
                    stack.host,
                    "--port",
                    str(demo.simulator_port),
                    "--peak-rps",
                    str(demo.peak_rps),
                    "--day-seconds",
                    str(demo.day_seconds),
                    "--max-requests",
                    str(demo.max_requests),
                    "--max-duration",
                    str(demo.max_duration_seconds),
                    *seed,
                ),
                ready_url=_url(stack, demo.simulator_port, "/health"),
                url=_url(stack, demo.simulator_port, "/status"),
                finite=True,
            )
        )
    if demo.browser_sessions:
        traffic.append(
            ChildSpec(
                "browser",  # headless Chromium sessions: RUM's real beacons
                fanzwatch_argv(
                    "demo",
                    "browse",
                    "--platform-url",
                    platform_url,
                    "--synthetic-key-file",
                    str(stack.resolved_secrets_dir.resolve() / RUM_SYNTHETIC_KEY_FILE),
                    "--platforms",
                    ",".join(demo.platforms),
                    "--interval",
                    str(demo.browser_interval_seconds),
                    "--max-duration",
                    str(demo.max_duration_seconds),
                    *seed,
                ),
                finite=True,
            )
        )
    return services, traffic

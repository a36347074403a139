"""The stack runner without the demo: plan, rendering, failures at start and later, locks, ports."""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
import textwrap
from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from fanzwatch.core import ConfigError, DependencyMissingError
from fanzwatch.core.models import Priority
from fanzwatch.provisioning import ProvisioningSettings, render_files
from fanzwatch.settings.alerting import AlertingSettings
from fanzwatch.settings.demo import DemoSettings
from fanzwatch.settings.health import HealthSettings
from fanzwatch.settings.provisioning import ExtraWebhook
from fanzwatch.settings.stack import StackSettings
from fanzwatch.stack import (
    INSTALL_HINT,
    Binaries,
    ChildFailedError,
    ChildSpec,
    Stack,
    StackError,
    fanzwatch_argv,
    find_binaries,
    group_alive,
    port_plan,
    provisioning_settings,
)
from fanzwatch.stack.plan import (
    OTLP_ENDPOINT_VARIABLES,
    WEBHOOK_TOKEN_FILE,
    StackPaths,
    alerting_config,
    demo_children,
    otlp_env,
    server_env,
)

from .conftest import STACK_PORTS, free_ports


def _settings(tmp_path: Path, ports: dict[str, int], **extra: object) -> StackSettings:
    return StackSettings(
        data_dir=tmp_path / "data",
        prometheus_port=ports["prometheus"],
        alertmanager_port=ports["alertmanager"],
        node_exporter_port=ports["node_exporter"],
        blackbox_port=ports["blackbox"],
        server_port=ports["server"],
        telemetry_store_port=ports["telemetry_store"],
        stop_grace_seconds=3,
        startup_timeout_seconds=30,
        **extra,  # type: ignore[arg-type]
    )


def _script(path: Path, body: str) -> Path:
    path.write_text(f"#!{sys.executable}\n" + textwrap.dedent(body))
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


FAKE_NODE_EXPORTER = """
import http.server, sys, threading, time
addr = [a for a in sys.argv if a.startswith("--web.listen-address=")][0].split("=", 1)[1]
host, port = addr.rsplit(":", 1)
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.end_headers()
    def log_message(self, *a): pass
server = http.server.HTTPServer((host, int(port)), H)
threading.Thread(target=server.serve_forever, daemon=True).start()
time.sleep({lifetime})
print("simulated crash: out of file descriptors", flush=True)
sys.exit(3)
"""


def _real_binaries(node_exporter: Path | None = None) -> Binaries:
    real = find_binaries()
    return Binaries(real.prometheus, real.alertmanager, node_exporter or real.node_exporter, real.blackbox_exporter)


# --- plan and rendering ---------------------------------------------------------------------


def test_port_plan_refuses_clashes_and_9090(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"two services share a port \(8900: server and platform\)"):
        port_plan(StackSettings(data_dir=tmp_path), DemoSettings(platform_port=8900))
    with pytest.raises(ConfigError, match="port 9090 is Prometheus's port; move server elsewhere"):
        port_plan(StackSettings(data_dir=tmp_path, server_port=9090, prometheus_port=9091), None)
    assert port_plan(
        StackSettings(data_dir=tmp_path, blackbox_port=9115), DemoSettings(traffic=False, prober_port=8340)
    ) == {
        "prometheus": 9090,
        "alertmanager": 9093,
        "node_exporter": 9100,
        "blackbox": 9115,
        "server": 8900,
        "telemetry_store": 8911,
        "platform": 8300,
        "processor": 8310,
        "sinks": 8330,
        "prober": 8340,
        "smtp": 8325,
    }


def test_stack_binds_loopback_only(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="loopback only"):
        StackSettings(data_dir=tmp_path, host="0.0.0.0")


def test_provisioning_for_short_intervals_and_channels(tmp_path: Path) -> None:
    stack = StackSettings(data_dir=tmp_path, short_intervals=True, server_port=8901)
    hook = ExtraWebhook(url="http://127.0.0.1:8999/hook", bearer_token_file=Path("hook_token"))
    base = ProvisioningSettings(slack=True, pagerduty=True, email=True, extra_webhooks=(hook,))
    p = provisioning_settings(stack, DemoSettings(platform_port=8301, processor_port=8311), base)
    assert (p.scrape_interval, p.evaluation_interval, p.group_wait, p.group_interval) == (timedelta(seconds=1),) * 4
    assert p.for_scale == 0.02
    assert p.rate_window == timedelta(seconds=60)  # the demo's: volume guards need a minute of traffic
    assert provisioning_settings(stack, None, base).rate_window == timedelta(seconds=30)  # short, no demo
    assert p.extra_webhooks == (hook,)
    assert p.resolved_extra_webhooks == (
        ("http://127.0.0.1:8999/hook", str((tmp_path / "secrets/hook_token").resolve())),
    )
    assert p.targets.fanzwatch == "127.0.0.1:8901"
    assert p.targets.platforms == ("127.0.0.1:8301",)
    assert p.targets.payment_processor == ("127.0.0.1:8311",)
    assert p.secrets_dir == (tmp_path / "secrets").resolve()
    # No secret files yet: Slack and PagerDuty stay off; e-mail was asked for explicitly.
    assert (p.slack, p.pagerduty, p.email) == (False, False, True)
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "slack_api_url").write_text("http://127.0.0.1:1/hook")
    p = provisioning_settings(StackSettings(data_dir=tmp_path), None, ProvisioningSettings())
    assert (p.slack, p.pagerduty, p.email) == (True, False, False)
    assert (p.scrape_interval, p.for_scale, p.targets.platforms) == (timedelta(seconds=15), 1.0, ())
    assert (p.rate_window, p.extra_webhooks, p.targets.payment_processor) == (timedelta(minutes=5), (), ())
    # An explicit window wins over both paces; a window too short for the scrape fails the render.
    explicit = StackSettings(data_dir=tmp_path, short_intervals=True, rate_window="10s")
    assert provisioning_settings(explicit, None, ProvisioningSettings()).rate_window == timedelta(seconds=10)
    too_short = StackSettings(data_dir=tmp_path, short_intervals=True, rate_window="2s")
    with pytest.raises(ConfigError, match="rate_window 2s must be at least 4 scrape intervals"):
        render_files(provisioning_settings(too_short, None, ProvisioningSettings()))


def test_the_rendered_configuration_passes_promtool_and_amtool(tmp_path: Path) -> None:
    stack = Stack(StackSettings(data_dir=tmp_path, short_intervals=True), demo=DemoSettings())
    stack._render()
    config = tmp_path / "config"
    prom = yaml.safe_load((config / "prometheus.yml").read_text())
    assert prom["global"]["scrape_interval"] == "1s"
    jobs = {j["job_name"]: j["static_configs"][0]["targets"] for j in prom["scrape_configs"]}
    assert jobs["fanz-platform"] == ["127.0.0.1:8300"]
    assert jobs["node"] == ["127.0.0.1:9100"]
    promtool = subprocess.run(["promtool", "check", "config", str(config / "prometheus.yml")], capture_output=True)
    assert promtool.returncode == 0, promtool.stdout + promtool.stderr
    amtool = subprocess.run(["amtool", "check-config", str(config / "alertmanager.yml")], capture_output=True)
    assert amtool.returncode == 0, amtool.stdout + amtool.stderr


def test_children_run_this_interpreter() -> None:
    result = subprocess.run(fanzwatch_argv("version"), capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.strip() == __import__("fanzwatch").__version__


def test_missing_binaries_are_named_with_the_install_command(tmp_path: Path) -> None:
    with pytest.raises(DependencyMissingError) as info:
        find_binaries(search_path=str(tmp_path))
    message = str(info.value)
    for name in ("prometheus", "alertmanager", "node_exporter", "blackbox_exporter"):
        assert name in message
    assert INSTALL_HINT in message
    assert (
        "apt-get install prometheus prometheus-alertmanager prometheus-node-exporter prometheus-blackbox-exporter"
        in INSTALL_HINT
    )
    debian = ("prometheus", "prometheus-alertmanager", "prometheus-node-exporter", "prometheus-blackbox-exporter")
    for name in debian:  # Debian's names
        _script(tmp_path / name, "")
    found = find_binaries(search_path=str(tmp_path))
    assert (found.alertmanager.name, found.node_exporter.name, found.blackbox_exporter.name) == debian[1:]


# --- running --------------------------------------------------------------------------------


@pytest.fixture
def ports() -> dict[str, int]:
    return dict(zip(STACK_PORTS, free_ports(len(STACK_PORTS)), strict=True))


@pytest.mark.prometheus
def test_a_child_failing_at_start_stops_everything(tmp_path: Path, ports: dict[str, int]) -> None:
    broken = _script(
        tmp_path / "node_exporter", 'print("listen tcp: bind: address already in use"); raise SystemExit(1)'
    )
    events: list[str] = []
    stack = Stack(_settings(tmp_path, ports, run_server=False), binaries=_real_binaries(broken), on_event=events.append)
    with pytest.raises(ChildFailedError) as info:
        stack.start()
    assert info.value.name == "node_exporter"
    assert "exited during start-up (exit code 1)" in str(info.value)
    assert "bind: address already in use" in str(info.value)
    started = {c.name: c.pid for c in stack.supervisor.children}
    # Prometheus waits for its targets, the probes for everything
    assert set(started) == {"telemetry_store", "node_exporter", "alertmanager"}
    assert not any(group_alive(pid) for pid in started.values())
    assert not (tmp_path / "data" / "stack.json").exists()


@pytest.mark.prometheus
@pytest.mark.slow
def test_a_child_dying_later_is_reported_and_ends_the_watch(tmp_path: Path, ports: dict[str, int]) -> None:
    fragile = _script(tmp_path / "node_exporter", FAKE_NODE_EXPORTER.format(lifetime=2.0))
    events: list[str] = []
    stack = Stack(
        _settings(tmp_path, ports, run_server=False), binaries=_real_binaries(fragile), on_event=events.append
    )
    with stack:
        assert (tmp_path / "data" / "stack.json").exists()
        assert stack.watch() == 1
    died = next(e for e in events if "stopped unexpectedly" in e)
    assert "node_exporter stopped unexpectedly (exit code 3)" in died
    assert "simulated crash: out of file descriptors" in died
    assert events[-1].startswith("stopping") or "stopping" in " ".join(events)
    assert not any(group_alive(c.pid) for c in stack.supervisor.children)


def test_a_finite_child_finishing_is_not_a_failure(tmp_path: Path) -> None:
    events: list[str] = []
    stack = Stack(StackSettings(data_dir=tmp_path), on_event=events.append)
    finished: list[str] = []
    stack.supervisor.start(ChildSpec("simulator", (sys.executable, "-c", "pass"), finite=True))
    crashing = stack.supervisor.start(
        ChildSpec("platform", (sys.executable, "-c", "import time; time.sleep(1); raise SystemExit(4)"))
    )
    assert stack.watch(on_finished=lambda c: finished.append(c.name)) == 1
    assert finished == ["simulator"]
    assert any("simulator finished (its budget is spent)" in e for e in events)
    assert crashing.returncode() == 4
    stack.stop()


def test_busy_ports_are_named_before_anything_starts(tmp_path: Path, ports: dict[str, int]) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", ports["alertmanager"]))
        squatter.listen()
        stack = Stack(_settings(tmp_path, ports), binaries=_real_binaries())
        with pytest.raises(StackError, match=f"already in use on 127.0.0.1: alertmanager port {ports['alertmanager']}"):
            stack.start()
    assert stack.supervisor.children == ()


def test_one_stack_per_data_dir(tmp_path: Path, ports: dict[str, int]) -> None:
    first = Stack(_settings(tmp_path, ports), binaries=_real_binaries())
    first._take_lock()
    try:
        second = Stack(_settings(tmp_path, ports), binaries=_real_binaries())
        with pytest.raises(StackError, match=rf"another `fanzwatch up` \(pid {os.getpid()}\) is using"):
            second.start()
    finally:
        first.stop()
    again = Stack(_settings(tmp_path, ports), binaries=_real_binaries())
    again._take_lock()  # released by stop()
    again.stop()


def test_server_env_points_the_server_at_the_stack_and_the_demo(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key in (
        "ALERTING_CONFIG_FILE",
        "RUM_ALLOWED_ORIGINS",
        "HEALTH_CHECKS",
        "ANOMALY_PROMETHEUS_URL",
        "ANOMALY_ALERTMANAGER_URL",
        "TELEMETRY_STORE_URL",
        "TELEMETRY_STORE_TOKEN_FILE",
        "OTLP_TOKEN_FILE",
    ):
        monkeypatch.delenv(f"FANZWATCH_{key}", raising=False)
    for variable in OTLP_ENDPOINT_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    stack = StackSettings(data_dir=tmp_path, prometheus_port=19090, alertmanager_port=19093)
    paths = StackPaths(tmp_path)
    core = {
        "FANZWATCH_ALERTING_CONFIG_FILE": str(tmp_path / "config" / "alerting.yml"),
        "FANZWATCH_ANOMALY_PROMETHEUS_URL": "http://127.0.0.1:19090",
        "FANZWATCH_ANOMALY_ALERTMANAGER_URL": "http://127.0.0.1:19093",
        "FANZWATCH_DASH_PROMETHEUS_URL": "http://127.0.0.1:19090",
        "FANZWATCH_DASH_ALERTMANAGER_URL": "http://127.0.0.1:19093",
        # The server traces itself to its own OTLP receiver.
        "FANZWATCH_TELEMETRY_OTLP_ENDPOINT": f"http://127.0.0.1:{stack.server_port}",
        "FANZWATCH_TELEMETRY_OTLP_TOKEN_FILE": str(tmp_path.resolve() / "secrets" / "otlp_token"),
        # The trace and log store child, and the token it shares with the server.
        "FANZWATCH_TELEMETRY_STORE_URL": "http://127.0.0.1:8911",
        "FANZWATCH_TELEMETRY_STORE_TOKEN_FILE": str(tmp_path.resolve() / "secrets" / "telemetry_store_token"),
        "FANZWATCH_OTLP_TOKEN_FILE": str(tmp_path.resolve() / "secrets" / "otlp_token"),
        # The role tokens the runner generates (Prometheus scrapes with the viewer one).
        **{
            f"FANZWATCH_AUTH_{role.upper()}_TOKEN_FILE": str(tmp_path.resolve() / "secrets" / f"{role}_token")
            for role in ("viewer", "responder", "admin")
        },
    }
    assert server_env(stack, None, paths) == core
    env = server_env(stack, DemoSettings(platform_port=8301, processor_port=8311), paths)
    assert env["FANZWATCH_RUM_ALLOWED_ORIGINS"] == '["http://127.0.0.1:8301"]'
    assert env["FANZWATCH_BI_DATABASE_URL"] == f"sqlite:///{tmp_path / 'demo' / 'platform.db'}"
    checks = HealthSettings.model_validate({"checks": json.loads(env["FANZWATCH_HEALTH_CHECKS"])}).checks
    assert [c.name for c in checks] == ["platform_db", "payment_processor", "media_storage", "disk", "memory"]
    assert [c.critical for c in checks] == [True, True, True, False, False]
    assert json.loads(env["FANZWATCH_HEALTH_CHECKS"])[1]["url"] == "http://127.0.0.1:8311/health"
    monkeypatch.setenv("FANZWATCH_RUM_ALLOWED_ORIGINS", '["https://fanz.example"]')
    assert "FANZWATCH_RUM_ALLOWED_ORIGINS" not in server_env(stack, DemoSettings(), paths)  # the user's choice wins


def test_instrumented_children_send_to_the_receiver_unless_an_endpoint_is_configured(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for variable in OTLP_ENDPOINT_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    stack = StackSettings(data_dir=tmp_path, server_port=18000)
    expected = {
        "FANZWATCH_TELEMETRY_OTLP_ENDPOINT": "http://127.0.0.1:18000",
        "FANZWATCH_TELEMETRY_OTLP_TOKEN_FILE": str(tmp_path.resolve() / "secrets" / "otlp_token"),
    }
    assert otlp_env(stack) == expected
    services, _traffic = demo_children(stack, DemoSettings(), StackPaths(tmp_path))
    by_name = {spec.name: spec for spec in services}
    assert by_name["platform"].env == expected
    assert by_name["processor"].env == expected
    assert by_name["notifications"].env == {}
    assert otlp_env(stack.model_copy(update={"run_server": False})) == {}  # no server: no receiver
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318")  # the user's choice wins
    assert otlp_env(stack) == {}
    assert "FANZWATCH_TELEMETRY_OTLP_ENDPOINT" not in server_env(stack, None, StackPaths(tmp_path))


def test_alerting_config_notifies_people_and_fails_over_for_real_in_the_demo(tmp_path: Path) -> None:
    stack = StackSettings(data_dir=tmp_path)
    token = stack.resolved_secrets_dir / WEBHOOK_TOKEN_FILE
    token.parent.mkdir(parents=True)
    token.write_text("s3cret")
    demo = DemoSettings(platform_port=8301, sinks_port=8331, smtp_port=8326)
    settings = AlertingSettings(**alerting_config(stack, demo))
    assert settings.webhook_token is not None
    assert settings.remediation.dry_run is False
    (playbook,) = settings.remediation.playbooks
    assert (playbook.name, playbook.dry_run) == ("payment-failover", False)
    assert playbook.action.kind == "payment_failover"
    assert playbook.action.platform_url == "http://127.0.0.1:8301"
    # Somebody is on call for every priority, reached through the demo's sinks.
    channels = {c.name: c for c in settings.channels}
    assert {c.kind for c in channels.values()} == {"slack", "pagerduty", "email"}
    assert channels["demo-slack"].url.read("slack").startswith("http://127.0.0.1:8331/slack/services/")
    assert channels["demo-pagerduty"].url == "http://127.0.0.1:8331/pagerduty/v2/enqueue"
    assert (channels["demo-email"].host, channels["demo-email"].port) == ("127.0.0.1", 8326)
    for priority in Priority:
        steps = settings.steps_for(priority)
        assert [s.name for s in steps] == ["primary", "secondary", "engineering-lead", "stakeholders"]
    assert settings.external_url == "http://127.0.0.1:8900"
    assert settings.hold_down == timedelta(minutes=2)  # production pace keeps the default
    quick = AlertingSettings(**alerting_config(StackSettings(data_dir=tmp_path, short_intervals=True), demo))
    assert quick.hold_down == timedelta(seconds=30)

    dry = AlertingSettings(**alerting_config(stack, DemoSettings(remediation_dry_run=True)))
    assert dry.remediation.dry_run is True
    bare = AlertingSettings(**alerting_config(stack, None))
    assert (bare.remediation.playbooks, bare.channels, bare.users) == ((), (), ())

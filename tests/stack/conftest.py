"""Fixtures of the stack tests: free ports, the settings a test stack is built from, and
the one demo stack a test run shares.

The shared demo stack: ``demo_stack``
=====================================
One real demo stack for the stack tests (package scope), started the first time a test asks for it
and stopped when the run leaves ``tests/stack`` — not kept running (two cores' worth of Prometheus
and traffic) under the rest of the suite. Prometheus, Alertmanager, node_exporter, the fanzwatch
server, the demo platform, payment processor, traffic simulator and sinks, as child processes, at
the demo's pacing (1 s scrape and evaluation, alert holds x0.02, 60 s rule windows: what ``fanzwatch
up --demo`` runs), after a short backfill (2 days of metrics, 1 of platform data) so the anomaly
engine and week-over-week rules have history. Two platforms (fanz-1 has 57 % of the traffic, enough
for every volume guard at any hour), 24 requests/s together at the peak, no browser sessions, no
e-mail provisioning. The payment-failover playbook runs in **dry run** (it decides and audits, never
switches): a real failover switches every tenant at once and would end one platform's fault before
its own alert fired (the failover itself is ``test_demo_story``'s, on a stack of its own)::

    from stack.conftest import DemoStack                  # tests/ is on sys.path

    def test_checkout_fault_pages(demo_stack: DemoStack) -> None:
        demo_stack.wait_quiet("PaymentFailureRate")       # an earlier test's alert has resolved
        with demo_stack.fault(IncidentKind.PAYMENT_OUTAGE):  # healed on leaving, even on failure
            demo_stack.wait_firing("PaymentFailureRate", within=90)
        demo_stack.wait_quiet("PaymentFailureRate")
        demo_stack.value('sum(rate(fanz_payment_transactions_total[1m]))')  # PromQL, one number

The rules that keep its tests independent of each other and of their order:

- **heal what you break**: inject through ``fault()`` (or heal in a ``finally``); after every
  test the fixture heals every kind of fault anyway and fails the test if one cannot be healed;
- **wait for quiet first**: before asserting that an alert fires, wait until it is not firing
  (``wait_quiet``): the previous test's alert may still be draining its 60 s window;
- **change nothing else**: no restarts, no settings, no stopping a child. A test that needs
  another configuration builds its own stack with ``stack_settings`` / ``demo_settings``.

Under pytest-xdist (``make test``, ``--dist loadscope``) a module runs whole on one worker and
modules using ``demo_stack`` go first (tests/conftest.py); the stack starts once per worker that
needs it, so a test in another module may share it only on the same worker: today every user
is in ``test_faults.py`` (one stack a run).

The other end-to-end tests build their own stack because they need another configuration:
``test_end_to_end`` (15 s windows, an extra webhook and Slack receiver of the test's),
``test_demo_story`` (the real failover), ``test_demo_rum`` (headless Chromium sessions), and
tests/alerting/test_end_to_end.py (its own alerting service in place of the server).
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

from _waiting import wait_until
from fanzwatch.demo.incidents import IncidentController, IncidentKind, IncidentTargets
from fanzwatch.provisioning import ProvisioningSettings
from fanzwatch.settings.demo import DemoSettings
from fanzwatch.settings.stack import StackSettings
from fanzwatch.stack import Stack

STACK_PORTS = ("prometheus", "alertmanager", "node_exporter", "blackbox", "server", "telemetry_store")
DEMO_PORTS = ("platform", "processor", "simulator", "sinks", "smtp", "prober")
#: the largest platform of the shared demo stack, and the one its tests watch
DEMO_PLATFORM = "fanz-1"
#: an alert of the shared stack resolves within this after healing: its 60 s window drains,
#: plus the hold-down of a flapping ratio
RESOLVE_SECONDS = 180.0


def free_ports(count: int) -> list[int]:
    """``count`` distinct ports free on 127.0.0.1 right now (held together while picked)."""
    with ExitStack() as stack:
        socks = [stack.enter_context(socket.socket()) for _ in range(count)]
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]


def named_free_ports(*names: str) -> dict[str, int]:
    """A free port for each name (default: every port of a demo stack)."""
    names = names or (*STACK_PORTS, *DEMO_PORTS)
    return dict(zip(names, free_ports(len(names)), strict=True))


@pytest.fixture
def ports() -> dict[str, int]:
    """Free ports for a demo stack and for two receivers a test may run (``slack``, ``webhook``)."""
    return named_free_ports(*STACK_PORTS, *DEMO_PORTS, "slack", "webhook")


def stack_settings(data_dir: Path, ports: dict[str, int], **extra: Any) -> StackSettings:
    """The settings of a test stack on ``ports``, at demo pacing unless ``extra`` says otherwise."""
    given: dict[str, Any] = {"short_intervals": True, "startup_timeout_seconds": 90} | extra
    return StackSettings(
        data_dir=data_dir,
        prometheus_port=ports["prometheus"],
        alertmanager_port=ports["alertmanager"],
        node_exporter_port=ports["node_exporter"],
        server_port=ports["server"],
        blackbox_port=ports["blackbox"],
        telemetry_store_port=ports["telemetry_store"],
        **given,
    )


def demo_settings(ports: dict[str, int], **extra: Any) -> DemoSettings:
    """The demo on ``ports``: fanz-1 and fanz-2 unless ``extra`` says otherwise."""
    given: dict[str, Any] = {"platforms": (DEMO_PLATFORM, "fanz-2")} | extra
    return DemoSettings(
        platform_port=ports["platform"],
        processor_port=ports["processor"],
        simulator_port=ports["simulator"],
        sinks_port=ports["sinks"],
        smtp_port=ports["smtp"],
        prober_port=ports["prober"],
        **given,
    )


def incident_controller(ports: dict[str, int]) -> IncidentController:
    """Injects and heals the demo's faults on the stack on ``ports``."""
    return IncidentController(
        IncidentTargets(
            platform_url=f"http://127.0.0.1:{ports['platform']}",
            processor_url=f"http://127.0.0.1:{ports['processor']}",
            simulator_url=f"http://127.0.0.1:{ports['simulator']}",
        )
    )


class DemoStack:
    """A running demo stack and the ways its tests talk to it (PromQL, alerts, faults)."""

    def __init__(self, stack: Stack, ports: dict[str, int], events: list[str]) -> None:
        self.stack = stack
        self.ports = ports
        self.events = events
        self.prom = f"http://127.0.0.1:{ports['prometheus']}"
        self.platform_url = f"http://127.0.0.1:{ports['platform']}"
        self.http = httpx.Client(timeout=10.0)
        self.incidents = incident_controller(ports)
        self.faults_injected = 0

    def query(self, expr: str) -> list[dict[str, Any]]:
        """An instant PromQL query's result vector."""
        answer = self.http.get(f"{self.prom}/api/v1/query", params={"query": expr}).json()
        assert answer["status"] == "success", answer
        result: list[dict[str, Any]] = answer["data"]["result"]
        return result

    def value(self, expr: str) -> float | None:
        """The first sample of an instant query, or None when the result is empty."""
        result = self.query(expr)
        return float(result[0]["value"][1]) if result else None

    def firing(self, alertname: str) -> set[str]:
        """The platforms ``alertname`` fires on in Prometheus (``""`` for an alert without one)."""
        alerts = self.http.get(f"{self.prom}/api/v1/alerts").json()["data"]["alerts"]
        return {
            a["labels"].get("platform", "")
            for a in alerts
            if a["labels"].get("alertname") == alertname and a["state"] == "firing"
        }

    def wait_firing(self, alertname: str, *, within: float, platform: str = DEMO_PLATFORM) -> None:
        wait_until(
            lambda: platform in self.firing(alertname),
            timeout=within,
            message=f"{alertname} firing on {platform} within {within:g} s",
            interval=0.5,
        )

    def wait_quiet(self, alertname: str, *, within: float = RESOLVE_SECONDS, platform: str = DEMO_PLATFORM) -> None:
        wait_until(
            lambda: platform not in self.firing(alertname),
            timeout=within,
            message=f"{alertname} not firing on {platform} within {within:g} s",
            interval=0.5,
        )

    def incident_list(self) -> list[dict[str, Any]]:
        """The server's incidents (newest first, up to 50), as the API lists them to a viewer."""
        token = (self.stack.settings.resolved_secrets_dir / "viewer_token").read_text().strip()
        response = self.http.get(
            f"http://127.0.0.1:{self.ports['server']}/api/v1/incidents",
            params={"limit": 50},
            headers={"Authorization": f"Bearer {token}"},
        )
        response.raise_for_status()
        incidents: list[dict[str, Any]] = response.json()["incidents"]
        return incidents

    def inject(self, kind: IncidentKind) -> None:
        if not self.faults_injected:
            # Before the run's first fault the stack has only started (minutes of it, at the
            # demo's pacing): its own start-up is no incident (rules load once it settled, the
            # anomaly engine warms up). Checked here, whichever test injects first.
            before = self.incident_list()
            assert before == [], f"incidents before any fault was injected: {before}"
        self.faults_injected += 1
        anyio.run(self.incidents.inject, kind)

    def heal(self, kind: IncidentKind) -> None:
        anyio.run(self.incidents.heal, kind)

    @contextmanager
    def fault(self, kind: IncidentKind) -> Iterator[float]:
        """Inject ``kind`` for the block (yields the monotonic time of injection); healed on leaving."""
        self.inject(kind)
        try:
            yield time.monotonic()
        finally:
            self.heal(kind)


@pytest.fixture(scope="package")
def _shared_demo_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoStack]:
    # Package fixtures start before the suite's function-scoped monkeypatches: the stack gets
    # its own registry directory explicitly (commands under test never find it by accident).
    ports = named_free_ports()
    root = tmp_path_factory.mktemp("demo-stack")
    settings = stack_settings(root / "data", ports, startup_timeout_seconds=120, registry_dir=root / "registry")
    demo = demo_settings(
        ports,
        browser_sessions=False,  # CPU for the platform: RUM has test_demo_rum's own stack
        remediation_dry_run=True,  # see the module docstring
        peak_rps=24,
        seed=7,
        backfill=True,
        metrics_history_days=2,
        platform_history_days=1,
        platform_history_scale=0.2,
    )
    events: list[str] = []
    with Stack(settings, demo=demo, provisioning=ProvisioningSettings(email=False), on_event=events.append) as stack:
        running = DemoStack(stack, ports, events)
        try:
            # Enough live payment attempts a minute for the payment alert's volume guard (a
            # [1m] range holds two samples only once live scrapes come: history is 150 s apart).
            live_attempts = f'sum(increase(fanz_payment_transactions_total{{platform="{DEMO_PLATFORM}"}}[1m]))'
            wait_until(
                lambda: (running.value(live_attempts) or 0) >= 12,
                timeout=240,
                message=f"12 payment attempts a minute on {DEMO_PLATFORM}",
                interval=1.0,
            )
            yield running
        finally:
            running.http.close()


@pytest.fixture
def demo_stack(_shared_demo_stack: DemoStack) -> Iterator[DemoStack]:
    """The run's shared demo stack (see the module docstring); every fault is healed after the test."""
    yield _shared_demo_stack
    problems = anyio.run(_shared_demo_stack.incidents.heal_all)
    assert not problems, f"the test left faults that cannot be healed: {problems}"

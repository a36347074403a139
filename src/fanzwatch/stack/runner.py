"""``Stack``: render, start, watch and stop the one-machine fanzwatch stack.

>>> stack = Stack(StackSettings(data_dir=Path(".fanzwatch")), demo=DemoSettings())
>>> stack.start()               # renders config, starts every child, waits until healthy
>>> code = stack.watch(stop)    # returns when ``stop`` is set (0) or a child dies (1)
>>> stack.stop()

Nothing is restarted behind the user's back: a child that dies is reported with the end
of its log and the whole stack is stopped, so what you see running is what works.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import yaml

from ..core.secrets import ensure_token_file
from ..provisioning import ProvisioningSettings, render_all
from ..server.security import ROLE_TOKEN_FILES, WEBHOOK_TOKEN_FILE
from ..settings.demo import DemoSettings
from ..settings.stack import StackSettings
from ..settings.telemetry_store import OTLP_TOKEN_FILE, TELEMETRY_STORE_TOKEN_FILE
from .binaries import Binaries, find_binaries
from .history import backfill_argv, prometheus_retention, read_history_marker
from .plan import (
    RUM_SYNTHETIC_KEY_FILE,
    StackPaths,
    alerting_config,
    blackbox_required,
    core_children,
    demo_children,
    demo_database_url,
    port_plan,
    probe_children,
    provisioning_settings,
    server_env,
)
from .ports import busy_ports
from .registry import register, unregister
from .settle import defer_rule_files, load_rule_files, wait_settled
from .steps import run_step
from .supervisor import ChildProcess, ChildSpec, StackError, StartInterruptedError, Supervisor

logger = logging.getLogger(__name__)
WATCH_INTERVAL = 0.25
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")  # as fanzwatch.demo.browser looks for it
BACKFILL_TIMEOUT_SECONDS = 900.0


class Stack:
    """One run of the stack; ``start`` then ``watch``/``stop`` (or use it as a context manager)."""

    def __init__(
        self,
        settings: StackSettings,
        *,
        demo: DemoSettings | None = None,
        provisioning: ProvisioningSettings | None = None,
        on_event: Callable[[str], None] | None = None,
        binaries: Binaries | None = None,
    ) -> None:
        self.settings = settings
        self.demo = demo
        self.paths = StackPaths(settings.data_dir)
        self._provisioning_base = provisioning
        self._binaries = binaries
        self._emit = on_event or (lambda msg: logger.info("%s", msg))
        self.supervisor = Supervisor(self.paths.logs, grace_seconds=settings.stop_grace_seconds, on_event=self._emit)
        self._lock: IO[str] | None = None
        self._registered: Path | None = None
        self._stop_requested = threading.Event()
        self.provisioning: ProvisioningSettings | None = None
        self._probes = True  # blackbox_exporter runs (decided in start)

    # -- starting --------------------------------------------------------------------------
    def start(self) -> None:
        """Check, render, start every child and wait until each is healthy.

        On any failure everything already started is stopped before the error propagates.
        """
        ports = port_plan(self.settings, self.demo)
        # the same provisioning settings the render reads (FANZWATCH_PROVISIONING_* included)
        required = blackbox_required(self.settings, self._provisioning_base or ProvisioningSettings())
        binaries = self._binaries or find_binaries(
            overrides={
                "prometheus": self.settings.prometheus_binary,
                "alertmanager": self.settings.alertmanager_binary,
                "node_exporter": self.settings.node_exporter_binary,
                "blackbox_exporter": self.settings.blackbox_exporter_binary,
            },
            optional=frozenset() if required else frozenset({"blackbox_exporter"}),
        )
        self._probes = binaries.blackbox_exporter is not None and self.settings.probes is not False
        if binaries.blackbox_exporter is None and self.settings.probes is not False:
            self._emit(
                "WARNING: blackbox_exporter is not on PATH: the synthetic probes are off (no probe_success "
                "series, the probe-availability SLO has no data). Install it (apt-get install "
                "prometheus-blackbox-exporter), or set FANZWATCH_STACK_PROBES=true to require it"
            )
        self._take_lock()
        try:
            to_bind = ports if self.settings.run_server else {k: v for k, v in ports.items() if k != "server"}
            if not self._probes:
                to_bind = {k: v for k, v in to_bind.items() if k != "blackbox"}
            taken = busy_ports(self.settings.host, to_bind)
            if taken:
                detail = ", ".join(f"{name} port {port}" for name, port in taken.items())
                raise StackError(
                    f"already in use on {self.settings.host}: {detail}; stop what uses them or change the ports"
                )
            self._render()
            self._backfill()
            self._launch(binaries)
            self._write_state()
        except BaseException:
            self.stop()
            raise

    def _take_lock(self) -> None:
        self.paths.root.mkdir(parents=True, exist_ok=True)
        lock = self.paths.lock_file.open("a+")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.seek(0)
            owner = lock.read().strip() or "unknown"
            lock.close()
            raise StackError(
                f"another `fanzwatch up` (pid {owner}) is using {self.paths.root}; stop it or use --data-dir"
            ) from None
        lock.seek(0)
        lock.truncate()
        lock.write(str(os.getpid()))
        lock.flush()
        self._lock = lock

    def _render(self) -> None:
        for directory in (self.paths.prometheus, self.paths.alertmanager, self.paths.logs, self.paths.demo):
            directory.mkdir(parents=True, exist_ok=True)
        secrets_dir = self.settings.resolved_secrets_dir
        secrets_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        # Kept across runs: Alertmanager sends the webhook token, Prometheus the viewer token,
        # and the server accepts both (the same files `fanzwatch serve` generates by itself).
        # The telemetry store and the server share telemetry_store_token; services send otlp_token.
        for filename in (WEBHOOK_TOKEN_FILE, OTLP_TOKEN_FILE, TELEMETRY_STORE_TOKEN_FILE, *ROLE_TOKEN_FILES.values()):
            ensure_token_file(secrets_dir / filename)
        if self.demo is not None:
            ensure_token_file(secrets_dir / RUM_SYNTHETIC_KEY_FILE)
        self.provisioning = provisioning_settings(
            self.settings, self.demo, self._provisioning_base, probes=self._probes
        )
        render_all(self.provisioning, self.paths.config)
        (self.paths.config / "alerting.yml").write_text(
            yaml.safe_dump(alerting_config(self.settings, self.demo), sort_keys=True)
        )
        p = self.provisioning
        channels = [name for name in ("slack", "pagerduty", "email") if getattr(p, name)]
        self._emit(
            f"rendered configuration into {self.paths.config} (scrape every {p.scrape_interval.total_seconds():g} s, "
            f"notifications: fanzwatch webhook{', ' + ', '.join(channels) if channels else ''})"
        )
        if self.demo is not None:
            playbook = "dry-run" if self.demo.remediation_dry_run else "on"
            self._emit(
                "demo on-call: Ana and Ben (primary/secondary, daily), Lee, Sam; notified through the demo's "
                f"Slack, PagerDuty and e-mail sinks; payment-failover playbook {playbook}"
            )

    def _backfill(self) -> None:
        """The demo's history, before Prometheus opens its data dir (skipped once it is there)."""
        if self.demo is None or not self.demo.backfill or self.provisioning is None:
            return
        marker = read_history_marker(self.paths.root)
        if {"metrics", "platform_data"} <= set(marker):
            self._emit(f"history already backfilled (up to {marker['metrics']['end']}): skipped")
            return
        self._emit("backfilling the demo's history (once per data dir; --no-backfill skips it)")
        argv = backfill_argv(self.settings, self.demo, self.paths, rate_window=self.provisioning.rate_window)
        run_step(
            "backfill",
            argv,
            emit=lambda line: self._emit(f"  {line}"),
            should_stop=self._stop_requested.is_set,
            timeout=BACKFILL_TIMEOUT_SECONDS,
        )

    def _launch(self, binaries: Binaries) -> None:
        services = core_children(
            self.settings,
            binaries,
            self.paths,
            env=server_env(self.settings, self.demo, self.paths),
            retention=prometheus_retention(self.settings, self.demo),
        )
        traffic: list[ChildSpec] = []
        if self.demo is not None:
            demo_services, traffic = demo_children(self.settings, self.demo, self.paths)
            services += demo_services
            if not any(shutil.which(name) for name in CHROMIUM_NAMES):
                if any(spec.name == "browser" for spec in traffic):
                    self._emit("no Chromium on PATH: no browser sessions, so RUM stays empty (make system-deps)")
                traffic = [spec for spec in traffic if spec.name != "browser"]
        timeout = self.settings.startup_timeout_seconds
        # The services, then the probes (the stack's own start-up is not an outage), then
        # Prometheus, once its targets are up: a service still starting is not a TargetDown page.
        probes = probe_children(self.settings, binaries, self.paths, self.demo)
        prometheus_config = self.paths.config / "prometheus.yml"
        with_rules = defer_rule_files(prometheus_config)
        for phase in (
            [spec for spec in services if spec.name != "prometheus"],
            probes,
            [spec for spec in services if spec.name == "prometheus"],
        ):
            started = [self.supervisor.start(spec) for spec in phase]
            self.supervisor.wait_ready(started, timeout=timeout, should_stop=self._stop_requested.is_set)
        if traffic:  # the simulator needs a ready platform
            self.supervisor.wait_ready(
                [self.supervisor.start(spec) for spec in traffic],
                timeout=timeout,
                should_stop=self._stop_requested.is_set,
            )
        if with_rules is not None:
            self._load_rules(prometheus_config, with_rules)

    def _load_rules(self, config: Path, with_rules: str) -> None:
        """The alert rules, once every target is up and no health check fails (``stack.settle``)."""
        url = f"http://{self.settings.host}:{self.settings.prometheus_port}"
        began = time.monotonic()
        problems = wait_settled(url, should_stop=self._stop_requested.is_set)
        if self._stop_requested.is_set():
            raise StartInterruptedError("start-up interrupted")
        load_rule_files(config, with_rules, url)
        if problems:
            self._emit(
                f"WARNING: alert rules loaded after {time.monotonic() - began:.0f} s although the stack has not "
                f"settled (they will alert on it): {'; '.join(problems[:5])}"
            )
        else:
            self._emit(f"the stack settled in {time.monotonic() - began:.1f} s: alert rules loaded")

    def _write_state(self) -> None:
        server = f"http://{self.settings.host}:{self.settings.server_port}"
        state: dict[str, Any] = {
            "pid": os.getpid(),
            "started_at": time.time(),
            "data_dir": str(self.paths.root.resolve()),
            "secrets_dir": str(self.settings.resolved_secrets_dir.resolve()),
            "server_url": server,
            "fanzdash_url": f"{server}/dash/" if self.settings.run_server else None,
            "bi_database_url": demo_database_url(self.demo, self.paths) if self.demo is not None else None,
            "children": {
                c.name: {"pid": c.pid, "url": c.spec.url, "log": str(c.log_path)} for c in self.supervisor.children
            },
        }
        if self.demo is not None:
            base = f"http://{self.settings.host}"
            state["demo"] = {
                "platform_url": f"{base}:{self.demo.platform_port}",
                "processor_url": f"{base}:{self.demo.processor_port}",
                "simulator_url": f"{base}:{self.demo.simulator_port}" if self.demo.traffic else None,
                "platforms": list(self.demo.platforms),
            }
        tmp = self.paths.state_file.with_suffix(".tmp")
        tmp.touch(mode=0o600)  # it may hold the demo database's URL
        tmp.write_text(json.dumps(state, indent=2))
        os.replace(tmp, self.paths.state_file)
        self._registered = register(self.settings.resolved_registry_dir, os.getpid(), self.paths.root)

    # -- running ---------------------------------------------------------------------------
    def urls(self) -> dict[str, str]:
        return {c.name: c.spec.url for c in self.supervisor.children if c.spec.url}

    @property
    def stop_requested(self) -> bool:
        return self._stop_requested.is_set()

    def request_stop(self) -> None:
        """Ask ``start`` or ``watch`` to return (safe from a signal handler)."""
        self._stop_requested.set()

    def watch(self, *, on_finished: Callable[[ChildProcess], None] | None = None) -> int:
        """Block until stop is requested (returns 0) or a child dies (returns 1, after reporting it).

        A finite child (the simulator) that ends with exit code 0 has spent its budget:
        that is reported through ``on_finished`` and the stack keeps running.
        """
        while not self._stop_requested.wait(WATCH_INTERVAL):
            for child in self.supervisor.poll_exits():
                if child.spec.finite and child.returncode() == 0:
                    self._emit(f"{child.name} finished (its budget is spent); the rest of the stack keeps running")
                    if on_finished is not None:
                        on_finished(child)
                    continue
                self._emit(str(child.failure("stopped unexpectedly")))
                return 1
        return 0

    def stop(self) -> None:
        """Stop every child (SIGTERM, grace period, SIGKILL), remove the state file, release the lock."""
        self.supervisor.stop_all()
        if self._registered is not None:
            unregister(self.settings.resolved_registry_dir, os.getpid())
            self._registered = None
        if self._lock is not None:
            self.paths.state_file.unlink(missing_ok=True)
            fcntl.flock(self._lock, fcntl.LOCK_UN)
            self._lock.close()
            self._lock = None

    def __enter__(self) -> Stack:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def read_state(data_dir: Path) -> dict[str, Any]:
    """The running stack's ``stack.json`` (PIDs and URLs); a clear error when none runs."""
    path = StackPaths(data_dir).state_file
    try:
        state: dict[str, Any] = json.loads(path.read_text())
    except FileNotFoundError:
        raise StackError(
            f"no stack is running with data dir {data_dir} (no {path}); start one with `fanzwatch up`"
        ) from None
    except json.JSONDecodeError as exc:
        raise StackError(f"{path} is unreadable ({exc}); remove it and restart the stack") from None
    return state

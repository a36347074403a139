"""``fanzwatch up`` as a user runs it: Ctrl-C leaves nothing behind, the next run reuses the data.

Runs the real command in a subprocess (its own session, as from a terminal), drives the
demo through ``fanzwatch demo fault``, sends SIGINT and checks every child PID and process
group is gone; then starts again on the same data dir and finds the first run's samples.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from _waiting import wait_until
from fanzwatch.cli import app
from fanzwatch.stack import group_alive, read_state

pytestmark = [pytest.mark.prometheus, pytest.mark.slow, pytest.mark.timeout(240)]
FANZWATCH = [sys.executable, "-c", "import sys; from fanzwatch.cli import main; sys.argv[0] = 'fanzwatch'; main()"]


class Running:
    """A ``fanzwatch up`` subprocess and everything it printed so far."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.proc = proc
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_for_line(self, text: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(text in line for line in self.lines):
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        raise AssertionError(f"{text!r} not printed within {timeout:g} s; output:\n{self.output()}")

    def finish(self, timeout: float) -> int:
        code = self.proc.wait(timeout=timeout)
        self._reader.join(timeout=5)
        return code


@contextmanager
def fanzwatch_up(*args: str) -> Iterator[Running]:
    proc = subprocess.Popen(
        [*FANZWATCH, "up", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    running = Running(proc)
    try:
        yield running
    finally:
        if proc.poll() is None:  # a failed assertion: do not leave a stack behind
            os.killpg(proc.pid, signal.SIGINT)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


def _port_args(ports: dict[str, int], *, demo: bool) -> list[str]:
    names = ["prometheus", "alertmanager", "node_exporter", "server", "telemetry_store"]
    if demo:
        names += ["platform", "processor", "simulator", "sinks", "smtp"]
    return [arg for n in names for arg in (f"--{n.replace('_', '-')}-port", str(ports[n]))]


def registration_samples(prom: str, *, at: float | None = None) -> dict[str, set[tuple[float, str]]]:
    """The raw ``fanz_user_registrations_total`` samples of the 5 minutes up to ``at`` (default: now), per series."""
    params = {"query": "fanz_user_registrations_total[5m]"}
    if at is not None:
        params["time"] = f"{at:.3f}"
    r = httpx.get(f"{prom}/api/v1/query", params=params, timeout=10)
    r.raise_for_status()
    return {
        json.dumps(series["metric"], sort_keys=True): {(float(ts), value) for ts, value in series["values"]}
        for series in r.json()["data"]["result"]
    }


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    # A bound for a hung command, not a speed check: importing the CLI alone took up to 60 s on
    # a loaded 2-core machine.
    return subprocess.run([*FANZWATCH, *args], capture_output=True, text=True, timeout=240, check=False)


def test_ctrl_c_stops_every_child_and_the_next_run_reuses_the_data(tmp_path: Path, ports: dict[str, int]) -> None:
    data = tmp_path / "data"
    prom = f"http://127.0.0.1:{ports['prometheus']}"
    # --no-backfill: this test is about stopping and reusing, the history is tests/stack/test_faults.py's.
    with fanzwatch_up("--demo", "--no-backfill", "--data-dir", str(data), *_port_args(ports, demo=True)) as up:
        up.wait_for_line("press Ctrl-C to stop", timeout=120)
        assert "scrape every 1 s" in up.output()  # the demo's pacing by default
        assert f"FanzDash       http://127.0.0.1:{ports['server']}/dash/" in up.output()
        state = read_state(data)
        children = {name: info["pid"] for name, info in state["children"].items()}
        assert set(children) == {
            "node_exporter",
            "alertmanager",
            "prometheus",
            "telemetry_store",
            "server",
            "processor",
            "platform",
            "simulator",
            "notifications",
            "blackbox",
            "prober",
        }
        assert state["pid"] == up.proc.pid
        assert all(group_alive(pid) for pid in children.values())
        for name in ("prometheus", "platform", "simulator"):
            assert name in up.output()

        # The fault commands find the demo from any directory (here: through the registry).
        injected = _cli("demo", "fault", "inject", "payment_outage")
        assert injected.returncode == 0, injected.stderr
        faults = httpx.get(f"http://127.0.0.1:{ports['processor']}/admin/faults").json()
        assert faults["primary"]["outage"] is True
        healed = _cli("demo", "fault", "heal", "all", "--data-dir", str(data))
        assert (healed.returncode, healed.stdout.strip()) == (0, "healed every fault")
        assert httpx.get(f"http://127.0.0.1:{ports['processor']}/admin/faults").json()["primary"]["outage"] is False

        # Wait for Prometheus to hold some of the platform's samples, to find them in the second run.
        # The instant to look at is the newest sample's own timestamp: a sample is known to exist then.
        first = wait_until(
            lambda: registration_samples(prom),
            timeout=30,
            message="no fanz_user_registrations_total sample within 30 s",
            interval=0.5,
            ignore=(httpx.TransportError,),
        )
        sampled_at = max(ts for series in first.values() for ts, _ in series)
        before_restart = registration_samples(prom, at=sampled_at)
        assert before_restart, f"no sample at its own timestamp {sampled_at}: {first}"

        os.kill(up.proc.pid, signal.SIGINT)  # what Ctrl-C in the terminal does
        assert up.finish(timeout=60) == 0, up.output()

    assert "stopped" in up.lines[-1]
    for name, pid in children.items():
        assert not group_alive(pid), f"{name} (pid {pid}) or something in its process group survived"
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    assert not (data / "stack.json").exists()

    # Second run, same data dir (no demo: faster); the first run's samples are still there.
    with fanzwatch_up("--data-dir", str(data), *_port_args(ports, demo=False)) as again:
        again.wait_for_line("press Ctrl-C to stop", timeout=90)
        assert "scrape every 15 s" in again.output()  # plain `fanzwatch up`: production pacing
        after_restart = registration_samples(prom, at=sampled_at)
        for series, samples in before_restart.items():
            lost = samples - after_restart.get(series, set())
            assert not lost, f"first run's samples of {series} lost: {sorted(lost)}; after restart: {after_restart}"
        logs = (data / "logs" / "prometheus.log").read_text()
        assert logs.count("starting:") == 2  # one log per child, appended run after run
        os.kill(again.proc.pid, signal.SIGTERM)
        assert again.finish(timeout=60) == 0, again.output()
    assert int((data / ".lock").read_text()) == again.proc.pid  # the lock records its owner


def test_up_names_the_missing_binaries(tmp_path: Path, ports: dict[str, int]) -> None:
    args = ["up", "--data-dir", str(tmp_path / "d"), *_port_args(ports, demo=False)]
    result = CliRunner().invoke(app, args, env={"PATH": str(tmp_path)})  # nothing on PATH
    assert result.exit_code == 2
    assert "prometheus" in result.stderr
    assert "alertmanager" in result.stderr
    assert "apt-get install prometheus prometheus-alertmanager prometheus-node-exporter" in result.stderr
    assert "make system-deps" in result.stderr
    assert not (tmp_path / "d" / "logs").exists()  # nothing was started


def test_fault_without_a_stack_is_a_clear_error(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["demo", "fault", "inject", "payment_outage", "--data-dir", str(tmp_path)])
    assert result.exit_code == 1
    assert f"no stack is running with data dir {tmp_path}" in result.stderr
    unknown = runner.invoke(app, ["demo", "fault", "inject", "meteor_strike", "--data-dir", str(tmp_path)])
    assert unknown.exit_code == 2
    assert "unknown fault 'meteor_strike'" in unknown.stderr

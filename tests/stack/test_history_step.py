"""The stack's side of the demo history: the backfill command, the retention, the one-shot step."""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest

from fanzwatch.settings.demo import DemoSettings
from fanzwatch.settings.stack import StackSettings
from fanzwatch.stack import Stack, StackError, StartInterruptedError
from fanzwatch.stack.history import backfill_argv, prometheus_retention, read_history_marker
from fanzwatch.stack.plan import StackPaths, provisioning_settings
from fanzwatch.stack.steps import run_step


@pytest.mark.parametrize(
    ("configured", "demo", "expected"),
    [
        ("15d", DemoSettings(backfill=True), "35d"),  # 28 days of history and a week of "last week"
        ("60d", DemoSettings(backfill=True), "60d"),
        ("6w", DemoSettings(backfill=True), "6w"),
        ("15d", DemoSettings(), "15d"),  # a Stack built in code: no backfill unless asked
        ("15d", None, "15d"),
        ("15d", DemoSettings(backfill=True, metrics_history_days=2), "15d"),
    ],
)
def test_retention_keeps_the_history(tmp_path: Path, configured: str, demo: DemoSettings | None, expected: str) -> None:
    stack = StackSettings(data_dir=tmp_path, prometheus_retention=configured)
    assert prometheus_retention(stack, demo) == expected


def test_backfill_argv_describes_this_stack(tmp_path: Path) -> None:
    stack = StackSettings(data_dir=tmp_path, short_intervals=True)
    demo = DemoSettings(platform_port=8301, seed=4)
    argv = backfill_argv(stack, demo, StackPaths(tmp_path), rate_window=timedelta(seconds=60))
    assert argv[0] == sys.executable
    args = dict(zip(argv[5::2], argv[6::2], strict=True))
    assert argv[3:5] == ("demo", "backfill")
    assert args == {
        "--data-dir": str(tmp_path),
        "--database-url": f"sqlite:///{tmp_path / 'demo' / 'platform.db'}",
        "--platforms": ",".join(f"fanz-{n}" for n in range(1, 14)),
        "--instance": "127.0.0.1:8301",  # the address Prometheus scrapes the platform at: live series continue
        "--peak-rps": "16",
        "--rate-window": "60",
        "--metrics-days": "28",
        "--platform-days": "90",
        "--scale": "0.25",
        "--seed": "4",
    }


def test_a_step_streams_its_output_and_reports_failure() -> None:
    lines: list[str] = []
    run_step("ok", [sys.executable, "-c", "print('one'); print('two')"], emit=lines.append,
             should_stop=lambda: False, timeout=30)  # fmt: skip
    assert lines == ["one", "two"]
    script = "import sys; print('working'); print('promtool exploded', file=sys.stderr); sys.exit(3)"
    with pytest.raises(StackError, match=r"broken failed \(exit code 3\):\n.*working\n.*promtool exploded"):
        run_step("broken", [sys.executable, "-c", script], emit=lambda _l: None, should_stop=lambda: False, timeout=30)


def test_a_stop_request_ends_a_step(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    script = f"import os, time; open({str(pid_file)!r}, 'w').write(str(os.getpid())); time.sleep(60)"
    with pytest.raises(StartInterruptedError):
        run_step("slow", [sys.executable, "-c", script], emit=lambda _l: None,
                 should_stop=lambda: pid_file.exists(), timeout=30)  # fmt: skip
    pid = int(pid_file.read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # terminated, not left running


def _running(pid: int) -> bool:
    """Alive and not a zombie (a killed orphan may wait a moment to be reaped)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_a_stop_request_ends_the_steps_own_children_too(tmp_path: Path) -> None:
    # The backfill runs its platform data in a worker process and promtool as children: a stop
    # must end them with it, not leave them writing into the data dir after `up` has gone.
    pid_file = tmp_path / "pid"
    script = (
        "import subprocess, sys, time\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        f"open({str(pid_file)!r}, 'w').write(str(child.pid))\n"
        "time.sleep(60)\n"
    )
    try:
        with pytest.raises(StartInterruptedError):
            run_step("slow", [sys.executable, "-c", script], emit=lambda _l: None,
                     should_stop=lambda: pid_file.exists() and bool(pid_file.read_text()), timeout=30)  # fmt: skip
        child = int(pid_file.read_text())
        for _ in range(50):
            if not _running(child):
                break
            time.sleep(0.1)
        assert not _running(child), "the step's child was left running"
    finally:
        if pid_file.exists() and pid_file.read_text() and _running(int(pid_file.read_text())):
            os.kill(int(pid_file.read_text()), signal.SIGKILL)  # the process this test started


def test_a_second_run_skips_the_backfill(tmp_path: Path) -> None:
    marker = {"metrics": {"end": "2026-12-02T13:30:00+00:00"}, "platform_data": {"rows": 10}}
    (tmp_path / "history.json").write_text(json.dumps(marker))
    assert read_history_marker(tmp_path) == marker
    events: list[str] = []
    settings = StackSettings(data_dir=tmp_path, short_intervals=True)
    demo = DemoSettings(backfill=True)
    stack = Stack(settings, demo=demo, on_event=events.append)
    stack.provisioning = provisioning_settings(settings, demo)
    stack._backfill()  # no command runs: nothing is on PATH to run, and none is needed
    assert events == ["history already backfilled (up to 2026-12-02T13:30:00+00:00): skipped"]
    (tmp_path / "history.json").write_text("{not json")
    assert read_history_marker(tmp_path) == {}

"""The supervisor: process groups, readiness, deaths reported once, clean and forced stops."""

from __future__ import annotations

import os
import re
import signal
import sys
import textwrap
import time
from pathlib import Path

import pytest

from _waiting import wait_until
from fanzwatch.stack import ChildFailedError, ChildSpec, StartInterruptedError, Supervisor, group_alive

from .conftest import free_ports


def py(code: str) -> tuple[str, ...]:
    return (sys.executable, "-c", textwrap.dedent(code))


HTTP_SERVER = """
import http.server, sys
port = int(sys.argv[1])
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.end_headers(); self.wfile.write(b"ok")
    def log_message(self, *a): pass
print("listening", port, flush=True)
http.server.HTTPServer(("127.0.0.1", port), H).serve_forever()
"""


def test_a_ready_child_runs_in_its_own_group_and_stops_on_sigterm(tmp_path: Path) -> None:
    events: list[str] = []
    sup = Supervisor(tmp_path / "logs", grace_seconds=5, on_event=events.append)
    (port,) = free_ports(1)
    child = sup.start(ChildSpec("web", (*py(HTTP_SERVER), str(port)), ready_url=f"http://127.0.0.1:{port}/"))
    sup.wait_ready([child], timeout=20)
    assert os.getpgid(child.pid) == child.pid != os.getpgid(0)
    assert any(e.startswith("web is ready") for e in events)
    assert f"listening {port}" in child.log_tail()
    sup.stop_all()
    assert child.returncode() == -signal.SIGTERM  # SIGTERM was enough: no SIGKILL after the 5 s grace
    assert not group_alive(child.pid)


def test_a_child_dying_during_start_up_is_reported_with_its_log(tmp_path: Path) -> None:
    sup = Supervisor(tmp_path / "logs")
    child = sup.start(
        ChildSpec(
            "broken",
            py("import sys; print('cannot bind 127.0.0.1:1: permission denied'); sys.exit(3)"),
            ready_url="http://127.0.0.1:1/",
        )
    )
    with pytest.raises(ChildFailedError) as info:
        sup.wait_ready([child], timeout=20)
    err = info.value
    assert (err.name, err.returncode) == ("broken", 3)
    assert "broken exited during start-up (exit code 3)" in str(err)
    assert "cannot bind 127.0.0.1:1: permission denied" in str(err)
    assert str(tmp_path / "logs" / "broken.log") in str(err)


def test_readiness_has_a_timeout(tmp_path: Path) -> None:
    sup = Supervisor(tmp_path / "logs", grace_seconds=2)
    (port,) = free_ports(1)
    child = sup.start(ChildSpec("silent", py("import time; time.sleep(60)"), ready_url=f"http://127.0.0.1:{port}/"))
    try:
        with pytest.raises(ChildFailedError, match=r"silent was not ready within 0.5 s"):
            sup.wait_ready([child], timeout=0.5)
    finally:
        sup.stop_all()
    assert not group_alive(child.pid)


def test_start_up_can_be_interrupted(tmp_path: Path) -> None:
    sup = Supervisor(tmp_path / "logs", grace_seconds=2)
    child = sup.start(ChildSpec("slow", py("import time; time.sleep(60)"), ready_url="http://127.0.0.1:1/"))
    try:
        with pytest.raises(StartInterruptedError):
            sup.wait_ready([child], timeout=30, should_stop=lambda: True)
    finally:
        sup.stop_all()


def test_sigterm_is_followed_by_sigkill_and_grandchildren_go_too(tmp_path: Path) -> None:
    stubborn = """
    import os, signal, subprocess, sys, time
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    helper = subprocess.Popen([sys.executable, "-c", "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)"])
    print(f"HELPER_PID:{helper.pid}:", flush=True)
    time.sleep(60)
    """  # noqa: E501
    sup = Supervisor(tmp_path / "logs", grace_seconds=1.0)
    child = sup.start(ChildSpec("stubborn", py(stubborn)))
    found = wait_until(
        lambda: re.search(r"HELPER_PID:(\d+):", child.log_tail()),
        timeout=30,
        message="the stubborn child did not print its helper's pid",
    )
    helper_pid = int(found.group(1))
    assert os.getpgid(helper_pid) == child.pid
    started = time.monotonic()
    sup.stop_all()
    assert time.monotonic() - started >= 1.0  # the grace first ...
    assert child.returncode() == -signal.SIGKILL  # ... then SIGKILL
    assert not group_alive(child.pid)
    with pytest.raises(ProcessLookupError):
        os.kill(helper_pid, 0)


def test_deaths_are_reported_once_and_logs_are_per_run(tmp_path: Path) -> None:
    sup = Supervisor(tmp_path / "logs")
    first = sup.start(ChildSpec("job", py("print('run one')")))
    first.popen.wait(timeout=10)
    assert [c.name for c in sup.poll_exits()] == ["job"]
    assert sup.poll_exits() == []
    second = sup.start(ChildSpec("job", py("print('run two')")))
    second.popen.wait(timeout=10)
    assert "run one" not in second.log_tail()
    assert "run two" in second.log_tail()
    log = (tmp_path / "logs" / "job.log").read_text()
    assert log.index("run one") < log.index("run two")
    sup.stop_all()  # idempotent with everything already gone


ON_SIGTERM = """
import signal, sys, time
from pathlib import Path
record, name, linger = Path(sys.argv[1]), sys.argv[2], float(sys.argv[3])
def stop(*_):
    with record.open("a") as f:
        f.write(f"{name} got SIGTERM\\n")
    time.sleep(linger)  # a server flushing its queue into the store
    with record.open("a") as f:
        f.write(f"{name} stopped\\n")
    sys.exit(0)
signal.signal(signal.SIGTERM, stop)
with record.open("a") as f:
    f.write(f"{name} ready\\n")
while True:
    time.sleep(0.05)
"""


def test_a_stop_last_child_is_stopped_once_the_others_are_gone(tmp_path: Path) -> None:
    record = tmp_path / "order.txt"
    sup = Supervisor(tmp_path / "logs", grace_seconds=20)
    store = sup.start(ChildSpec("store", (*py(ON_SIGTERM), str(record), "store", "0"), stop_last=True))
    server = sup.start(ChildSpec("server", (*py(ON_SIGTERM), str(record), "server", "0.5")))
    assert {store.name, server.name} == {"store", "server"}
    wait_until(
        lambda: record.exists() and record.read_text().count("ready") == 2, timeout=60, message="both children up"
    )
    sup.stop_all()
    assert [line for line in record.read_text().splitlines() if "ready" not in line] == [
        "server got SIGTERM",
        "server stopped",
        "store got SIGTERM",
        "store stopped",
    ]

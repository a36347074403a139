"""``fanzwatch demo fault ...`` finds the running stack from any directory and speaks plainly.

The real payment processor and demo platform serve over HTTP; the "running stack" is the
``stack.json`` and registry entry ``fanzwatch up`` writes (the PID is this test's, so it
is alive).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from typer.testing import CliRunner

from _waiting import wait_until
from fanzwatch.cli import app
from fanzwatch.demo.platform import PlatformConfig, create_platform_app
from fanzwatch.demo.processor import ProcessorConfig, create_processor_app
from fanzwatch.sdk.testing import capture_telemetry
from fanzwatch.stack.registry import register


def _serve(app: Any) -> Iterator[str]:
    sock = socket.create_server(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    wait_until(lambda: server.started, timeout=30, message="the payment processor did not start", interval=0.01)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()


@pytest.fixture
def processor_url() -> Iterator[str]:
    yield from _serve(create_processor_app(ProcessorConfig(seed=1)))


@pytest.fixture
def platform_url(tmp_path: Path, processor_url: str) -> Iterator[str]:
    config = PlatformConfig(
        database_url=f"sqlite:///{tmp_path / 'platform.db'}",
        storage_dir=tmp_path / "objects",
        processor_url=processor_url,
        platforms=("fanz-1",),
        password_hash_cost=2**4,
    )
    with capture_telemetry(service_name="fanz-demo-platform", platforms=("fanz-1",), platform="fanz-1") as cap:
        yield from _serve(create_platform_app(config, telemetry=cap.telemetry))


def _unused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def fake_stack(
    data_dir: Path, *, pid: int, processor_url: str | None, platform_url: str | None = None, demo: bool = True
) -> Path:
    """A data dir with the state ``fanzwatch up`` writes, listed in the test's registry."""
    data_dir.mkdir(parents=True)
    state: dict[str, object] = {
        "pid": pid,
        "data_dir": str(data_dir),
        "server_url": "http://127.0.0.1:1",
        "fanzdash_url": "http://127.0.0.1:1/dash/",
        "children": {},
    }
    if demo:
        state["demo"] = {
            # nothing listening: a platform that is down
            "platform_url": platform_url or f"http://127.0.0.1:{_unused_port()}",
            "processor_url": processor_url,
            "simulator_url": None,
        }
    (data_dir / "stack.json").write_text(json.dumps(state))
    return register(Path(os.environ["FANZWATCH_STACK_REGISTRY_DIR"]), pid, data_dir)


@pytest.fixture
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run the commands from a directory that has no stack of its own."""
    cwd = tmp_path / "somewhere-else"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    return cwd


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_inject_and_heal_from_any_directory_in_plain_words(
    tmp_path: Path, elsewhere: Path, processor_url: str, platform_url: str
) -> None:
    fake_stack(tmp_path / "data", pid=os.getpid(), processor_url=processor_url, platform_url=platform_url)

    code, out, err = run("demo", "fault", "inject", "payment_outage")
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        "injected payment_outage: the processor's primary endpoint answers 503",
        "  expect:  PaymentFailureRate and JourneyFailing within 90 s",
        "  watch:   http://127.0.0.1:1/dash/incidents",
        "  heal it: fanzwatch demo fault heal payment_outage",
    ]
    assert httpx.get(f"{processor_url}/admin/faults").json()["primary"]["outage"] is True

    # Remediation switched the platform to the backup; healing fails back to the primary.
    httpx.put(f"{platform_url}/admin/payment-processor", json={"active": "backup"}).raise_for_status()
    assert run("demo", "fault", "heal", "payment_outage") == (0, "healed payment_outage\n", "")
    assert httpx.get(f"{processor_url}/admin/faults").json()["primary"]["outage"] is False
    assert httpx.get(f"{platform_url}/admin/payment-processor").json()["active"] == "primary"


def test_the_old_name_still_works_and_says_where_it_moved(tmp_path: Path, elsewhere: Path, processor_url: str) -> None:
    fake_stack(tmp_path / "data", pid=os.getpid(), processor_url=processor_url)
    code, out, err = run("incident", "inject", "payment_outage")
    assert code == 0
    assert out.startswith("injected payment_outage")
    assert "`fanzwatch incident inject` moved to `fanzwatch demo fault inject`" in err


def test_error_paths_are_messages_with_exit_codes(tmp_path: Path, elsewhere: Path, processor_url: str) -> None:
    assert run("demo", "fault", "inject", "payment_outage") == (
        1,
        "",
        "no stack is running on this machine: start one with `fanzwatch up --demo`\n",
    )
    code, _, err = run("demo", "fault", "inject", "meteor_strike")
    assert code == 2
    assert "unknown fault 'meteor_strike'; one of: payment_outage, latency_regression" in err

    # A stack whose `up` was killed is no stack at all, and its registry entry goes.
    dead = subprocess.Popen(["true"])
    dead.wait()
    stale = fake_stack(tmp_path / "stale", pid=dead.pid, processor_url=processor_url)
    assert run("demo", "fault", "heal", "all")[0] == 1
    assert not stale.exists()

    fake_stack(tmp_path / "data", pid=os.getpid(), processor_url=processor_url)
    code, out, err = run("demo", "fault", "inject", "latency_regression")  # the platform is down
    assert (code, out) == (1, "")
    assert err.startswith("could not inject latency_regression: http://127.0.0.1:")
    assert "is unreachable (ConnectError): is the demo running?" in err
    assert "Traceback" not in err


def test_several_stacks_need_a_data_dir(tmp_path: Path, elsewhere: Path, processor_url: str) -> None:
    fake_stack(tmp_path / "one", pid=os.getpid(), processor_url=processor_url)
    sleeper = subprocess.Popen(["sleep", "30"])
    try:
        fake_stack(tmp_path / "two", pid=sleeper.pid, processor_url=processor_url, demo=False)
        code, _, err = run("demo", "fault", "inject", "payment_outage")
        assert code == 2
        assert err.startswith("2 stacks are running (")
        assert err.rstrip().endswith("say which with --data-dir")
        assert run("demo", "fault", "inject", "payment_outage", "--data-dir", str(tmp_path / "one"))[0] == 0
        assert run("demo", "fault", "heal", "all", "--data-dir", str(tmp_path / "two")) == (
            1,
            "",
            "the running stack has no demo: start it with `fanzwatch up --demo`\n",
        )
    finally:
        sleeper.kill()
        sleeper.wait()

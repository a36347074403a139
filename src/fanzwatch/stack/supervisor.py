"""Supervise child processes: start each in its own process group, wait until ready, stop.

The supervisor never restarts anything: a child that dies is reported to the caller,
who decides (``fanzwatch up`` stops the whole stack and says why). Each child gets its
own session, hence its own process group, so that

- Ctrl-C in the terminal reaches only ``fanzwatch up``, which then stops the children
  in order instead of every process receiving SIGINT at once;
- stopping a child signals its whole group: workers or helpers it forked go too.

>>> sup = Supervisor(Path("/tmp/fw/logs"))
>>> child = sup.start(ChildSpec("web", ("python", "-m", "http.server", "8123"), ready_url="http://127.0.0.1:8123/"))
>>> sup.wait_ready([child], timeout=10)
>>> sup.stop_all()
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from ..core.errors import FanzwatchError

READY_PROBE_TIMEOUT = httpx.Timeout(2.0, connect=1.0)
DEFAULT_TAIL_LINES = 25
KILL_REAP_SECONDS = 2.0


class StackError(FanzwatchError, RuntimeError):
    """The stack could not start or lost a child."""


class StartInterruptedError(StackError):
    """Stop was requested while children were starting."""


class ChildFailedError(StackError):
    """A child exited (or never became ready); carries the end of its log."""

    def __init__(self, name: str, reason: str, *, returncode: int | None, log_path: Path, log_tail: str) -> None:
        message = f"{name} {reason}" + (f" (exit code {returncode})" if returncode is not None else "")
        message += f"\n--- last lines of {log_path} ---\n{log_tail.rstrip() or '(empty log)'}"
        super().__init__(message)
        self.name = name
        self.returncode = returncode
        self.log_path = log_path
        self.log_tail = log_tail


@dataclass(frozen=True, slots=True)
class ChildSpec:
    """What to run and how to know it is ready.

    ``ready_url``: an HTTP GET answering 2xx means ready (None: ready once started).
    ``finite``: the child may finish on its own with exit code 0 (the traffic
    simulator ends when its budget is spent); that is reported, not treated as a crash.
    ``stop_last``: stopped after every other child (others hand it their data on stop).
    """

    name: str
    argv: tuple[str, ...]
    ready_url: str | None = None
    url: str | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    finite: bool = False
    stop_last: bool = False


@dataclass
class ChildProcess:
    """A started child: its process, its log file and where this run's log begins."""

    spec: ChildSpec
    popen: subprocess.Popen[bytes]
    log_path: Path
    log_offset: int
    started_at: float

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def pid(self) -> int:
        return self.popen.pid

    @property
    def pgid(self) -> int:
        return self.popen.pid  # session leader: its group id is its pid

    def returncode(self) -> int | None:
        return self.popen.poll()

    def log_tail(self, lines: int = DEFAULT_TAIL_LINES) -> str:
        """The last lines this run wrote to the log (not earlier runs')."""
        try:
            with self.log_path.open("rb") as f:
                f.seek(self.log_offset)
                data = f.read()
        except OSError as exc:
            return f"(log unreadable: {exc})"
        text = data.decode("utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def failure(self, reason: str) -> ChildFailedError:
        return ChildFailedError(
            self.name, reason, returncode=self.returncode(), log_path=self.log_path, log_tail=self.log_tail()
        )


def _signal_group(pgid: int, sig: signal.Signals) -> bool:
    """Signal a process group; False when nothing is left in it."""
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover - the group was reused by someone else's process
        return False
    return True


def group_alive(pgid: int) -> bool:
    """Whether any process is left in the group (signal 0 probes without signalling)."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover
        return True
    return True


class Supervisor:
    """Starts children, waits for readiness, reports deaths, stops everything.

    ``on_event`` receives one-line progress messages (the CLI prints them).
    """

    def __init__(
        self,
        log_dir: Path,
        *,
        grace_seconds: float = 10.0,
        on_event: Callable[[str], None] | None = None,
    ) -> None:
        self.log_dir = log_dir
        self.grace_seconds = grace_seconds
        self._on_event = on_event or (lambda _msg: None)
        self._children: list[ChildProcess] = []
        self._reported: set[int] = set()

    @property
    def children(self) -> tuple[ChildProcess, ...]:
        return tuple(self._children)

    def start(self, spec: ChildSpec) -> ChildProcess:
        """Start one child in its own session, its output appended to ``<log_dir>/<name>.log``."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log_path = self.log_dir / f"{spec.name}.log"
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **spec.env}
        with log_path.open("ab") as log:
            offset = log.tell()
            log.write(f"\n=== {time.strftime('%Y-%m-%dT%H:%M:%S%z')} starting: {' '.join(spec.argv)}\n".encode())
            log.flush()
            try:
                popen = subprocess.Popen(
                    spec.argv,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env=env,
                    start_new_session=True,
                )
            except OSError as exc:
                raise StackError(f"cannot start {spec.name} ({spec.argv[0]}): {exc}") from exc
        child = ChildProcess(spec=spec, popen=popen, log_path=log_path, log_offset=offset, started_at=time.monotonic())
        self._children.append(child)
        self._on_event(f"started {spec.name} (pid {popen.pid}), log: {log_path}")
        return child

    def wait_ready(
        self,
        children: Iterable[ChildProcess],
        *,
        timeout: float,
        poll_interval: float = 0.1,
        should_stop: Callable[[], bool] = lambda: False,
    ) -> None:
        """Block until every child answers its readiness URL.

        Raises :class:`ChildFailedError` when one exits meanwhile or is not ready within
        ``timeout`` seconds, :class:`StartInterruptedError` when ``should_stop()`` turns
        true (Ctrl-C during start-up); the caller stops the stack.
        """
        pending = {c.name: c for c in children}
        deadline = time.monotonic() + timeout
        with httpx.Client(timeout=READY_PROBE_TIMEOUT) as http:
            while pending:
                for name, child in list(pending.items()):
                    if child.returncode() is not None:
                        raise child.failure("exited during start-up")
                    if child.spec.ready_url is None or _answers(http, child.spec.ready_url):
                        del pending[name]
                        took = time.monotonic() - child.started_at
                        self._on_event(
                            f"{name} is ready ({took:.1f} s)" + (f": {child.spec.url}" if child.spec.url else "")
                        )
                if not pending:
                    return
                if should_stop():
                    raise StartInterruptedError("start-up interrupted")
                if time.monotonic() > deadline:
                    name, child = next(iter(pending.items()))
                    raise child.failure(f"was not ready within {timeout:g} s (probing {child.spec.ready_url})")
                time.sleep(poll_interval)

    def poll_exits(self) -> list[ChildProcess]:
        """Children that exited since the last call (each reported once)."""
        gone = [c for c in self._children if c.pid not in self._reported and c.returncode() is not None]
        self._reported.update(c.pid for c in gone)
        return gone

    def stop_all(self) -> None:
        """SIGTERM every group (last started first), wait the grace period, then SIGKILL.

        Children marked ``stop_last`` (the telemetry store, which the server flushes into)
        get their SIGTERM only once the others are gone, with a grace period of their own.
        Idempotent; safe to call when some children already exited.
        """
        children = list(reversed(self._children))
        self._stop_group([c for c in children if not c.spec.stop_last])
        self._stop_group([c for c in children if c.spec.stop_last])

    def _stop_group(self, children: list[ChildProcess]) -> None:
        for child in children:
            if child.returncode() is None:
                self._on_event(f"stopping {child.name} (pid {child.pid})")
            _signal_group(child.pgid, signal.SIGTERM)
        deadline = time.monotonic() + self.grace_seconds
        for child in children:
            remaining = max(0.0, deadline - time.monotonic())
            try:
                child.popen.wait(timeout=remaining)
            except subprocess.TimeoutExpired:
                self._on_event(f"{child.name} did not stop within {self.grace_seconds:g} s: killing it")
            # Kill leftovers in the group too (a leader that exited may leave workers behind).
            while group_alive(child.pgid) and time.monotonic() < deadline:
                time.sleep(0.05)
            if group_alive(child.pgid):
                _signal_group(child.pgid, signal.SIGKILL)
        for child in children:
            child.popen.wait()
            # Killed grandchildren are reaped by init, not by us: give it a moment to do so.
            reaped_by = time.monotonic() + KILL_REAP_SECONDS
            while group_alive(child.pgid) and time.monotonic() < reaped_by:
                time.sleep(0.02)


def _answers(http: httpx.Client, url: str) -> bool:
    try:
        return http.get(url).is_success
    except httpx.HTTPError:
        return False

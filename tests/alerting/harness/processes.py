"""The test's side of ``replica.py``: start, drive, kill and stop replicas in their own processes."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg

SCRIPT = Path(__file__).with_name("replica.py")
PG_ADMIN_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"


class Replica:
    """A replica process; ``call`` sends a command and waits for its answer."""

    def __init__(
        self,
        url: str,
        settings: dict[str, Any],
        instance: str,
        *,
        frozen: str | None = None,
        serve: bool = False,
        correlate: bool = False,
    ) -> None:
        self.instance = instance
        fd, path = tempfile.mkstemp(prefix=f"fw-13c-{instance}-", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(settings, f)
        self._settings_path = path
        argv = [sys.executable, str(SCRIPT), "--url", url, "--settings", path, "--instance", instance]
        if frozen:
            argv += ["--frozen", frozen]
        if serve:
            argv.append("--serve")
        if correlate:
            argv.append("--correlate")
        self.proc = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1
        )
        self._lines: queue.Queue[str] = queue.Queue()
        self._stderr: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._read_stderr, daemon=True).start()
        ready = self.answer(timeout=60)
        self.port: int | None = ready.get("port")
        self.pid: int = ready["pid"]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._lines.put(line)

    def _read_stderr(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self._stderr.append(line)

    def send(self, op: str, **args: Any) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps({"op": op, **args}) + "\n")
        self.proc.stdin.flush()

    def answer(self, *, timeout: float = 60) -> dict[str, Any]:
        try:
            message: dict[str, Any] = json.loads(self._lines.get(timeout=timeout))
        except queue.Empty:
            raise AssertionError(f"replica {self.instance} did not answer; stderr:\n{self.stderr}") from None
        if "error" in message:
            raise AssertionError(f"replica {self.instance}: {message['error']}\n{self.stderr}")
        return message

    def call(self, op: str, **args: Any) -> dict[str, Any]:
        self.send(op, **args)
        return self.answer()

    @property
    def stderr(self) -> str:
        return "".join(self._stderr[-60:])

    def kill(self) -> None:
        """``kill -9``: no clean stop, claims stay as they were."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                self.send("exit")
                self.proc.wait(timeout=30)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait(timeout=10)
        os.unlink(self._settings_path)


@contextmanager
def replicas(url: str, settings: dict[str, Any], *specs: dict[str, Any]) -> Iterator[list[Replica]]:
    """Start one replica per spec (``instance``, optional ``frozen``/``serve``/``correlate``); close them all after."""
    started: list[Replica] = []
    try:
        for spec in specs:
            started.append(Replica(url, settings, **spec))
        yield started
    finally:
        for r in started:
            r.close()


@contextmanager
def fresh_database() -> Iterator[str]:
    """A new PostgreSQL database ``fw_13c_<random>``, dropped afterwards."""
    name = f"fw_13c_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def waiting_on_locks(database: str) -> int:
    """How many sessions of ``database`` wait for a lock now."""
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND wait_event_type = 'Lock'", (database,)
        ).fetchone()
    return int(row[0]) if row else 0

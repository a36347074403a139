"""One-shot steps before the children start (the demo's backfill): run, stream output, stop on request.

A step is a command that must finish before anything else starts. Its output lines are
passed on as they come (progress), its stderr tail goes into the error when it fails,
and a stop request (Ctrl-C) terminates it, with every process it started, and raises ``StartInterruptedError``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
from collections import deque
from collections.abc import Callable, Sequence

from .supervisor import StackError, StartInterruptedError

POLL_SECONDS = 0.2


def _signal_group(proc: subprocess.Popen[str], sig: signal.Signals) -> None:
    """Signal the step's process group (its pid: the step leads its own session)."""
    with contextlib.suppress(ProcessLookupError):  # the group is already gone
        os.killpg(proc.pid, sig)


def run_step(
    name: str,
    argv: Sequence[str],
    *,
    emit: Callable[[str], None],
    should_stop: Callable[[], bool],
    timeout: float,
) -> None:
    """Run ``argv`` to completion, each output line through ``emit``; ``StackError`` when it fails."""
    proc = subprocess.Popen(
        list(argv), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1, start_new_session=True
    )
    tail: deque[str] = deque(maxlen=20)

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            line = line.rstrip()
            tail.append(line)
            emit(line)

    reader = threading.Thread(target=pump, name=f"{name}-output", daemon=True)
    reader.start()
    waited = 0.0
    try:
        while proc.poll() is None:
            if should_stop():
                raise StartInterruptedError(f"stopped during {name}")
            if waited >= timeout:
                raise StackError(f"{name} did not finish within {timeout:g} s")
            try:
                proc.wait(timeout=POLL_SECONDS)
            except subprocess.TimeoutExpired:
                waited += POLL_SECONDS
    finally:
        if proc.poll() is None:
            # The whole session (its own, from start_new_session): the step's workers and
            # promtool children must not outlive it, writing into the data dir after a stop.
            _signal_group(proc, signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                _signal_group(proc, signal.SIGKILL)
                proc.wait()
            _signal_group(proc, signal.SIGKILL)  # any child that ignored SIGTERM
        reader.join(timeout=5)
    if proc.returncode != 0:
        detail = "\n    ".join(tail)
        raise StackError(f"{name} failed (exit code {proc.returncode}):\n    {detail}")

"""One-shot steps before the children start (the demo's backfill): run, stream output, stop on request.

A step is a command that must finish before anything else starts. Its output lines are
passed on as they come (progress), its stderr tail goes into the error when it fails,
and a stop request (Ctrl-C) terminates it and raises ``StartInterruptedError``.
"""

from __future__ import annotations

import subprocess
import threading
from collections import deque
from collections.abc import Callable, Sequence

from .supervisor import StackError, StartInterruptedError

POLL_SECONDS = 0.2


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
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        reader.join(timeout=5)
    if proc.returncode != 0:
        detail = "\n    ".join(tail)
        raise StackError(f"{name} failed (exit code {proc.returncode}):\n    {detail}")

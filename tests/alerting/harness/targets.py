"""A remediation target whose first call stalls until the test lets it go (or 5 minutes pass)."""

from __future__ import annotations

import threading

from .._fakes import Answer, FakeReceiver, Received


class StallingTarget(FakeReceiver):
    """Answers 200 to every call; the first ``stall`` calls only once ``release()`` is called."""

    def __init__(self, *, stall: int = 1) -> None:
        self._stall = stall
        self._released = threading.Event()
        self._count_lock = threading.Lock()
        super().__init__()

    def handle(self, req: Received) -> Answer:
        with self._count_lock:
            stalls = self._stall > 0
            self._stall -= 1
        if stalls:
            self._released.wait(timeout=300)
        return Answer(200, {"ok": True})

    def release(self) -> None:
        self._released.set()

    def close(self) -> None:
        self.release()
        super().close()

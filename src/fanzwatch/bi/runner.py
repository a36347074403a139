"""``BiRunner``: keeps the rollups (and the exported KPIs) fresh in a background thread.

The refresher runs every ``interval`` seconds; a failure is logged and retried at the
next tick, never raised into the server. ``start()``/``stop()`` fit a lifespan.

>>> runner = BiRunner(refresher, interval=60.0, after_refresh=[collector.refresh]); runner.start()  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence

from .refresh import RefreshResult, RollupRefresher

logger = logging.getLogger(__name__)


class BiRunner:
    """Periodic rollup refresh in a daemon thread."""

    def __init__(
        self,
        refresher: RollupRefresher,
        *,
        interval: float,
        after_refresh: Sequence[Callable[[], None]] = (),
    ) -> None:
        self._refresher = refresher
        self._interval = interval
        self._after = tuple(after_refresh)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.last_result: RefreshResult | None = None
        self.failures = 0

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="fanzwatch-bi-rollups", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def run_once(self, *, rebuild: bool = False) -> RefreshResult | None:
        """One refresh (``rebuild``: from scratch); failures are logged and counted, not raised.

        The ``after_refresh`` hooks (cache and gauge invalidation) run after every success.
        """
        try:
            self.last_result = self._refresher.refresh(rebuild=rebuild)
        except Exception:
            self.failures += 1
            logger.exception("bi rollup refresh failed (%d failures so far); retrying next tick", self.failures)
            return None
        for hook in self._after:
            try:
                hook()
            except Exception:
                logger.exception("bi: a post-refresh hook failed")
        return self.last_result

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.run_once()
            self._stop.wait(self._interval)

"""Active users: DISTINCT users seen in a sliding window (5 minutes), per platform.

The guide added 1 per request and subtracted it five minutes later, which counts
requests. Here a user seen twice counts once. The gauge ``fanz_active_users`` is read
from the tracker when Prometheus scrapes, so there is no bookkeeping to drift.

Two implementations of :class:`ActiveUsersTracker`:

* :class:`InMemoryActiveUsers`: one process; bounded memory.
* :class:`~fanzwatch.sdk.RedisActiveUsers` (``active_users_redis``): one sorted set per
  platform, correct across worker processes and instances.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from typing import Protocol, runtime_checkable

from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from ...core.catalog import business
from ...core.platforms import OTHER_PLATFORM

DEFAULT_WINDOW_S = 300.0
logger = logging.getLogger("fanzwatch.sdk")


@runtime_checkable
class ActiveUsersTracker(Protocol):
    """Where ``mark_user_active`` goes and where the gauge reads from."""

    def mark(self, user_id: str, platform: str) -> None:
        """Record that ``user_id`` was active on ``platform`` now. Must be cheap."""
        ...

    def counts(self) -> dict[str, int]:
        """Distinct users per platform within the window (platforms with none may be absent)."""
        ...

    def close(self) -> None:
        """Release resources (flush pending marks, stop threads)."""
        ...


class InMemoryActiveUsers:
    """Distinct users per platform in one process, with bounded memory.

    Each platform keeps an insertion-ordered map user -> last seen; a mark moves the
    user to the end, so expired users are always at the front and pruning is O(expired).
    When a platform holds ``max_users`` users the least recently seen is evicted (the
    count then saturates at ``max_users``: documented, and far above one process's load).

    >>> t = InMemoryActiveUsers(); t.mark("u1", "fanz-1"); t.mark("u1", "fanz-1"); t.counts()
    {'fanz-1': 1}
    """

    def __init__(
        self,
        *,
        window_s: float = DEFAULT_WINDOW_S,
        max_users: int = 100_000,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if window_s <= 0 or max_users <= 0:
            raise ValueError("window_s and max_users must be positive")
        self._window = window_s
        self._max = max_users
        self._now = monotonic
        self._seen: dict[str, OrderedDict[str, float]] = {}
        self._lock = threading.Lock()

    def mark(self, user_id: str, platform: str) -> None:
        now = self._now()
        with self._lock:
            users = self._seen.get(platform)
            if users is None:
                users = self._seen[platform] = OrderedDict()
            if user_id in users:
                users.move_to_end(user_id)
            elif len(users) >= self._max:
                users.popitem(last=False)
            users[user_id] = now

    def counts(self) -> dict[str, int]:
        horizon = self._now() - self._window
        with self._lock:
            out = {}
            for platform, users in self._seen.items():
                while users:
                    oldest = next(iter(users.values()))
                    if oldest >= horizon:
                        break
                    users.popitem(last=False)
                out[platform] = len(users)
            return out

    def close(self) -> None:
        with self._lock:
            self._seen.clear()


class ActiveUsersCollector(Collector):
    """Exposes ``fanz_active_users`` from a tracker at collect time.

    Every configured platform (and ``other``) is reported, 0 when nobody was seen, so
    dashboards do not show gaps.
    """

    def __init__(
        self,
        tracker: ActiveUsersTracker,
        platforms: Iterable[str],
        *,
        on_failure: Callable[[str], None] | None = None,
    ) -> None:
        self._tracker = tracker
        self._platforms = tuple(platforms)
        self._on_failure = on_failure

    def collect(self) -> Iterator[Metric]:
        spec = business.ACTIVE_USERS
        family = GaugeMetricFamily(spec.name, spec.help, labels=spec.label_names)
        try:
            counts = self._tracker.counts()
        except Exception:
            # A broken tracker (Redis down) must not fail the whole scrape.
            logger.exception("active users tracker failed; fanz_active_users left out of this scrape")
            if self._on_failure is not None:
                self._on_failure("active_users")
            return
        for platform in sorted({*self._platforms, OTHER_PLATFORM, *counts}):
            family.add_metric([platform], counts.get(platform, 0))
        yield family

    def describe(self) -> Iterable[Metric]:
        spec = business.ACTIVE_USERS
        return [GaugeMetricFamily(spec.name, spec.help, labels=spec.label_names)]

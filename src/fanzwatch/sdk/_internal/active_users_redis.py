"""The Redis active-users tracker: distinct users across workers and instances.

One sorted set per platform, member = a hash of the user id, score = when the user
was last seen (unix seconds). ``mark`` only buffers in memory (the request hot path
never waits for Redis); a background thread flushes the buffer with one pipelined
``ZADD`` per platform every ``flush_interval_s``, and ``counts`` flushes first, then
trims with ``ZREMRANGEBYSCORE`` and reads ``ZCARD``. Every worker and every instance
sharing the Redis and the key prefix reports the same, exact count.

Clocks: scores use each instance's wall clock, so instances need NTP-synced clocks
(a skew of seconds is harmless against a 5-minute window).
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable, Iterable

import redis

from .active_users import DEFAULT_WINDOW_S

logger = logging.getLogger("fanzwatch.sdk")


class RedisActiveUsers:
    """Distinct active users per platform in Redis.

    >>> tracker = RedisActiveUsers(redis.Redis(), platforms=("fanz-1",))
    >>> tracker.mark("user-42", "fanz-1"); tracker.counts()["fanz-1"]
    1

    User ids are stored as BLAKE2b hashes, never in clear.
    """

    def __init__(
        self,
        client: redis.Redis,
        *,
        platforms: Iterable[str],
        key_prefix: str = "fanzwatch:active",
        window_s: float = DEFAULT_WINDOW_S,
        flush_interval_s: float = 1.0,
        max_pending: int = 100_000,
        wall_clock: Callable[[], float] = time.time,
        on_failure: Callable[[str], None] | None = None,
    ) -> None:
        if window_s <= 0 or flush_interval_s <= 0:
            raise ValueError("window_s and flush_interval_s must be positive")
        self._client = client
        self._platforms = set(platforms)
        self._prefix = key_prefix
        self._window = window_s
        self._interval = flush_interval_s
        self._max_pending = max_pending
        self._now = wall_clock
        self._on_failure = on_failure
        self._pending: dict[str, dict[str, float]] = {}
        self._npending = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def key(self, platform: str) -> str:
        """The sorted set holding ``platform``'s users."""
        return f"{self._prefix}:{platform}"

    def mark(self, user_id: str, platform: str) -> None:
        now = self._now()
        with self._lock:
            users = self._pending.get(platform)
            if users is None:
                users = self._pending[platform] = {}
            if user_id not in users:
                if self._npending >= self._max_pending:
                    return  # Redis unreachable for long: drop rather than grow without bound
                self._npending += 1
            users[user_id] = now
            if self._thread is None and not self._stop.is_set():
                self._thread = threading.Thread(target=self._run, name="fanzwatch-active-users", daemon=True)
                self._thread.start()

    def flush(self) -> None:
        """Write buffered marks to Redis now."""
        with self._lock:
            pending, self._pending, self._npending = self._pending, {}, 0
        if not pending:
            return
        ttl = int(self._window * 2) + 1  # abandoned keys disappear by themselves
        pipe = self._client.pipeline(transaction=False)
        for platform, users in pending.items():
            self._platforms.add(platform)
            members = {_member(user): seen for user, seen in users.items()}
            # GT: never move a score backwards if another worker saw the user later.
            pipe.zadd(self.key(platform), members, gt=True)
            pipe.expire(self.key(platform), ttl)
        pipe.execute()

    def counts(self) -> dict[str, int]:
        self.flush()
        horizon = self._now() - self._window
        platforms = sorted(self._platforms)
        pipe = self._client.pipeline(transaction=False)
        for platform in platforms:
            pipe.zremrangebyscore(self.key(platform), "-inf", f"({horizon}")
            pipe.zcard(self.key(platform))
        results = pipe.execute()
        return {platform: int(results[2 * i + 1]) for i, platform in enumerate(platforms)}

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        try:
            self.flush()
        except redis.RedisError:
            logger.exception("could not flush active users to Redis at shutdown")

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self.flush()
            except redis.RedisError:
                logger.exception("could not flush active users to Redis; will retry")
                if self._on_failure is not None:
                    self._on_failure("active_users")


def _member(user_id: str) -> str:
    return hashlib.blake2b(user_id.encode("utf-8"), digest_size=16).hexdigest()

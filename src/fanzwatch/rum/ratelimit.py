"""Per-client token buckets in bounded memory.

Each client address has a bucket of ``burst`` tokens refilled at ``rate`` per second;
a beacon takes one. At most ``max_clients`` buckets are kept: the least recently
seen client is forgotten first (it comes back with a full bucket, which is the
price of bounded memory under an address-rotating flood).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable


class RateLimiter:
    """``retry_after(client)`` is 0.0 when the beacon may pass, else seconds to wait.

    >>> clock = iter([0.0, 0.0, 0.0]).__next__
    >>> rl = RateLimiter(rate=1.0, burst=2, max_clients=10, clock=clock)
    >>> [rl.retry_after("10.0.0.1") for _ in range(3)]
    [0.0, 0.0, 1.0]
    """

    def __init__(
        self,
        *,
        rate: float,
        burst: int,
        max_clients: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if rate <= 0 or burst < 1 or max_clients < 1:
            raise ValueError("rate must be > 0, burst and max_clients >= 1")
        self.rate = rate
        self.burst = float(burst)
        self.max_clients = max_clients
        self._clock = clock
        self._buckets: OrderedDict[str, list[float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._buckets)

    def retry_after(self, client: str) -> float:
        now = self._clock()
        bucket = self._buckets.get(client)
        if bucket is None:
            if len(self._buckets) >= self.max_clients:
                self._buckets.popitem(last=False)
            self._buckets[client] = [self.burst - 1.0, now]
            return 0.0
        self._buckets.move_to_end(client)
        tokens = min(self.burst, bucket[0] + (now - bucket[1]) * self.rate)
        bucket[1] = now
        if tokens >= 1.0:
            bucket[0] = tokens - 1.0
            return 0.0
        bucket[0] = tokens
        return (1.0 - tokens) / self.rate

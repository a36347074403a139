"""When to try a failed delivery again, and when to stop.

Exponential backoff from ``backoff_base``, doubled per attempt up to ``backoff_max``, each
delay shortened by a random part of up to ``jitter`` (so replicas and channels that failed
together do not retry in lockstep). A receiver's ``Retry-After`` is a *minimum*: the
delay is the longer of it and the backoff (capped at an hour, so a bad header cannot
park a page for a day). Retrying ends when the message is ``max_age`` old (the last
attempt is made at that age), or after ``max_attempts`` if that optional cap is set.

>>> policy = RetryPolicy(DeliverySettings(jitter=0), rng=random.Random(1))
>>> policy.delay(3, retry_after=None), policy.delay(3, retry_after=30.0)
(datetime.timedelta(seconds=8), datetime.timedelta(seconds=30))
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from ...settings.alerting import DeliverySettings
from ..timeline import human

MAX_RETRY_AFTER = timedelta(hours=1)


class RetryPolicy:
    def __init__(self, delivery: DeliverySettings, *, rng: random.Random | None = None) -> None:
        self._d = delivery
        self._rng = rng or random.Random()

    def delay(self, attempts: int, *, retry_after: float | None) -> timedelta:
        """The wait after failed attempt number ``attempts`` (1 for the first)."""
        backoff: timedelta = min(self._d.backoff_base * (2 ** max(0, attempts - 1)), self._d.backoff_max)
        jittered = backoff * (1.0 - self._d.jitter * self._rng.random())
        if retry_after is None:
            return jittered
        return max(jittered, min(timedelta(seconds=max(0.0, retry_after)), MAX_RETRY_AFTER))

    def next_attempt(
        self, attempts: int, *, created_at: datetime, now: datetime, retry_after: float | None
    ) -> datetime | None:
        """When to try again after ``attempts`` failed attempts; None: give up now."""
        if self._d.max_attempts is not None and attempts >= self._d.max_attempts:
            return None
        deadline = created_at + self._d.max_age
        if now >= deadline:
            return None
        return min(now + self.delay(attempts, retry_after=retry_after), deadline)

    def why_given_up(self, attempts: int, *, created_at: datetime, now: datetime) -> str:
        if self._d.max_attempts is not None and attempts >= self._d.max_attempts:
            return f"after {attempts} attempts"
        return f"after {attempts} attempts over {human(now - created_at)}"

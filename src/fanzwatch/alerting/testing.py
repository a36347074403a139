"""Helpers for your own tests of alerting: an in-memory notifier that records what would be sent.

Configure a channel as usual (any kind; :func:`memory_channel` gives a placeholder webhook)
and hand the service an :class:`InMemoryNotifier` of the same name: everything queued for
that channel goes through the real outbox (order, superseding, retries) and ends in the
notifier's list instead of on the network.

>>> memory = InMemoryNotifier("ops")
>>> settings = AlertingSettings(
...     channels=[memory_channel("ops")],
...     users=[{"name": "ana", "notify": ["ops"]}],
...     schedules=[{"name": "primary", "users": ["ana"]}],
... )
>>> service = AlertingService(settings, engine, http, registry, FrozenClock(t0), notifiers=[memory])
>>> # ... post an Alertmanager payload to the webhook, then:
>>> await service.tick()
>>> memory.events()
[(1, 'trigger', 'ana')]
>>> memory.fail_next(DeliveryResult.retry("HTTP 503"), times=3)  # a receiver outage
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

from .notify.base import DeliveryResult, Notification

__all__ = ["DeliveryResult", "InMemoryNotifier", "memory_channel"]


def memory_channel(name: str) -> dict[str, Any]:
    """A channel entry for ``AlertingSettings.channels`` that an :class:`InMemoryNotifier` stands in for."""
    return {"kind": "webhook", "name": name, "url": "http://in-memory.invalid/"}


class InMemoryNotifier:
    """A notifier keeping every notification it is given; delivers unless told otherwise.

    ``sent`` holds the delivered notifications in order, ``attempts`` every attempt
    (including scripted failures). Safe to read from the test while the service's
    workers run.
    """

    def __init__(self, name: str, *, kind: str = "webhook", timeout: float = 5.0, concurrency: int = 4) -> None:
        self.name = name
        self.kind = kind
        self.timeout = timeout
        self.concurrency = concurrency
        self.sent: list[Notification] = []
        self.attempts: list[Notification] = []
        self._script: deque[DeliveryResult] = deque()
        self._changed = asyncio.Event()

    def fail_next(self, result: DeliveryResult, *, times: int = 1) -> None:
        """The next ``times`` attempts get ``result`` (a retry or a rejection) instead of delivering."""
        self._script.extend([result] * times)

    async def send(self, notification: Notification) -> DeliveryResult:
        self.attempts.append(notification)
        result = self._script.popleft() if self._script else DeliveryResult.delivered("in memory")
        if result.outcome.value == "delivered":
            self.sent.append(notification)
        self._changed.set()
        return result

    def events(self) -> list[tuple[int, str, str]]:
        """``(incident id, event, recipient)`` of every delivered notification, in order."""
        return [(n.incident_id, n.event.value, n.recipient) for n in self.sent]

    def clear(self) -> None:
        self.sent.clear()
        self.attempts.clear()
        self._script.clear()

    async def wait_for(self, count: int, *, within: float = 10.0) -> list[Notification]:
        """Wait until ``count`` notifications were delivered (with the service's workers running)."""
        async with asyncio.timeout(within):
            while len(self.sent) < count:
                self._changed.clear()
                await self._changed.wait()
        return list(self.sent)

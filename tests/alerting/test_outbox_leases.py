"""A claimed delivery waiting for a free slot must not be sent by two replicas.

``dispatch_due`` (``AlertingService.tick``) claims a batch of rows at once and sends
them ``concurrency`` at a time, so a row can wait for its slot longer than its lease,
although every single attempt ends well within it (``delivery.lease`` > timeout + 1 s).
"""

from __future__ import annotations

from typing import Any

from fanzwatch.alerting import AlertingService
from fanzwatch.alerting.notify.base import DeliveryResult, Notification
from fanzwatch.alerting.testing import InMemoryNotifier, memory_channel

from ._helpers import Harness, advance, am_alert, am_payload, api_client, base_settings, post_alerts

ATTEMPT_SECONDS = 10  # each attempt takes this long on the frozen clock: within the 10 s timeout


class SlowNotifier(InMemoryNotifier):
    """One delivery at a time, each taking ``ATTEMPT_SECONDS``; during the second one the
    other replica delivers whatever it may claim."""

    def __init__(self, h: Harness) -> None:
        super().__init__("mem", concurrency=1)
        self._h = h
        self.other: AlertingService | None = None
        self._nested = False

    async def send(self, notification: Notification) -> DeliveryResult:
        if self._nested:  # the other replica's attempts, made while ours is in flight: instant
            return await super().send(notification)
        advance(self._h.clock, seconds=ATTEMPT_SECONDS)
        if len(self.attempts) == 1 and self.other is not None:
            other, self.other = self.other, None
            self._nested = True
            try:
                await other.dispatcher.dispatch_all_due()
            finally:
                self._nested = False
        return await super().send(notification)


def _settings() -> Any:
    return base_settings(
        channels=[{**memory_channel("mem"), "timeout_seconds": ATTEMPT_SECONDS}],
        users=[{"name": "ana", "notify": ["mem"]}],
        schedules=[{"name": "primary", "users": ["ana"]}],
        delivery={"lease": "12s"},
    )


async def test_a_row_whose_lease_ran_out_while_it_waited_for_a_slot_is_sent_once(any_store: Harness) -> None:
    """Before: the first replica claimed all three triggers at once; the third waited 20 s for
    its slot, its 12 s lease ran out, the second replica retook and sent it, then the first
    sent it again (and the second one, whose claim had also run out, twice as well)."""
    h = any_store
    memory = SlowNotifier(h)
    first = h.service(_settings(), notifiers=[memory])
    second = h.service(_settings(), notifiers=[memory])
    memory.other = second
    async with api_client(first) as c:
        for alertname in ("PaymentFailureRate", "HighErrorRate", "LoginFailures"):
            assert (await post_alerts(c, am_payload(am_alert(alertname)))).status_code == 202
    await first.inbox.drain()
    await first.dispatcher.dispatch_all_due()
    await first.dispatcher.dispatch_all_due()  # anything left behind goes now, not again
    assert sorted(memory.events()) == [(1, "trigger", "ana"), (2, "trigger", "ana"), (3, "trigger", "ana")]

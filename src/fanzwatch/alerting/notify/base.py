"""What a notification is, what a notifier promises, and how an HTTP answer is judged.

A notifier turns a :class:`Notification` into one call to one service and says how it
went: delivered, retry later (timeouts, connection errors, 429 and 5xx, honouring
``Retry-After``), or rejected for good (any other 4xx: sending it again cannot help).
The outbox dispatcher does the retrying; notifiers never retry themselves.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from email.utils import parsedate_to_datetime
from enum import StrEnum
from typing import Any, Protocol

import httpx


class NotificationEvent(StrEnum):
    TRIGGER = "trigger"  # an escalation step notifies someone (the first step at open)
    REOPEN = "reopen"
    ACKNOWLEDGE = "acknowledge"
    RESOLVE = "resolve"
    PAGE = "page"  # a human is needed now (remediation gave up)


@dataclass(frozen=True, slots=True)
class Notification:
    """Everything a notifier may say about an incident to one recipient."""

    event: NotificationEvent
    incident_id: int
    title: str
    summary: str
    priority: str
    status: str
    platform: str
    service: str | None
    reason: str
    recipient: str
    address: str | None
    step: str | None
    runbook_url: str | None
    incident_url: str
    at: datetime
    labels: dict[str, str] = field(default_factory=dict)
    # The incident's money when it was queued ("Revenue at risk so far: ..."), None before it is priced.
    money: str | None = None
    # Set at delivery: the receiver's id of the first message delivered about this incident
    # on this channel (a Slack ``ts``, an e-mail ``Message-ID``), for threading follow-ups.
    thread: str | None = None
    # Set at delivery: this message's idempotency key, the same for every attempt of it.
    message_key: str | None = None

    @property
    def dedup_key(self) -> str:
        """The incident's key at the receiving end (PagerDuty's ``dedup_key``)."""
        return f"fanzwatch-incident-{self.incident_id}"

    @property
    def headline(self) -> str:
        verb = {
            NotificationEvent.TRIGGER: "triggered",
            NotificationEvent.REOPEN: "reopened",
            NotificationEvent.ACKNOWLEDGE: "acknowledged",
            NotificationEvent.RESOLVE: "resolved",
            NotificationEvent.PAGE: "needs a human",
        }[self.event]
        return f"[{self.priority}] Incident #{self.incident_id} {verb}: {self.title}"

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["event"] = self.event.value
        out["at"] = self.at.isoformat()
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Notification:
        # Keys a newer replica queued (a rolling upgrade) are left out, not fatal.
        known = {k: v for k, v in data.items() if k in _FIELDS}
        return cls(**{**known, "event": NotificationEvent(data["event"]), "at": datetime.fromisoformat(data["at"])})


_FIELDS = frozenset(Notification.__dataclass_fields__)


class Outcome(StrEnum):
    DELIVERED = "delivered"
    RETRY = "retry"
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    outcome: Outcome
    detail: str
    retry_after: float | None = None
    receipt: str | None = None  # the receiver's id of the delivered message, if it gives one

    @classmethod
    def delivered(cls, detail: str = "", *, receipt: str | None = None) -> DeliveryResult:
        return cls(Outcome.DELIVERED, detail, receipt=receipt)

    @classmethod
    def retry(cls, detail: str, retry_after: float | None = None) -> DeliveryResult:
        return cls(Outcome.RETRY, detail, retry_after)

    @classmethod
    def rejected(cls, detail: str) -> DeliveryResult:
        return cls(Outcome.REJECTED, detail)


class Notifier(Protocol):
    """One configured channel. ``send`` makes one attempt and never raises for delivery problems."""

    name: str
    kind: str
    timeout: float
    concurrency: int

    async def send(self, notification: Notification) -> DeliveryResult: ...


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """``Retry-After`` as seconds: delta-seconds or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - now).total_seconds())


def judge_response(response: httpx.Response, now: datetime) -> DeliveryResult:
    """2xx delivered; 429/5xx retry (with Retry-After); other codes rejected."""
    code = response.status_code
    snippet = response.text[:200].strip()
    if 200 <= code < 300:
        return DeliveryResult.delivered(f"HTTP {code}")
    detail = f"HTTP {code}" + (f": {snippet}" if snippet else "")
    if code == 429 or code >= 500:
        return DeliveryResult.retry(detail, retry_after_seconds(response.headers.get("retry-after"), now))
    return DeliveryResult.rejected(detail)


def judge_error(exc: httpx.HTTPError) -> DeliveryResult:
    """Transport problems are worth another try; the message never includes the URL (it may be secret)."""
    if isinstance(exc, httpx.TimeoutException):
        return DeliveryResult.retry(f"timed out ({type(exc).__name__})")
    return DeliveryResult.retry(f"{type(exc).__name__}")

"""A generic JSON webhook: fanzwatch's incident document, optionally with a bearer token.

Each message carries ``Idempotency-Key`` (and ``message_key`` in the body), the same on every
attempt of it, so a receiver can drop the duplicate a crash between its 2xx and our commit causes.
"""

from __future__ import annotations

from typing import Any

import httpx

from ...core.clock import Clock
from .base import DeliveryResult, Notification, judge_error, judge_response

WEBHOOK_VERSION = "1"


def webhook_body(n: Notification) -> dict[str, Any]:
    return {"version": WEBHOOK_VERSION, "source": "fanzwatch", **n.to_json(), "dedup_key": n.dedup_key}


class WebhookNotifier:
    kind = "webhook"

    def __init__(
        self,
        name: str,
        url: str,
        http: httpx.AsyncClient,
        clock: Clock,
        *,
        bearer_token: str | None,
        timeout: float,
        concurrency: int,
    ) -> None:
        self.name = name
        self._url = url
        self._http = http
        self._clock = clock
        self._headers = {"Authorization": f"Bearer {bearer_token}"} if bearer_token else {}
        self.timeout = timeout
        self.concurrency = concurrency

    async def send(self, notification: Notification) -> DeliveryResult:
        try:
            headers = dict(self._headers)
            if notification.message_key:
                headers["Idempotency-Key"] = notification.message_key  # the same on every attempt of this message
            response = await self._http.post(
                self._url, json=webhook_body(notification), headers=headers, timeout=self.timeout
            )
        except httpx.HTTPError as exc:
            return judge_error(exc)
        return judge_response(response, self._clock.now())

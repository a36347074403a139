"""Slack: incoming webhooks, or the Web API's ``chat.postMessage`` with a bot token.

Incoming webhook: ``POST`` a JSON message with ``text`` and Block Kit ``blocks``. Slack
answers ``200 ok``; ``400 invalid_payload``, ``403``, ``404 no_service`` and ``410
channel_is_archived`` are final; ``429`` carries ``Retry-After``. It cannot thread.

Web API (``SlackApiNotifier``): the same message to ``chat.postMessage``; Slack answers
HTTP 200 with ``{"ok": true, "ts": ...}`` or ``{"ok": false, "error": ...}``. The first
message about an incident is the thread's root (its ``ts`` is the delivery's receipt);
every later one is a reply (``thread_ts``), reopen and page also shown in the channel
(``reply_broadcast``), so a channel reads one line per incident, not one per change.
"""

from __future__ import annotations

import time
from typing import Any

import httpx

from ...core.clock import Clock
from .base import DeliveryResult, Notification, NotificationEvent, judge_error, judge_response, retry_after_seconds

_EMOJI = {
    NotificationEvent.TRIGGER: ":rotating_light:",
    NotificationEvent.REOPEN: ":rotating_light:",
    NotificationEvent.PAGE: ":sos:",
    NotificationEvent.ACKNOWLEDGE: ":eyes:",
    NotificationEvent.RESOLVE: ":white_check_mark:",
}


def slack_message(n: Notification) -> dict[str, Any]:
    """The incoming-webhook body for ``n``."""
    text = f"{_EMOJI[n.event]} {n.headline}"
    facts = f"*Priority* {n.priority}   *Platform* {n.platform}" + (f"   *Service* {n.service}" if n.service else "")
    links = f"<{n.incident_url}|Incident #{n.incident_id}>" + (
        f"  ·  <{n.runbook_url}|Runbook>" if n.runbook_url else ""
    )
    return {
        "text": text,
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": f"*{text}*\n{n.summary}"}},
            {"type": "section", "text": {"type": "mrkdwn", "text": f"{facts}\n_{n.reason}_ (for {n.recipient})"}},
            *([{"type": "section", "text": {"type": "mrkdwn", "text": f":moneybag: {n.money}"}}] if n.money else []),
            {"type": "context", "elements": [{"type": "mrkdwn", "text": links}]},
        ],
    }


class SlackNotifier:
    kind = "slack"

    def __init__(
        self, name: str, url: str, http: httpx.AsyncClient, clock: Clock, *, timeout: float, concurrency: int
    ) -> None:
        self.name = name
        self._url = url
        self._http = http
        self._clock = clock
        self.timeout = timeout
        self.concurrency = concurrency

    async def send(self, notification: Notification) -> DeliveryResult:
        try:
            response = await self._http.post(self._url, json=slack_message(notification), timeout=self.timeout)
        except httpx.HTTPError as exc:
            return judge_error(exc)
        return judge_response(response, self._clock.now())


# Web API errors worth another try; any other error is final (bad token, unknown channel...).
_TRANSIENT = frozenset({"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"})
_BROADCAST = frozenset({NotificationEvent.REOPEN, NotificationEvent.PAGE})


class SlackApiNotifier:
    """``chat.postMessage`` with a bot token, threading an incident's messages under its first."""

    kind = "slack"

    def __init__(
        self,
        name: str,
        api_url: str,
        token: str,
        channel: str,
        http: httpx.AsyncClient,
        clock: Clock,
        *,
        timeout: float,
        concurrency: int,
    ) -> None:
        self.name = name
        self._url = api_url.rstrip("/") + "/chat.postMessage"
        self._headers = {"Authorization": f"Bearer {token}"}
        self._channel = channel
        self._http = http
        self._clock = clock
        self.timeout = timeout
        self.concurrency = concurrency

    def body(self, n: Notification, *, thread: str | None) -> dict[str, Any]:
        body: dict[str, Any] = {"channel": self._channel, **slack_message(n), "unfurl_links": False}
        if thread:
            body["thread_ts"] = thread
            if n.event in _BROADCAST:
                body["reply_broadcast"] = True
        return body

    async def send(self, notification: Notification) -> DeliveryResult:
        deadline = time.monotonic() + self.timeout  # both posts share one attempt's budget
        result = await self._post(notification, thread=notification.thread, budget=self.timeout)
        if result.detail == "thread_not_found" and notification.thread:
            left = deadline - time.monotonic()
            if left <= 0.05:
                return DeliveryResult.retry("thread_not_found; no time left to post unthreaded")
            result = await self._post(notification, thread=None, budget=left)  # the root was deleted: start anew
        return result

    async def _post(self, n: Notification, *, thread: str | None, budget: float) -> DeliveryResult:
        try:
            response = await self._http.post(
                self._url, json=self.body(n, thread=thread), headers=self._headers, timeout=budget
            )
        except httpx.HTTPError as exc:
            return judge_error(exc)
        if response.status_code != 200:
            return judge_response(response, self._clock.now())
        try:
            answer = response.json()
        except ValueError:
            return DeliveryResult.retry("HTTP 200 without JSON")
        if not isinstance(answer, dict):
            return DeliveryResult.retry("HTTP 200 without a JSON object")
        if answer.get("ok") is True:
            ts = answer.get("ts")
            root = thread or (ts if isinstance(ts, str) else None)
            return DeliveryResult.delivered("ok", receipt=root)
        error = str(answer.get("error") or "unknown_error")[:200]
        if error in _TRANSIENT:
            return DeliveryResult.retry(
                error, retry_after_seconds(response.headers.get("retry-after"), self._clock.now())
            )
        return DeliveryResult.rejected(error)

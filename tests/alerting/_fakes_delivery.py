"""Real local servers for the delivery tests: a slow receiver, one that is down for a while,
and Slack's Web API (``chat.postMessage``) for bot-token threading.

Like ``_fakes``, each is a stdlib HTTP server on a loopback port in its own thread.
"""

from __future__ import annotations

import itertools
import threading
import time

from ._fakes import Answer, FakeHttpService, Received


class SlowReceiver(FakeHttpService):
    """A webhook receiver answering 200 after ``delay`` seconds to requests whose event is in ``slow``."""

    def __init__(self, *, delay: float, slow: tuple[str, ...] = ("trigger",)) -> None:
        self.delay = delay
        self.slow = slow
        self.answered: list[tuple[str, float]] = []  # (event, time.monotonic() of the answer)
        super().__init__()

    @property
    def url(self) -> str:
        return self.base_url + "/hook"

    def handle(self, req: Received) -> Answer:
        event = req.body.get("event", "") if isinstance(req.body, dict) else ""
        if event in self.slow:
            time.sleep(self.delay)
        self.answered.append((event, time.monotonic()))
        return Answer(200, {"ok": True})

    def events(self) -> list[str]:
        return [r.body["event"] for r in self.requests]


class OutageReceiver(FakeHttpService):
    """A webhook receiver that answers 503 while ``down`` is set, 200 otherwise."""

    def __init__(self) -> None:
        self.down = threading.Event()
        super().__init__()

    @property
    def url(self) -> str:
        return self.base_url + "/hook"

    def handle(self, req: Received) -> Answer:
        if self.down.is_set():
            return Answer(503, {"error": "maintenance"})
        return Answer(200, {"ok": True})


class FakeSlackApi(FakeHttpService):
    """Slack's Web API ``chat.postMessage`` with a bot token, as Slack answers it.

    Always HTTP 200 with ``{"ok": true, "channel", "ts"}`` or ``{"ok": false, "error"}``
    (``invalid_auth``, ``channel_not_found``, ``thread_not_found``); 429 with
    ``Retry-After`` when scripted with ``fail``.
    """

    token = "xoxb-test-token"

    def __init__(self, *, channels: tuple[str, ...] = ("C0OPS",)) -> None:
        self.channels = channels
        self.posted: list[dict[str, object]] = []  # accepted messages with their ts
        self._ts = itertools.count(1)
        super().__init__()

    @property
    def url(self) -> str:
        return self.base_url + "/api"

    def handle(self, req: Received) -> Answer:
        if req.path != "/api/chat.postMessage" or req.method != "POST":
            return Answer(404, "not found")
        if req.headers.get("Authorization") != f"Bearer {self.token}":
            return Answer(200, {"ok": False, "error": "invalid_auth"})
        body = req.body if isinstance(req.body, dict) else {}
        if body.get("channel") not in self.channels:
            return Answer(200, {"ok": False, "error": "channel_not_found"})
        if not (body.get("text") or body.get("blocks")):
            return Answer(200, {"ok": False, "error": "no_text"})
        thread = body.get("thread_ts")
        if thread is not None and all(m["ts"] != thread for m in self.posted):
            return Answer(200, {"ok": False, "error": "thread_not_found"})
        ts = f"1767000000.{next(self._ts):06d}"
        self.posted.append({**body, "ts": ts})
        return Answer(200, {"ok": True, "channel": body["channel"], "ts": ts, "message": {"text": body.get("text")}})

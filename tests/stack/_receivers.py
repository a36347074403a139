"""Real HTTP servers standing in for what Alertmanager notifies: a webhook and Slack.

Both record every JSON body they receive, with the time it arrived, and answer the way
the real thing does (Slack's incoming webhooks answer ``200 ok``).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    at: float
    path: str
    body: dict[str, Any]
    authorization: str | None = None


@dataclass
class RecordingReceiver:
    """What one receiver got; ``wait_for`` polls with a bounded timeout."""

    url: str
    answer: bytes
    messages: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def snapshot(self) -> list[Received]:
        with self.lock:
            return list(self.messages)

    def wait_for(self, predicate: Callable[[Received], bool], *, timeout: float, what: str) -> Received:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for message in self.snapshot():
                if predicate(message):
                    return message
            time.sleep(0.05)
        got = [(m.path, json.dumps(m.body)[:300]) for m in self.snapshot()]
        raise AssertionError(f"{what} did not arrive at {self.url} within {timeout:g} s; got {got}")


@contextmanager
def recording_receiver(port: int, *, answer: bytes = b"") -> Iterator[RecordingReceiver]:
    """A threaded HTTP server on 127.0.0.1:``port`` recording JSON POSTs."""
    receiver = RecordingReceiver(url=f"http://127.0.0.1:{port}", answer=answer)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", "0"))
            raw = self.rfile.read(length)
            try:
                body = json.loads(raw)
            except json.JSONDecodeError:
                self.send_response(400)
                self.end_headers()
                return
            with receiver.lock:
                receiver.messages.append(Received(time.monotonic(), self.path, body, self.headers.get("authorization")))
            self.send_response(200)
            self.send_header("content-type", "text/plain")
            self.send_header("content-length", str(len(receiver.answer)))
            self.end_headers()
            self.wfile.write(receiver.answer)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

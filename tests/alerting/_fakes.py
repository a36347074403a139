"""Real local servers standing in for what cannot run here: Slack, PagerDuty, webhook
receivers, an SMTP server, the demo platform's admin API and a process supervisor.

Each HTTP fake is a stdlib ``ThreadingHTTPServer`` on a loopback port in its own thread,
speaking the real service's protocol (status codes, bodies, ``Retry-After``), recording
every request it gets. Tests script its answers: ``fail(500, times=3)``, ``hang()``...
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: Any
    at: float  # time.monotonic() when the request arrived


@dataclass
class Answer:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    hang: bool = False


class FakeHttpService:
    """A scriptable HTTP server. Subclasses implement ``handle`` with the real protocol."""

    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.accepted: list[Received] = []  # requests answered 2xx
        self._script: deque[Answer] = deque()
        self._lock = threading.Lock()
        self._release = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body: Any = json.loads(raw) if raw else None
                except ValueError:
                    body = raw.decode("utf-8", "replace")
                req = Received(self.command, self.path, dict(self.headers), body, time.monotonic())
                with outer._lock:
                    outer.requests.append(req)
                    scripted = outer._script.popleft() if outer._script else None
                answer = scripted or outer.handle(req)
                if answer.hang:
                    outer._release.wait(timeout=60)
                    self.close_connection = True  # unanswered: the caller sees the connection close
                    return
                data = (
                    b""
                    if answer.body is None
                    else (answer.body.encode() if isinstance(answer.body, str) else json.dumps(answer.body).encode())
                )
                if 200 <= answer.status < 300:
                    with outer._lock:
                        outer.accepted.append(req)
                try:
                    self.send_response(answer.status)
                    self.send_header(
                        "Content-Type", "application/json" if not isinstance(answer.body, str) else "text/plain"
                    )
                    self.send_header("Content-Length", str(len(data)))
                    for k, v in answer.headers.items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the client gave up (timeout): fine

            do_POST = do_PUT = do_GET = do_PATCH = do_DELETE = _serve

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def handle(self, req: Received) -> Answer:
        return Answer(200, {"ok": True})

    def fail(self, status: int, *, times: int = 1, body: Any = None, headers: dict[str, str] | None = None) -> None:
        """The next ``times`` requests get ``status`` (then the normal protocol answer again)."""
        for _ in range(times):
            self._script.append(Answer(status, body, headers or {}))

    def hang(self, *, times: int = 1_000_000) -> None:
        """The next requests are read and never answered (until ``close``)."""
        for _ in range(min(times, 1000)):
            self._script.append(Answer(0, hang=True))

    def release(self) -> None:
        """Hung requests end now, unanswered: their callers see the connection close."""
        self._release.set()

    def close(self) -> None:
        self._release.set()
        self._server.shutdown()
        self._server.server_close()


class FakeSlack(FakeHttpService):
    """Slack incoming webhooks: ``200 ok``, ``400 invalid_payload`` without text or blocks."""

    path = "/services/T000/B000/XXXX"

    @property
    def url(self) -> str:
        return self.base_url + self.path

    def handle(self, req: Received) -> Answer:
        if req.path != self.path:
            return Answer(404, "no_service")
        if not isinstance(req.body, dict) or not (req.body.get("text") or req.body.get("blocks")):
            return Answer(400, "invalid_payload")
        return Answer(200, "ok")


PD_SEVERITIES = {"critical", "error", "warning", "info"}


class FakePagerDuty(FakeHttpService):
    """PagerDuty Events API v2 at ``/v2/enqueue``: validates the event like PagerDuty does."""

    @property
    def url(self) -> str:
        return self.base_url + "/v2/enqueue"

    def handle(self, req: Received) -> Answer:
        body = req.body if isinstance(req.body, dict) else {}
        errors = []
        if req.path != "/v2/enqueue":
            return Answer(404, {"status": "not found"})
        if not body.get("routing_key"):
            errors.append("'routing_key' is missing or blank")
        action = body.get("event_action")
        if action not in {"trigger", "acknowledge", "resolve"}:
            errors.append("'event_action' is invalid")
        if action in {"acknowledge", "resolve"} and not body.get("dedup_key"):
            errors.append("'dedup_key' is required to acknowledge or resolve")
        if action == "trigger":
            payload = body.get("payload") or {}
            for key in ("summary", "source", "severity"):
                if not payload.get(key):
                    errors.append(f"'payload.{key}' is missing or blank")
            if payload.get("severity") and payload["severity"] not in PD_SEVERITIES:
                errors.append("'payload.severity' is invalid")
        if errors:
            return Answer(400, {"status": "invalid event", "message": "Event object is invalid", "errors": errors})
        return Answer(202, {"status": "success", "message": "Event processed", "dedup_key": body.get("dedup_key")})

    def events(self) -> list[tuple[str, str]]:
        """(event_action, dedup_key) of every accepted event, in order."""
        return [(r.body["event_action"], r.body["dedup_key"]) for r in self.accepted]


class FakeReceiver(FakeHttpService):
    """A generic webhook receiver: 200 for any JSON body."""

    @property
    def url(self) -> str:
        return self.base_url + "/hook"


class FakePlatformAdmin(FakeHttpService):
    """The demo platform's admin API for the processor switch; ``stuck`` ignores switches."""

    def __init__(self) -> None:
        self.active = "primary"
        self.stuck = False
        super().__init__()

    def handle(self, req: Received) -> Answer:
        if req.path != "/admin/payment-processor":
            return Answer(404, {"detail": "Not Found"})
        if req.method == "PUT":
            if not isinstance(req.body, dict) or req.body.get("active") not in {"primary", "backup"}:
                return Answer(422, {"detail": "active must be primary or backup"})
            if not self.stuck:
                self.active = req.body["active"]
        return Answer(200, {"active": self.active})


class SmtpSink:
    """A real SMTP server (aiosmtpd) on a loopback port, keeping every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], str]] = []
        self.reply: str | None = None  # e.g. "451 4.3.0 try later" to refuse the next DATA
        outer = self

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                if outer.reply is not None:
                    reply, outer.reply = outer.reply, None
                    return reply
                outer.messages.append(
                    (envelope.mail_from, list(envelope.rcpt_tos), envelope.content.decode("utf-8", "replace"))
                )
                return "250 Message accepted for delivery"

        with socket.socket() as s:  # aiosmtpd's readiness probe needs a real port, not 0
            s.bind(("127.0.0.1", 0))
            self.port = int(s.getsockname()[1])
        self._controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def close(self) -> None:
        self._controller.stop()


CHILD = "import signal, sys, time; signal.signal(signal.SIGTERM, lambda *a: sys.exit(0)); time.sleep(3600)"


class ProcessSupervisor(FakeHttpService):
    """The stack runner's side of the process-control protocol, managing a real child process."""

    def __init__(self, name: str, *, token: str | None = None) -> None:
        self.name = name
        self.token = token
        self.restarts = 0
        self.child = self._spawn()
        super().__init__()

    @staticmethod
    def _spawn() -> subprocess.Popen[bytes]:
        return subprocess.Popen([sys.executable, "-c", CHILD], start_new_session=True)

    def handle(self, req: Received) -> Answer:
        if self.token is not None and req.headers.get("Authorization") != f"Bearer {self.token}":
            return Answer(401, {"detail": "unauthorized"})
        if req.method != "POST" or req.path != f"/v1/processes/{self.name}/restart":
            return Answer(404, {"detail": f"unknown process {req.path}"})
        old = self.child
        os.killpg(old.pid, signal.SIGTERM)
        old.wait(timeout=10)
        self.child = self._spawn()
        self.restarts += 1
        return Answer(200, {"name": self.name, "pid": self.child.pid})

    def close(self) -> None:
        super().close()
        if self.child.poll() is None:
            os.killpg(self.child.pid, signal.SIGKILL)
            self.child.wait(timeout=10)


def wait_until(what: str, probe: Callable[[], object], timeout: float = 30.0, interval: float = 0.02) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)

"""Delivered messages: what the demo's Slack, PagerDuty and SMTP receivers got, in order.

Kept in memory (bounded, newest kept) and appended to a JSON-lines file, so the page
shows what arrived before a restart of the sinks and a test can read it back.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections import deque
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

MAX_KEPT = 2000


@dataclass(frozen=True, slots=True)
class Delivered:
    """One message as a person would read it, with what was sent on the wire."""

    id: int
    at: str  # ISO 8601, UTC
    channel: str  # "slack", "pagerduty" or "email"
    to: str  # the webhook path, the routing key's tail, or the mail recipients
    title: str
    text: str
    detail: dict[str, Any] = field(default_factory=dict)


class MessageLog:
    """Thread-safe log of delivered messages.

    >>> log = MessageLog(Path("sinks.jsonl"))
    >>> log.add("slack", to="/services/T0/B0/x", title="Incident #1", text="...")
    """

    def __init__(self, path: Path | None = None, *, keep: int = MAX_KEPT) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._messages: deque[Delivered] = deque(maxlen=keep)
        self._ids = itertools.count(1)
        if path is not None and path.is_file():
            self._reload(path)

    def _reload(self, path: Path) -> None:
        last = 0
        for line in path.read_text(errors="replace").splitlines():
            try:
                message = Delivered(**json.loads(line))
            except (ValueError, TypeError):
                continue  # a line cut short by a kill: skip it
            self._messages.append(message)
            last = max(last, message.id)
        self._ids = itertools.count(last + 1)

    def add(self, channel: str, *, to: str, title: str, text: str, detail: dict[str, Any] | None = None) -> Delivered:
        with self._lock:
            message = Delivered(
                id=next(self._ids),
                at=datetime.now(UTC).isoformat(timespec="milliseconds"),
                channel=channel,
                to=to,
                title=title,
                text=text,
                detail=detail or {},
            )
            self._messages.append(message)
            if self._path is not None:
                with self._path.open("a") as f:
                    f.write(json.dumps(asdict(message)) + "\n")
        return message

    def all(self, *, channel: str | None = None) -> list[Delivered]:
        """Oldest first (optionally one channel's)."""
        with self._lock:
            return [m for m in self._messages if channel is None or m.channel == channel]

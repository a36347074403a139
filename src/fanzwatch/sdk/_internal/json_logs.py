"""JSON logs: one object per line, carrying trace id, span id and request id.

>>> configure_logging(service="payments", level="info")
>>> logging.getLogger("payments").info("payment captured", extra={"payment_id": "p_1"})
{"timestamp":"2026-01-01T12:00:00.123Z","level":"info","logger":"payments","message":"payment captured",
 "trace_id":"4bf9...","span_id":"00f0...","request_id":"4bf9...","service":"payments","payment_id":"p_1"}

Extra fields whose names look like secrets or headers (``authorization``, ``cookie``,
``password``, ``token``, ``headers``...) are replaced by ``"[redacted]"``: logs never
carry them.
"""

from __future__ import annotations

import logging
import re
import sys
import traceback
from datetime import UTC, datetime
from typing import IO, Any

import orjson
from opentelemetry import trace

from .request_id import REQUEST_ID

# Attributes every LogRecord has; anything else on a record came from ``extra=``.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "taskName"}
SECRET_KEY = re.compile(r"(authori[sz]ation|cookie|passw(or)?d|secret|token|api[_-]?key|headers?|credential)", re.I)
REDACTED = "[redacted]"
_HANDLER_MARK = "_fanzwatch_json"


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON object (orjson; non-JSON values become strings)."""

    def __init__(self, *, service: str | None = None) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        ctx = trace.get_current_span().get_span_context()
        if ctx.is_valid:
            out["trace_id"] = trace.format_trace_id(ctx.trace_id)
            out["span_id"] = trace.format_span_id(ctx.span_id)
        request_id = REQUEST_ID.get()
        if request_id is not None:
            out["request_id"] = request_id
        if self.service is not None:
            out["service"] = self.service
        for key, value in record.__dict__.items():
            if key in _STANDARD or key.startswith("_") or key in out:
                continue
            out[key] = REDACTED if SECRET_KEY.search(key) else value
        if record.exc_info and record.exc_info[0] is not None:
            out["exception"] = "".join(traceback.format_exception(*record.exc_info)).rstrip()
            out["exception_type"] = record.exc_info[0].__name__
        return orjson.dumps(out, default=str).decode("utf-8")


def configure_logging(
    *, service: str | None = None, level: str | int = "info", stream: IO[str] | None = None
) -> logging.Handler:
    """Send the root logger's records to ``stream`` (stderr) as JSON lines.

    Idempotent: calling again replaces the handler it installed before (and keeps
    any other handler).
    """
    root = logging.getLogger()
    for existing in list(root.handlers):
        if getattr(existing, _HANDLER_MARK, False):
            root.removeHandler(existing)
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(JsonFormatter(service=service))
    setattr(handler, _HANDLER_MARK, True)
    root.addHandler(handler)
    root.setLevel(level.upper() if isinstance(level, str) else level)
    return handler

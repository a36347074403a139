"""JSON logs: one object per line with trace id, span id, request id; secrets never logged."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from fanzwatch.sdk import JsonFormatter, TelemetryMiddleware, configure_logging, trace_operation
from fanzwatch.sdk.testing import TelemetryCapture


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    root = logging.getLogger()
    level = root.level
    handler = configure_logging(service="svc", level="info", stream=stream)
    yield stream
    root.removeHandler(handler)
    root.setLevel(level)


def _lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_a_plain_line_has_the_base_fields(log_stream: io.StringIO) -> None:
    logging.getLogger("app.orders").info("order %s shipped", "o-1", extra={"order_id": "o-1", "items": 3})
    [line] = _lines(log_stream)
    assert set(line) == {"timestamp", "level", "logger", "message", "service", "order_id", "items"}
    assert line["message"] == "order o-1 shipped"
    assert line["level"] == "info"
    assert line["logger"] == "app.orders"
    assert line["service"] == "svc"
    assert line["timestamp"].endswith("Z") and len(line["timestamp"]) == 24


def test_trace_and_span_ids_inside_a_span(cap: TelemetryCapture, log_stream: io.StringIO) -> None:
    with trace_operation("op") as span:
        logging.getLogger("app").warning("inside")
    [line] = _lines(log_stream)
    ctx = span.get_span_context()
    assert line["trace_id"] == f"{ctx.trace_id:032x}"
    assert line["span_id"] == f"{ctx.span_id:016x}"
    assert line["level"] == "warning"


async def test_request_id_reaches_logs_inside_a_sync_endpoint(cap: TelemetryCapture, log_stream: io.StringIO) -> None:
    app = FastAPI()

    @app.get("/orders")
    def orders() -> dict[str, str]:  # sync: runs in a worker thread, context copied
        logging.getLogger("app").info("listing orders")
        return {}

    app.add_middleware(TelemetryMiddleware, telemetry=cap.telemetry)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.get("/orders", headers={"X-Request-ID": "req-42"})
    [line] = [entry for entry in _lines(log_stream) if entry["message"] == "listing orders"]
    assert line["request_id"] == "req-42"
    assert line["trace_id"] == f"{cap.span('GET /orders').context.trace_id:032x}"
    assert response.headers["x-request-id"] == "req-42"


def test_secrets_and_headers_are_redacted(log_stream: io.StringIO) -> None:
    logging.getLogger("app").info(
        "calling",
        extra={"headers": {"Authorization": "Bearer x"}, "api_key": "k", "user_password": "p", "Cookie": "c", "ok": 1},
    )
    [line] = _lines(log_stream)
    assert line["headers"] == line["api_key"] == line["user_password"] == line["Cookie"] == "[redacted]"
    assert line["ok"] == 1
    assert "Bearer" not in log_stream.getvalue()


def test_exceptions_are_one_line_with_the_traceback(log_stream: io.StringIO) -> None:
    try:
        raise KeyError("missing")
    except KeyError:
        logging.getLogger("app").exception("lookup failed")
    text = log_stream.getvalue()
    assert text.count("\n") == 1
    [line] = _lines(log_stream)
    assert line["exception_type"] == "KeyError"
    assert "Traceback" in line["exception"] and "KeyError: 'missing'" in line["exception"]


def test_configure_logging_is_idempotent(log_stream: io.StringIO) -> None:
    second = io.StringIO()
    handler = configure_logging(service="svc", stream=second)
    logging.getLogger("app").info("once")
    assert log_stream.getvalue() == ""
    assert len(_lines(second)) == 1
    logging.getLogger().removeHandler(handler)


def test_unserialisable_values_become_strings() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "m", None, None)
    record.obj = object()
    out = json.loads(JsonFormatter().format(record))
    assert out["obj"].startswith("<object object at")

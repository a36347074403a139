"""The guide's payment-with-fraud-check flow (examples/) produces the documented span tree."""

from __future__ import annotations

import importlib.util
import sqlite3
import sys
from decimal import Decimal
from pathlib import Path
from types import ModuleType

import httpx
import pytest
from opentelemetry.trace import SpanKind, StatusCode

from fanzwatch.sdk.testing import TelemetryCapture

EXAMPLE = Path(__file__).parents[2] / "examples" / "payment_with_fraud_check.py"


@pytest.fixture(scope="module")
def example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("payment_with_fraud_check", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


async def test_approved_payment_span_tree(cap: TelemetryCapture, example: ModuleType) -> None:
    request = example.PaymentRequest(Decimal("9.99"), "USD", "tip", "creator-1", "fan-1", "US")
    with example.run_processor() as url:
        async with httpx.AsyncClient() as http:
            db = sqlite3.connect(":memory:")
            charge = await example.PaymentService(url, http, db).process_payment(request)

    root = cap.span("payment.process")
    fraud = cap.span("payment.fraud_detection")
    call = cap.span("POST payment-processor")
    insert = cap.span("INSERT payments")
    assert root.parent is None
    for child in (fraud, call, insert):
        assert child.parent is not None and child.parent.span_id == root.context.span_id
    assert [s.name for s in cap.spans()] == [
        "payment.fraud_detection",
        "POST payment-processor",
        "INSERT payments",
        "payment.process",
    ]
    assert (root.attributes or {})["payment.amount"] == 9.99
    assert (root.attributes or {})["creator.id"] == "creator-1"
    assert (fraud.attributes or {})["fraud.risk_score"] == 0.05
    assert call.kind is SpanKind.CLIENT and (call.attributes or {})["http.response.status_code"] == 200
    assert (insert.attributes or {})["db.system"] == "sqlite"
    assert [e.name for e in root.events] == ["payment.completed"]
    # The processor received our client span's context.
    assert (
        charge["received_traceparent"]
        == f"00-{call.context.trace_id:032x}-{call.context.span_id:016x}-{call.context.trace_flags:02x}"
    )
    assert db.execute("SELECT count(*) FROM payments").fetchone() == (1,)
    labels = {"platform": "fanz-1", "payment_type": "tip", "currency": "USD"}
    assert cap.get_sample_value("fanz_revenue_total", labels) == pytest.approx(9.99)


async def test_fraud_rejection_span_tree(cap: TelemetryCapture, example: ModuleType) -> None:
    request = example.PaymentRequest(Decimal("900"), "USD", "ppv", "creator-2", "fan-2", "ZZ")
    async with httpx.AsyncClient() as http:
        service = example.PaymentService("http://127.0.0.1:1", http, sqlite3.connect(":memory:"))
        with pytest.raises(example.PaymentRejectedError):
            await service.process_payment(request)

    assert [s.name for s in cap.spans()] == ["payment.fraud_detection", "payment.process"]
    root = cap.span("payment.process")
    assert root.status.status_code is StatusCode.ERROR
    assert [e.name for e in root.events] == ["payment.fraud_rejected", "exception"]
    assert dict(root.events[0].attributes or {}) == {"reason": "high amount from unusual country", "risk_score": 0.95}
    labels = {"platform": "fanz-1", "payment_type": "ppv", "currency": "USD"}
    assert cap.get_sample_value("fanz_payment_transactions_total", {**labels, "status": "declined"}) == 1
    assert cap.get_sample_value("fanz_revenue_total", labels) == 0  # its series exists from the first attempt

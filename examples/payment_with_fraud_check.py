"""The guide's payment flow with a fraud check, instrumented with fanzwatch.sdk.

    .venv/bin/python examples/payment_with_fraud_check.py

Span tree of one approved payment::

    payment.process                        (INTERNAL; payment.*, creator.id, fan.id)
    ├── payment.fraud_detection            (INTERNAL; fraud.check_type, fraud.risk_score)
    ├── POST payment-processor             (CLIENT; traceparent sent to the processor)
    └── INSERT payments                    (CLIENT; db.system=sqlite, db.operation.name, db.collection.name)
    events on payment.process: payment.completed (or payment.fraud_rejected)

The payment processor is a real local HTTP server (``run_processor``) that echoes the
``traceparent`` it received, so the propagation can be checked. Business metrics are
recorded where the outcome is known: ``record_payment(..., status=...)``.
Set ``OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318`` to send the spans to a collector.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

from fanzwatch.sdk import (
    PaymentStatus,
    PaymentType,
    add_event,
    configure_logging,
    init_telemetry,
    record_payment,
    set_attributes,
    trace_db,
    trace_external,
    trace_operation,
)

logger = logging.getLogger("payments")


@dataclass(frozen=True)
class PaymentRequest:
    amount: Decimal
    currency: str
    payment_type: PaymentType
    creator_id: str
    fan_id: str
    card_country: str


@dataclass(frozen=True)
class FraudResult:
    approved: bool
    risk_score: float
    reason: str = ""


class PaymentRejectedError(Exception):
    """The fraud check refused the payment."""


def analyse_fraud(request: PaymentRequest) -> FraudResult:
    """A deliberately simple rule set standing in for the fraud service."""
    score = 0.05
    if request.amount > Decimal("500"):
        score += 0.5
    if request.card_country not in {"US", "GB", "DE", "FR", "CA"}:
        score += 0.4
    if score >= 0.8:
        return FraudResult(False, round(score, 2), "high amount from unusual country")
    return FraudResult(True, round(score, 2))


class PaymentService:
    """Processes a payment: fraud check, processor charge, storage; traced and measured."""

    def __init__(self, processor_url: str, http: httpx.AsyncClient, db: sqlite3.Connection) -> None:
        self._processor_url = processor_url
        self._http = http
        self._db = db
        db.execute("CREATE TABLE IF NOT EXISTS payments (id TEXT PRIMARY KEY, amount TEXT, currency TEXT)")

    @trace_operation("payment.process", attributes={"operation.type": "payment_processing", "user.role": "fan"})
    async def process_payment(self, request: PaymentRequest) -> dict[str, str]:
        set_attributes(
            {
                "payment.amount": float(request.amount),
                "payment.currency": request.currency,
                "payment.type": request.payment_type,
                "creator.id": request.creator_id,
                "fan.id": request.fan_id,
            }
        )
        with trace_operation("payment.fraud_detection", attributes={"fraud.check_type": "full_analysis"}) as span:
            fraud = analyse_fraud(request)
            span.set_attribute("fraud.risk_score", fraud.risk_score)
        if not fraud.approved:
            add_event("payment.fraud_rejected", reason=fraud.reason, risk_score=fraud.risk_score)
            record_payment(
                amount=request.amount, currency=request.currency, payment_type=request.payment_type, status="declined"
            )
            raise PaymentRejectedError("payment rejected due to fraud risk")

        url = f"{self._processor_url}/v1/charges"
        with trace_external("payment-processor", method="POST", url=url) as call:
            response = await self._http.post(
                url, headers=call.headers, json={"amount": str(request.amount), "currency": request.currency}
            )
            call.record_response(response.status_code)
        charge: dict[str, str] = response.json()
        ok = response.status_code == 200 and charge["status"] == "succeeded"
        status: PaymentStatus = "completed" if ok else "failed"
        record_payment(
            amount=request.amount, currency=request.currency, payment_type=request.payment_type, status=status
        )
        if status != "completed":
            raise RuntimeError(f"processor refused the charge: HTTP {response.status_code}")

        with trace_db(operation="INSERT", table="payments", system="sqlite"):
            self._db.execute(
                "INSERT INTO payments (id, amount, currency) VALUES (?, ?, ?)",
                (charge["id"], str(request.amount), request.currency),
            )
        add_event("payment.completed", **{"payment.id": charge["id"], "payment.status": charge["status"]})
        logger.info("payment completed", extra={"payment_id": charge["id"]})
        return charge


class _ProcessorHandler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        json.loads(self.rfile.read(length) or b"{}")
        body = json.dumps(
            {
                "id": f"ch_{uuid.uuid4().hex[:16]}",
                "status": "succeeded",
                "received_traceparent": self.headers.get("traceparent", ""),
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return


@contextmanager
def run_processor() -> Iterator[str]:
    """A local fake payment processor; yields its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ProcessorHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


async def _demo(processor_url: str) -> None:
    async with httpx.AsyncClient(timeout=5.0) as http:
        service = PaymentService(processor_url, http, sqlite3.connect(":memory:"))
        ok = PaymentRequest(Decimal("9.99"), "USD", "tip", "creator-1", "fan-1", "US")
        risky = PaymentRequest(Decimal("900"), "USD", "ppv", "creator-2", "fan-2", "ZZ")
        print("approved:", await service.process_payment(ok))
        try:
            await service.process_payment(risky)
        except PaymentRejectedError as exc:
            print("rejected:", exc)


def main() -> None:
    telemetry = init_telemetry(service_name="payments-example", platform="fanz-1")
    configure_logging(service="payments-example")
    try:
        with run_processor() as url:
            asyncio.run(_demo(url))
        body, _ = telemetry.render_metrics()
        print("\n".join(line for line in body.decode().splitlines() if line.startswith("fanz_payment")))
    finally:
        telemetry.shutdown()


if __name__ == "__main__":
    main()

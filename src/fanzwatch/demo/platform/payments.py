"""The payment flow: fraud check, charge, record — traced, counted, stored.

Every attempt ends in exactly one of three outcomes, recorded the same way in the
``transactions`` table, in ``fanz_payment_transactions_total{status}`` and on the trace:

- ``completed``: the processor charged the card;
- ``declined``: the fraud check rejected it or the card issuer declined (the fan's
  problem: HTTP 402);
- ``failed``: the processor could not be reached or answered 5xx (our problem: HTTP 502,
  and what the payment-failure alert watches).

The trace is ``payment.process`` with two client spans below it, the fraud check and the
charge, each carrying W3C trace context to the processor (whose server spans and
``fraud.check`` span join the trace); the route then writes the ledger row in an
``INSERT transactions`` span. Log lines inside these spans carry their ids.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Literal

from fanzwatch.sdk import Telemetry, add_event, set_attributes, trace_operation

from ..processor.models import ChargeRequest, ChargeStatus, FraudCheckRequest, FraudDecision
from .processor_client import ProcessorClient, ProcessorUnavailableError

logger = logging.getLogger(__name__)

PaymentType = Literal["subscription", "tip", "ppv"]
PaymentStatus = Literal["completed", "declined", "failed"]
CURRENCY_EXPONENT = {"USD": 2, "EUR": 2, "GBP": 2, "CAD": 2, "AUD": 2}


def to_major(amount_minor: int, currency: str) -> Decimal:
    """Minor units to an exact decimal amount: ``to_major(1999, "USD") == Decimal("19.99")``."""
    return Decimal(amount_minor).scaleb(-CURRENCY_EXPONENT[currency])


def money(amount: Decimal | None, currency: str | None) -> Decimal | None:
    """An amount at its currency's precision (the database keeps four places)."""
    if amount is None or currency is None:
        return amount
    return amount.quantize(Decimal(1).scaleb(-CURRENCY_EXPONENT.get(currency, 2)))


@dataclass(frozen=True, slots=True)
class PaymentAttempt:
    platform: str
    payment_type: PaymentType
    fan_id: int
    creator_id: int
    amount_minor: int
    currency: str
    card_token: str


@dataclass(frozen=True, slots=True)
class PaymentOutcome:
    status: PaymentStatus
    reason: str | None
    charge_id: str | None
    amount: Decimal
    at: datetime


class PaymentService:
    """Runs one payment attempt through the processor and reports its outcome."""

    def __init__(self, processor: ProcessorClient, telemetry: Telemetry) -> None:
        self.processor = processor
        self.telemetry = telemetry

    async def attempt(self, p: PaymentAttempt) -> PaymentOutcome:
        amount = to_major(p.amount_minor, p.currency)
        attributes = {
            "payment.type": p.payment_type,
            "payment.amount": float(amount),
            "payment.currency": p.currency,
            "fan.id": str(p.fan_id),
            "creator.id": str(p.creator_id),
            "fanz.platform": p.platform,
        }
        async with trace_operation("payment.process", attributes=attributes):
            status, reason, charge_id = await self._run(p)
            set_attributes({"payment.status": status, "payment.endpoint": self.processor.active.value})
            add_event(f"payment.{status}", {"reason": reason or ""})
            # Inside the span: exported as OTLP logs, these lines link to the payment's trace.
            if status == "failed":
                logger.warning("payment failed: %s (platform=%s type=%s)", reason, p.platform, p.payment_type)
            else:
                logger.info(
                    "payment %s",
                    status,
                    extra={"reason": reason, "platform": p.platform, "payment_type": p.payment_type},
                )
        self.telemetry.business.record_payment(
            amount=amount, currency=p.currency, payment_type=p.payment_type, status=status, platform=p.platform
        )
        return PaymentOutcome(status=status, reason=reason, charge_id=charge_id, amount=amount, at=datetime.now(UTC))

    async def _run(self, p: PaymentAttempt) -> tuple[PaymentStatus, str | None, str | None]:
        try:
            async with trace_operation("payment.fraud_check", attributes={"fraud.check_type": "full_analysis"}):
                fraud = await self.processor.fraud_check(
                    FraudCheckRequest(
                        amount_minor=p.amount_minor,
                        currency=p.currency,
                        card_token=p.card_token,
                        customer_ref=f"{p.platform}:{p.fan_id}",
                        payment_type=p.payment_type,
                    )
                )
                set_attributes({"fraud.risk_score": fraud.risk_score, "fraud.decision": fraud.decision.value})
            if fraud.decision is FraudDecision.REJECT:
                add_event("payment.fraud_rejected", {"risk_score": fraud.risk_score, "reasons": list(fraud.reasons)})
                return "declined", "fraud_rejected", None
            if fraud.decision is FraudDecision.REVIEW:
                add_event("payment.fraud_review", {"risk_score": fraud.risk_score, "reasons": list(fraud.reasons)})
            async with trace_operation("payment.charge"):
                charge = await self.processor.charge(
                    ChargeRequest(
                        amount_minor=p.amount_minor,
                        currency=p.currency,
                        card_token=p.card_token,
                        idempotency_key=uuid.uuid4().hex,
                        description=f"{p.payment_type} on {p.platform}",
                    )
                )
        except ProcessorUnavailableError as exc:
            return "failed", f"processor_{exc.endpoint.value}_{exc.code}", None
        if charge.status is ChargeStatus.DECLINED:
            return "declined", charge.decline_code or "card_declined", charge.id
        return "completed", None, charge.id

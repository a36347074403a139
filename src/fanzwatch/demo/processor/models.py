"""Wire models of the fake payment processor: what the platform sends and gets back.

Amounts are integers in the currency's minor unit (cents), as real processors take
them: money is never a float on the wire.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code")]
MinorAmount = Annotated[int, Field(gt=0, le=100_000_000, description="amount in minor units (cents)")]


class Endpoint(StrEnum):
    """The processor's two independent endpoints; the platform fails over between them."""

    PRIMARY = "primary"
    BACKUP = "backup"


class FraudDecision(StrEnum):
    APPROVE = "approve"
    REVIEW = "review"
    REJECT = "reject"


class ChargeStatus(StrEnum):
    SUCCEEDED = "succeeded"
    DECLINED = "declined"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FraudCheckRequest(_Strict):
    """One payment to score before it is charged."""

    amount_minor: MinorAmount
    currency: Currency
    card_token: str = Field(min_length=3, max_length=64)
    customer_ref: str = Field(min_length=1, max_length=64, description="opaque payer reference")
    payment_type: str = Field(min_length=1, max_length=32)


class FraudCheckResult(_Strict):
    risk_score: float = Field(ge=0.0, le=1.0)
    decision: FraudDecision
    reasons: tuple[str, ...] = ()


class ChargeRequest(_Strict):
    """A charge; ``idempotency_key`` makes retries safe (same key, same answer)."""

    amount_minor: MinorAmount
    currency: Currency
    card_token: str = Field(min_length=3, max_length=64)
    idempotency_key: str = Field(min_length=8, max_length=64)
    description: str = Field(default="", max_length=200)


class Charge(_Strict):
    id: str
    status: ChargeStatus
    amount_minor: int
    currency: str
    endpoint: Endpoint
    decline_code: str | None = None


class FaultConfig(_Strict):
    """Injected faults of one endpoint, changed at runtime through the admin API.

    ``outage`` answers every request (health included) with 503; ``failure_rate`` is the
    share of charges and fraud checks answered with 503; ``latency_seconds`` delays every
    answer (``latency_jitter_seconds`` adds a uniform random part on top).
    """

    outage: bool = False
    failure_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    latency_seconds: float = Field(default=0.0, ge=0.0, le=30.0)
    latency_jitter_seconds: float = Field(default=0.0, ge=0.0, le=30.0)

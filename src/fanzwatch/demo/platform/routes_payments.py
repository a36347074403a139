"""Fans pay creators: subscriptions (created or renewed), tips, pay-per-view purchases.

Answers: 201 when the payment completed, 402 when it was declined (card or fraud check),
502 when the processor failed. Every attempt is a row in ``transactions``.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from fastapi import HTTPException
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator

from fanzwatch import schema
from fanzwatch.sdk import trace_db

from .auth import CurrentUser
from .payments import CURRENCY_EXPONENT, PaymentAttempt, PaymentOutcome, PaymentType, money
from .routes_content import load_content
from .runtime import PathId, PlatformRuntime, Runtime, Tenant, User, tenant_router
from .tables import credentials, insert_id

logger = logging.getLogger(__name__)
router = tenant_router("payments")
SUBSCRIPTION_PERIOD = timedelta(days=30)
HTTP_FOR = {"completed": 201, "declined": 402, "failed": 502}


class CardPayment(BaseModel):
    model_config = ConfigDict(extra="forbid")

    card_token: str = Field(min_length=3, max_length=64, description="tokenised card, e.g. tok_visa")


class TipRequest(CardPayment):
    amount_minor: int = Field(ge=100, le=100_000, description="1.00 to 1000.00 in minor units")
    currency: str = "USD"

    @field_validator("currency")
    @classmethod
    def _supported(cls, v: str) -> str:
        if v not in CURRENCY_EXPONENT:
            raise ValueError(f"currency must be one of {sorted(CURRENCY_EXPONENT)}")
        return v


def _minor(amount: Decimal, currency: str) -> int:
    return int(amount.scaleb(CURRENCY_EXPONENT[currency]))


async def _creator(rt: PlatformRuntime, platform: str, creator_id: int, payer: CurrentUser) -> Any:
    if creator_id == payer.user_id:
        raise HTTPException(422, "you cannot pay yourself")
    u = schema.users
    query = (
        sa.select(u.c.id, credentials.c.subscription_price, credentials.c.subscription_currency)
        .join(credentials, credentials.c.user_id == u.c.id)
        .where(u.c.id == creator_id, u.c.platform == platform, u.c.role == "creator")
    )
    async with rt.engine.connect() as conn:
        row = (await conn.execute(query)).first()
    if row is None:
        raise HTTPException(404, "no such creator on this platform")
    return row


async def _record(
    rt: PlatformRuntime,
    attempt: PaymentAttempt,
    outcome: PaymentOutcome,
    *,
    content_id: int | None = None,
    subscription_price: Decimal | None = None,
) -> JSONResponse:
    """Store the attempt (and the subscription it paid for) and answer with its outcome."""
    fee = (
        (outcome.amount * rt.config.platform_fee_rate).quantize(Decimal("0.0001"))
        if outcome.status == "completed"
        else Decimal(0)
    )
    subscription_id = None
    ledger = trace_db(
        operation="INSERT",
        table="transactions",
        system=rt.engine.dialect.name,
        attributes={"fanz.platform": attempt.platform, "payment.status": outcome.status},
    )
    async with ledger, rt.engine.begin() as conn:
        if attempt.payment_type == "subscription" and outcome.status == "completed":
            subscription_id = await _activate_subscription(conn, attempt, outcome, subscription_price or outcome.amount)
        tx_id = await insert_id(
            conn,
            schema.transactions,
            platform=attempt.platform,
            type=attempt.payment_type,
            amount=outcome.amount,
            currency=attempt.currency,
            status=outcome.status,
            fee_amount=fee,
            creator_id=attempt.creator_id,
            fan_id=attempt.fan_id,
            subscription_id=subscription_id,
            content_id=content_id,
            created_at=outcome.at,
            updated_at=outcome.at,
        )
    # In the request's server span: this log line carries its trace and span ids.
    logger.info(
        "payment recorded",
        extra={
            "transaction_id": tx_id,
            "payment_status": outcome.status,
            "payment_type": attempt.payment_type,
            "platform": attempt.platform,
        },
    )
    body: dict[str, Any] = {
        "transaction_id": str(tx_id),
        "status": outcome.status,
        "reason": outcome.reason,
        "amount": str(money(outcome.amount, attempt.currency)),
        "currency": attempt.currency,
    }
    if subscription_id is not None:
        body["subscription_id"] = str(subscription_id)
    return JSONResponse(body, status_code=HTTP_FOR[outcome.status])


async def _activate_subscription(conn: Any, attempt: PaymentAttempt, outcome: PaymentOutcome, price: Decimal) -> int:
    s = schema.subscriptions
    current = (
        await conn.execute(
            sa.select(s.c.id, s.c.current_period_end).where(
                s.c.fan_id == attempt.fan_id, s.c.creator_id == attempt.creator_id, s.c.status == "active"
            )
        )
    ).first()
    if current is not None:  # renewal: one more period after the current one (or from now, if lapsed)
        end = max(current.current_period_end, outcome.at) + SUBSCRIPTION_PERIOD
        await conn.execute(s.update().where(s.c.id == current.id).values(current_period_end=end, updated_at=outcome.at))
        sub_id: int = current.id
        return sub_id
    new_id = await insert_id(
        conn,
        s,
        platform=attempt.platform,
        fan_id=attempt.fan_id,
        creator_id=attempt.creator_id,
        price=price,
        currency=attempt.currency,
        billing_period_months=1,
        status="active",
        started_at=outcome.at,
        current_period_end=outcome.at + SUBSCRIPTION_PERIOD,
        updated_at=outcome.at,
    )
    return new_id


def _attempt(
    platform: str, kind: PaymentType, fan: CurrentUser, creator_id: int, minor: int, cur: str, card: str
) -> PaymentAttempt:
    return PaymentAttempt(
        platform=platform,
        payment_type=kind,
        fan_id=fan.user_id,
        creator_id=creator_id,
        amount_minor=minor,
        currency=cur,
        card_token=card,
    )


@router.post("/creators/{creator_id}/subscriptions", status_code=201)
async def subscribe(rt: Runtime, platform: Tenant, user: User, creator_id: PathId, body: CardPayment) -> JSONResponse:
    """Subscribe to a creator for one period at their price, or renew for one more period."""
    creator = await _creator(rt, platform, creator_id, user)
    price: Decimal = creator.subscription_price
    currency: str = creator.subscription_currency
    attempt = _attempt(platform, "subscription", user, creator_id, _minor(price, currency), currency, body.card_token)
    renewal = await _is_renewal(rt, attempt)
    outcome = await rt.payments.attempt(attempt)
    if renewal:
        rt.payments.telemetry.business.record_renewal(currency=currency, status=outcome.status, platform=platform)
    return await _record(rt, attempt, outcome, subscription_price=price)


async def _is_renewal(rt: PlatformRuntime, attempt: PaymentAttempt) -> bool:
    """Whether the fan already has an active subscription to the creator (this payment renews it)."""
    s = schema.subscriptions
    async with rt.engine.connect() as conn:
        found = await conn.execute(
            sa.select(s.c.id).where(
                s.c.fan_id == attempt.fan_id, s.c.creator_id == attempt.creator_id, s.c.status == "active"
            )
        )
        return found.first() is not None


@router.post("/creators/{creator_id}/tips", status_code=201)
async def tip(rt: Runtime, platform: Tenant, user: User, creator_id: PathId, body: TipRequest) -> JSONResponse:
    await _creator(rt, platform, creator_id, user)
    attempt = _attempt(platform, "tip", user, creator_id, body.amount_minor, body.currency, body.card_token)
    return await _record(rt, attempt, await rt.payments.attempt(attempt))


@router.post("/content/{content_id}/purchases", status_code=201)
async def buy(rt: Runtime, platform: Tenant, user: User, content_id: PathId, body: CardPayment) -> JSONResponse:
    """Buy a pay-per-view item (once)."""
    item = (await load_content(rt, platform, content_id))._mapping
    if item["ppv_price"] is None:
        raise HTTPException(409, "this item is not pay-per-view")
    if item["creator_id"] == user.user_id:
        raise HTTPException(422, "you cannot buy your own content")
    t = schema.transactions
    async with rt.engine.connect() as conn:
        owned = (
            await conn.execute(
                sa.select(t.c.id)
                .where(t.c.content_id == content_id, t.c.fan_id == user.user_id, t.c.status == "completed")
                .limit(1)
            )
        ).first()
    if owned is not None:
        raise HTTPException(409, "you already bought this item")
    price: Decimal = item["ppv_price"]
    currency: str = item["currency"]
    attempt = _attempt(platform, "ppv", user, item["creator_id"], _minor(price, currency), currency, body.card_token)
    return await _record(rt, attempt, await rt.payments.attempt(attempt), content_id=content_id)


class TransactionView(BaseModel):
    transaction_id: str
    type: str
    status: str
    amount: Decimal
    currency: str
    creator_id: str


@router.get("/me/transactions")
async def my_transactions(rt: Runtime, platform: Tenant, user: User) -> list[TransactionView]:
    t = schema.transactions
    query = sa.select(t).where(t.c.fan_id == user.user_id, t.c.platform == platform).order_by(t.c.id.desc()).limit(100)
    async with rt.engine.connect() as conn:
        rows = (await conn.execute(query)).all()
    return [
        TransactionView(
            transaction_id=str(r.id),
            type=r.type,
            status=r.status,
            amount=money(r.amount, r.currency),
            currency=r.currency,
            creator_id=str(r.creator_id),
        )
        for r in rows
    ]

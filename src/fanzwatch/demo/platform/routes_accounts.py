"""Sign-up, log-in and log-out of fans and creators."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Literal

import sqlalchemy as sa
from fastapi import HTTPException
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from fanzwatch import schema

from .auth import hash_password, new_token, token_hash, verify_password
from .payments import CURRENCY_EXPONENT, money, to_major
from .runtime import Runtime, Tenant, User, tenant_router
from .tables import auth_tokens, credentials, insert_id

router = tenant_router("accounts")
EMAIL = r"^[^@\s]{1,64}@[^@\s]{1,189}\.[A-Za-z]{2,63}$"


class RegisterRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(max_length=254, pattern=EMAIL)
    password: str = Field(min_length=8, max_length=128)
    role: Literal["fan", "creator"]
    display_name: str = Field(min_length=1, max_length=80)
    source: Literal["web", "ios", "android", "api", "referral", "other"] = "web"
    country: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")
    subscription_price_minor: int | None = Field(default=None, ge=100, le=100_000, description="creators only")
    currency: str = Field(default="USD", description="creators: currency of the subscription price")

    @field_validator("email")
    @classmethod
    def _lower(cls, v: str) -> str:
        return v.lower()

    @field_validator("currency")
    @classmethod
    def _supported(cls, v: str) -> str:
        if v not in CURRENCY_EXPONENT:
            raise ValueError(f"currency must be one of {sorted(CURRENCY_EXPONENT)}")
        return v

    @model_validator(mode="after")
    def _creator_fields(self) -> RegisterRequest:
        if self.role == "fan" and self.subscription_price_minor is not None:
            raise ValueError("only creators have a subscription price")
        return self


class LoginRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(max_length=254)
    password: str = Field(max_length=128)


class TokenResponse(BaseModel):
    user_id: str
    role: str
    token: str
    expires_at: datetime


async def _open_session(conn: AsyncConnection, rt_ttl: int, platform: str, user_id: int) -> TokenResponse:
    now = datetime.now(UTC)
    session_id = await insert_id(
        conn, schema.sessions, platform=platform, user_id=user_id, started_at=now, updated_at=now
    )
    token = new_token()
    expires = now + timedelta(seconds=rt_ttl)
    await conn.execute(
        auth_tokens.insert().values(
            token_hash=token_hash(token), user_id=user_id, session_id=session_id, expires_at=expires, revoked=False
        )
    )
    role = (await conn.execute(sa.select(schema.users.c.role).where(schema.users.c.id == user_id))).scalar_one()
    return TokenResponse(user_id=str(user_id), role=role, token=token, expires_at=expires)


@router.post("/auth/register", status_code=201)
async def register(rt: Runtime, platform: Tenant, body: RegisterRequest) -> TokenResponse:
    """Create an account and log it in."""
    rt.faults.check_registration()
    password_hash = await hash_password(body.password, cost=rt.config.password_hash_cost)
    now = datetime.now(UTC)
    price = None
    if body.role == "creator":
        price = to_major(body.subscription_price_minor or 999, body.currency)
    try:
        async with rt.engine.begin() as conn:
            user_id = await insert_id(
                conn,
                schema.users,
                platform=platform,
                role=body.role,
                creator_tier="new" if body.role == "creator" else None,
                country=body.country,
                source=body.source,
                created_at=now,
                updated_at=now,
            )
            await conn.execute(
                credentials.insert().values(
                    user_id=user_id,
                    platform=platform,
                    email=body.email,
                    display_name=body.display_name,
                    password_hash=password_hash,
                    subscription_price=price,
                    subscription_currency=body.currency if body.role == "creator" else None,
                )
            )
            answer = await _open_session(conn, rt.config.token_ttl_seconds, platform, user_id)
    except IntegrityError:
        raise HTTPException(409, "an account with this email already exists on this platform") from None
    rt.telemetry.business.record_registration(role=body.role, source=body.source, platform=platform)
    rt.telemetry.business.mark_user_active(user_id, platform=platform)
    return answer


@router.post("/auth/login")
async def login(rt: Runtime, platform: Tenant, body: LoginRequest) -> TokenResponse:
    """Exchange email and password for a bearer token (one new session each time)."""
    async with rt.engine.connect() as conn:
        row = (
            await conn.execute(
                sa.select(credentials.c.user_id, credentials.c.password_hash).where(
                    credentials.c.platform == platform, credentials.c.email == body.email.lower()
                )
            )
        ).first()
    if row is None or not await verify_password(body.password, row.password_hash):
        raise HTTPException(401, "invalid email or password")
    async with rt.engine.begin() as conn:
        answer = await _open_session(conn, rt.config.token_ttl_seconds, platform, row.user_id)
    rt.telemetry.business.mark_user_active(row.user_id, platform=platform)
    return answer


@router.post("/auth/logout", status_code=204)
async def logout(rt: Runtime, user: User) -> None:
    """Revoke every token of this session and end the session."""
    now = datetime.now(UTC)
    async with rt.engine.begin() as conn:
        await conn.execute(auth_tokens.update().where(auth_tokens.c.session_id == user.session_id).values(revoked=True))
        await conn.execute(
            schema.sessions.update().where(schema.sessions.c.id == user.session_id).values(ended_at=now, updated_at=now)
        )


class Profile(BaseModel):
    user_id: str
    platform: str
    role: str
    display_name: str
    email: str
    creator_tier: str | None
    subscription_price: Decimal | None
    currency: str | None


@router.get("/me")
async def me(rt: Runtime, user: User) -> Profile:
    async with rt.engine.connect() as conn:
        row = (await conn.execute(sa.select(credentials).where(credentials.c.user_id == user.user_id))).one()
    return Profile(
        user_id=str(user.user_id),
        platform=user.platform,
        role=user.role,
        display_name=row.display_name,
        email=row.email,
        creator_tier=user.creator_tier,
        subscription_price=money(row.subscription_price, row.subscription_currency),
        currency=row.subscription_currency,
    )

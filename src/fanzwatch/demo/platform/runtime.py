"""What every request handler of the platform shares, and the dependencies that hand it out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, Depends, HTTPException, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncEngine

from fanzwatch import schema
from fanzwatch.sdk import Telemetry

from .auth import CurrentUser, token_hash
from .config import PlatformConfig
from .faults import FaultState
from .payments import PaymentService
from .processor_client import ProcessorClient
from .storage import ObjectStorage
from .tables import auth_tokens


@dataclass
class PlatformRuntime:
    """Long-lived resources of one platform process, built in the app's lifespan."""

    config: PlatformConfig
    engine: AsyncEngine
    storage: ObjectStorage
    processor: ProcessorClient
    payments: PaymentService
    faults: FaultState
    telemetry: Telemetry


def runtime(request: Request) -> PlatformRuntime:
    rt: PlatformRuntime = request.app.state.runtime
    return rt


Runtime = Annotated[PlatformRuntime, Depends(runtime)]


async def tenant(rt: Runtime, platform: Annotated[str, Path(max_length=32)]) -> str:
    """The platform in the path; only the configured tenants exist (404 for others)."""
    if platform not in rt.config.platforms:
        raise HTTPException(404, f"unknown platform {platform!r}")
    return platform


Tenant = Annotated[str, Depends(tenant)]
_bearer = HTTPBearer(auto_error=False, description="token from /auth/login or /auth/register")


async def current_user(
    request: Request,
    rt: Runtime,
    platform: Tenant,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> CurrentUser:
    """The user behind the bearer token; 401 when missing, unknown, expired or from another platform."""
    if creds is None or creds.scheme.lower() != "bearer":
        raise HTTPException(
            401, "log in first: send Authorization: Bearer <token>", headers={"WWW-Authenticate": "Bearer"}
        )
    u = schema.users
    query = (
        sa.select(u.c.id, u.c.platform, u.c.role, u.c.creator_tier, auth_tokens.c.session_id, auth_tokens.c.expires_at)
        .join(auth_tokens, auth_tokens.c.user_id == u.c.id)
        .where(auth_tokens.c.token_hash == token_hash(creds.credentials), auth_tokens.c.revoked.is_(False))
    )
    async with rt.engine.connect() as conn:
        row = (await conn.execute(query)).first()
    if row is None or row.expires_at <= datetime.now(UTC) or row.platform != platform:
        raise HTTPException(401, "invalid or expired token", headers={"WWW-Authenticate": "Bearer"})
    # TelemetryMiddleware reads this: the user goes on the server span and into active users.
    request.state.user_id = row.id
    return CurrentUser(
        user_id=row.id, platform=row.platform, role=row.role, creator_tier=row.creator_tier, session_id=row.session_id
    )


User = Annotated[CurrentUser, Depends(current_user)]


async def creator_user(user: User) -> CurrentUser:
    if user.role != "creator":
        raise HTTPException(403, "only creators can do this")
    return user


Creator = Annotated[CurrentUser, Depends(creator_user)]

API_PREFIX = "/p/{platform}/api/v1"
MAX_ID = 2**63 - 1
#: A row id in a path: positive and within 64 bits (beyond, SQLite would raise, not 404).
PathId = Annotated[int, Path(ge=1, le=MAX_ID)]


async def apply_faults(rt: Runtime) -> None:
    """Injected latency and errors, after routing (so metrics see the real route)."""
    await rt.faults.on_request()


def tenant_router(tag: str) -> APIRouter:
    """A router of the tenant API: prefixed with the platform, faults applied.

    The prefix is the router's own (not given to ``include_router``), so each route's
    ``path_format`` is the full template and the HTTP metrics label it completely.
    """
    return APIRouter(prefix=API_PREFIX, tags=[tag], dependencies=[Depends(tenant), Depends(apply_faults)])

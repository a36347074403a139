"""Views, likes, comments and shares: one row each in the shared schema."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

import sqlalchemy as sa
from fastapi import Response
from pydantic import BaseModel, ConfigDict, Field

from fanzwatch import schema

from .routes_content import load_content
from .runtime import PathId, Runtime, Tenant, User, tenant_router
from .tables import comment_texts, insert_id

router = tenant_router("engagement")


class Recorded(BaseModel):
    id: str
    content_id: str


class CommentRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    body: str = Field(min_length=1, max_length=2000)


class ShareRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channel: Literal["link", "twitter", "instagram", "tiktok", "other"] = "link"


async def _insert(rt: Runtime, table: sa.Table, platform: str, content_id: int, user_id: int) -> int:
    now = datetime.now(UTC)
    async with rt.engine.begin() as conn:
        new_id = await insert_id(
            conn, table, platform=platform, content_id=content_id, user_id=user_id, created_at=now, updated_at=now
        )
    return new_id


@router.post("/content/{content_id}/views", status_code=201)
async def view(rt: Runtime, platform: Tenant, user: User, content_id: PathId) -> Recorded:
    await load_content(rt, platform, content_id)
    return Recorded(
        id=str(await _insert(rt, schema.content_views, platform, content_id, user.user_id)), content_id=str(content_id)
    )


@router.post("/content/{content_id}/likes", status_code=201)
async def like(rt: Runtime, platform: Tenant, user: User, content_id: PathId, response: Response) -> Recorded:
    """Like an item; liking it again answers 200 with the existing like."""
    await load_content(rt, platform, content_id)
    lk = schema.likes
    async with rt.engine.connect() as conn:
        existing = (
            await conn.execute(sa.select(lk.c.id).where(lk.c.content_id == content_id, lk.c.user_id == user.user_id))
        ).scalar()
    if existing is not None:
        response.status_code = 200
        return Recorded(id=str(existing), content_id=str(content_id))
    return Recorded(id=str(await _insert(rt, lk, platform, content_id, user.user_id)), content_id=str(content_id))


@router.post("/content/{content_id}/comments", status_code=201)
async def comment(rt: Runtime, platform: Tenant, user: User, content_id: PathId, body: CommentRequest) -> Recorded:
    await load_content(rt, platform, content_id)
    now = datetime.now(UTC)
    async with rt.engine.begin() as conn:
        comment_id = await insert_id(
            conn,
            schema.comments,
            platform=platform,
            content_id=content_id,
            user_id=user.user_id,
            created_at=now,
            updated_at=now,
        )
        await conn.execute(comment_texts.insert().values(comment_id=comment_id, body=body.body))
    return Recorded(id=str(comment_id), content_id=str(content_id))


@router.post("/content/{content_id}/shares", status_code=201)
async def share(rt: Runtime, platform: Tenant, user: User, content_id: PathId, body: ShareRequest) -> Recorded:
    await load_content(rt, platform, content_id)
    return Recorded(
        id=str(await _insert(rt, schema.shares, platform, content_id, user.user_id)), content_id=str(content_id)
    )

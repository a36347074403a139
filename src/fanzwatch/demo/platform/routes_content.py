"""Content: creators upload, everyone browses, buyers download pay-per-view items."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated

import anyio.to_thread
import sqlalchemy as sa
from fastapi import HTTPException, Query, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel
from starlette.datastructures import UploadFile

from fanzwatch import schema

from .payments import CURRENCY_EXPONENT, money, to_major
from .runtime import MAX_ID, Creator, PathId, Runtime, Tenant, User, tenant_router
from .storage import TooLargeError, UnsupportedContentError, sniff
from .tables import content_files, insert_id

router = tenant_router("content")
MULTIPART_OVERHEAD = 64 * 1024
SNIFF_BYTES = 512


class ContentItem(BaseModel):
    content_id: str
    creator_id: str
    type: str
    title: str
    media_type: str
    size_bytes: int
    ppv_price: Decimal | None
    currency: str | None
    created_at: datetime


def _item(row: sa.Row[tuple[object, ...]]) -> ContentItem:
    m = row._mapping
    return ContentItem(
        content_id=str(m["id"]),
        creator_id=str(m["creator_id"]),
        type=m["type"],
        title=m["title"],
        media_type=m["media_type"],
        size_bytes=m["size_bytes"],
        ppv_price=money(m["ppv_price"], m["currency"]),
        currency=m["currency"],
        created_at=m["created_at"],
    )


def _listing() -> sa.Select[tuple[object, ...]]:
    c = schema.content
    return sa.select(
        c.c.id,
        c.c.creator_id,
        c.c.type,
        c.c.ppv_price,
        c.c.currency,
        c.c.created_at,
        content_files.c.title,
        content_files.c.media_type,
        content_files.c.size_bytes,
    ).join(content_files, content_files.c.content_id == c.c.id)


def _form_int(value: object, name: str, low: int, high: int) -> int | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not value.isdigit() or not low <= int(value) <= high:
        raise HTTPException(422, f"{name} must be a whole number from {low} to {high}")
    return int(value)


@router.post("/content", status_code=201)
async def upload(rt: Runtime, platform: Tenant, creator: Creator, request: Request) -> ContentItem:
    """Upload one file (multipart: ``file``, ``title``, optional ``price_minor`` and ``currency``).

    The kind (image, video, audio, text) is sniffed from the file's first bytes; each kind
    has its own size limit. A ``price_minor`` makes the item pay-per-view.
    """
    limits = rt.config.upload_limits
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max(limits.values()) + MULTIPART_OVERHEAD:
        raise HTTPException(413, f"upload larger than the biggest allowed file ({max(limits.values())} bytes)")
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise HTTPException(415, "send the file as multipart/form-data")
    async with request.form(max_files=1, max_fields=8) as form:
        file = form.get("file")
        title = form.get("title")
        if not isinstance(file, UploadFile):
            raise HTTPException(422, "a 'file' part is required")
        if not isinstance(title, str) or not 1 <= len(title.strip()) <= 200:
            raise HTTPException(422, "'title' is required (1 to 200 characters)")
        price_minor = _form_int(form.get("price_minor"), "price_minor", 50, 100_000)
        currency = form.get("currency") or "USD"
        if currency not in CURRENCY_EXPONENT:
            raise HTTPException(422, f"currency must be one of {sorted(CURRENCY_EXPONENT)}")
        head = await file.read(SNIFF_BYTES)
        await file.seek(0)
        try:
            kind, media_type = sniff(head)
        except UnsupportedContentError as exc:
            raise HTTPException(415, str(exc)) from None
        try:
            stored = await anyio.to_thread.run_sync(lambda: rt.storage.put(platform, file.file, max_bytes=limits[kind]))
        except TooLargeError as exc:
            raise HTTPException(413, f"{kind} {exc}") from None
    now = datetime.now(UTC)
    price = to_major(price_minor, currency) if price_minor is not None else None
    async with rt.engine.begin() as conn:
        content_id = await insert_id(
            conn,
            schema.content,
            platform=platform,
            creator_id=creator.user_id,
            type=kind,
            ppv_price=price,
            currency=currency if price is not None else None,
            created_at=now,
            updated_at=now,
        )
        await conn.execute(
            content_files.insert().values(
                content_id=content_id,
                title=title.strip(),
                storage_key=stored.key,
                media_type=media_type,
                size_bytes=stored.size_bytes,
                sha256=stored.sha256,
            )
        )
    tier = creator.creator_tier or "new"
    rt.telemetry.business.record_upload(content_type=kind, creator_tier=tier, platform=platform)  # type: ignore[arg-type]
    return ContentItem(
        content_id=str(content_id),
        creator_id=str(creator.user_id),
        type=kind,
        title=title.strip(),
        media_type=media_type,
        size_bytes=stored.size_bytes,
        ppv_price=price,
        currency=currency if price is not None else None,
        created_at=now,
    )


@router.get("/content")
async def feed(
    rt: Runtime,
    platform: Tenant,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    before_id: Annotated[int | None, Query(ge=1, le=MAX_ID, description="page: items older than this id")] = None,
    creator_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> list[ContentItem]:
    """Newest content first, paged by id."""
    c = schema.content
    query = _listing().where(c.c.platform == platform).order_by(c.c.id.desc()).limit(limit)
    if before_id is not None:
        query = query.where(c.c.id < before_id)
    if creator_id is not None:
        query = query.where(c.c.creator_id == creator_id)
    async with rt.engine.connect() as conn:
        rows = (await conn.execute(query)).all()
    return [_item(r) for r in rows]


async def load_content(rt: Runtime, platform: str, content_id: int) -> sa.Row[tuple[object, ...]]:
    """The item, on this platform, or 404."""
    c = schema.content
    query = _listing().add_columns(content_files.c.storage_key).where(c.c.id == content_id, c.c.platform == platform)
    async with rt.engine.connect() as conn:
        row = (await conn.execute(query)).first()
    if row is None:
        raise HTTPException(404, "no such content on this platform")
    return row


@router.get("/content/{content_id}")
async def get_content(rt: Runtime, platform: Tenant, content_id: PathId) -> ContentItem:
    return _item(await load_content(rt, platform, content_id))


@router.get("/content/{content_id}/file", response_class=FileResponse)
async def download(rt: Runtime, platform: Tenant, user: User, content_id: PathId) -> FileResponse:
    """The file; pay-per-view items only for their creator and fans who bought them."""
    row = await load_content(rt, platform, content_id)
    m = row._mapping
    if m["ppv_price"] is not None and m["creator_id"] != user.user_id:
        t = schema.transactions
        bought = sa.select(t.c.id).where(
            t.c.content_id == content_id, t.c.fan_id == user.user_id, t.c.status == "completed"
        )
        async with rt.engine.connect() as conn:
            if (await conn.execute(bought.limit(1))).first() is None:
                raise HTTPException(402, "pay-per-view: buy this item first")
    path = rt.storage.path_of(platform, m["storage_key"])
    return FileResponse(path, media_type=m["media_type"])

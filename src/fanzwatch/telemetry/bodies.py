"""Request bodies read with a size limit: the receiver's and the store's one reader.

>>> body = await read_bounded(request, limit=32 << 20)   # BodyTooLargeError / BodyIncompleteError
"""

from __future__ import annotations

from starlette.requests import ClientDisconnect, Request


class BodyTooLargeError(Exception):
    """The body (as declared by Content-Length, or as read) is over the limit."""


class BodyIncompleteError(Exception):
    """The client went away before its whole body arrived: nothing of it is kept."""


async def read_bounded(request: Request, limit: int) -> bytes:
    """The body, read chunk by chunk; refused as soon as it passes ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.strip().isdigit() and int(declared) > limit:
        raise BodyTooLargeError
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise BodyTooLargeError
            chunks.append(chunk)
    except ClientDisconnect:
        raise BodyIncompleteError from None
    return b"".join(chunks)

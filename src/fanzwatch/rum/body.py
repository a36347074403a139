"""Reading a beacon body from ASGI with hard limits, before and after gzip.

The compressed size is checked against ``Content-Length`` before anything is read,
then again while reading (the header may lie or be absent). A gzip body is
inflated chunk by chunk with ``max_length`` so a bomb is stopped as soon as it
passes ``max_decompressed`` bytes, never allocated in full.
"""

from __future__ import annotations

import zlib

from starlette.types import Receive


class BodyError(Exception):
    """The body cannot be accepted; ``status`` and ``reason`` say why."""

    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.message = message


class ClientDisconnectedError(Exception):
    """The client went away before the body was complete."""


def too_large(limit: int, *, decompressed: bool = False) -> BodyError:
    what = "decompressed body" if decompressed else "body"
    return BodyError(413, "too_large", f"{what} exceeds {limit} bytes")


async def read_body(receive: Receive, *, max_bytes: int, gzipped: bool, max_decompressed: int) -> bytes:
    """The whole (inflated) body, or ``BodyError`` (413 too large, 400 bad gzip)."""
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS) if gzipped else None
    chunks: list[bytes] = []
    received = 0
    produced = 0
    more = True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnectedError
        chunk: bytes = message.get("body", b"")
        more = message.get("more_body", False)
        received += len(chunk)
        if received > max_bytes:
            raise too_large(max_bytes)
        if inflater is None:
            chunks.append(chunk)
            continue
        if inflater.eof:
            if chunk:
                raise BodyError(400, "bad_encoding", "data after the end of the gzip stream")
            continue
        try:
            out = inflater.decompress(chunk, max_decompressed - produced + 1)
        except zlib.error as exc:
            raise BodyError(400, "bad_encoding", f"corrupt gzip body: {exc}") from None
        produced += len(out)
        if produced > max_decompressed or inflater.unconsumed_tail:
            raise too_large(max_decompressed, decompressed=True)
        chunks.append(out)
        if inflater.unused_data:
            raise BodyError(400, "bad_encoding", "data after the end of the gzip stream")
    if inflater is not None and not inflater.eof:
        raise BodyError(400, "bad_encoding", "truncated gzip body")
    body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
    if not gzipped and len(body) > max_decompressed:
        raise too_large(max_decompressed, decompressed=True)
    return body

"""Local object storage for uploaded content, and content-type sniffing.

Files live under ``<root>/<platform>/<key>``; writes go to a temporary file that is
renamed into place, so a reader never sees half a file. The kind of content is decided
from the file's first bytes, not from the name or the client's Content-Type, which
either may lie about.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

# (magic prefix or (offset, bytes), kind, media type)
_SIGNATURES: tuple[tuple[int, bytes, str, str], ...] = (
    (0, b"\x89PNG\r\n\x1a\n", "image", "image/png"),
    (0, b"\xff\xd8\xff", "image", "image/jpeg"),
    (0, b"GIF87a", "image", "image/gif"),
    (0, b"GIF89a", "image", "image/gif"),
    (4, b"ftyp", "video", "video/mp4"),
    (0, b"\x1a\x45\xdf\xa3", "video", "video/webm"),
    (0, b"ID3", "audio", "audio/mpeg"),
    (0, b"\xff\xfb", "audio", "audio/mpeg"),
    (0, b"OggS", "audio", "audio/ogg"),
    (0, b"fLaC", "audio", "audio/flac"),
)


_CHUNK = 1024 * 1024


class TooLargeError(ValueError):
    """The upload is over the size limit of its kind."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"file is larger than the {limit} byte limit")
        self.limit = limit


class UnsupportedContentError(ValueError):
    """The upload is not an image, video, audio or UTF-8 text file we recognise."""


def sniff(head: bytes) -> tuple[str, str]:
    """(kind, media type) from a file's first bytes.

    >>> sniff(b"\\x89PNG\\r\\n\\x1a\\n....")
    ('image', 'image/png')
    """
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image", "image/webp"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "audio", "audio/wav"
    for offset, magic, kind, media in _SIGNATURES:
        if head[offset : offset + len(magic)] == magic:
            return kind, media
    if head and b"\x00" not in head:
        try:
            head.decode("utf-8")
        except UnicodeDecodeError as exc:
            # A multi-byte character cut at the end of the sample is still text.
            if exc.start < len(head) - 3:
                raise UnsupportedContentError("not a supported image, video, audio or UTF-8 text file") from None
        return "text", "text/plain; charset=utf-8"
    raise UnsupportedContentError("not a supported image, video, audio or UTF-8 text file")


@dataclass(frozen=True, slots=True)
class StoredObject:
    key: str
    size_bytes: int
    sha256: str


class ObjectStorage:
    """A directory of immutable objects, namespaced by platform."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def ensure(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, platform: str, key: str) -> Path:
        if "/" in key or key.startswith(".") or "/" in platform or platform.startswith("."):
            raise ValueError("invalid storage key")
        return self.root / platform / key

    def put(self, platform: str, source: BinaryIO, *, max_bytes: int, suffix: str = "") -> StoredObject:
        """Copy ``source`` under a new random key, at most ``max_bytes``; atomic (temp file + rename).

        Blocking: call it from a worker thread. Raises :class:`TooLargeError` past the limit.
        """
        key = secrets.token_hex(16) + suffix
        path = self._path(platform, key)
        path.parent.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        size = 0
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as out:
                while chunk := source.read(_CHUNK):
                    size += len(chunk)
                    if size > max_bytes:
                        raise TooLargeError(max_bytes)
                    digest.update(chunk)
                    out.write(chunk)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return StoredObject(key=key, size_bytes=size, sha256=digest.hexdigest())

    def path_of(self, platform: str, key: str) -> Path:
        return self._path(platform, key)

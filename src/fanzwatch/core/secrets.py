"""Secrets the server and the stack generate for themselves: random tokens in 0600 files.

One function, so ``fanzwatch serve`` and ``fanzwatch up`` agree on where a token lives
and never overwrite one: the file is created exclusively, and whoever loses the race
reads the winner's token.

>>> token = ensure_token_file(Path(".fanzwatch/secrets/webhook_token"))  # doctest: +SKIP
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from .errors import ConfigError


def ensure_token_file(path: Path, *, nbytes: int = 32) -> str:
    """The token in ``path``; a new random one (hex) written with mode 0600 if it does not exist."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if path.exists():
        return read_token_file(path)
    # Written in full under a private name, then linked into place: the file never exists
    # empty, so a process losing the race reads the winner's whole token, never "".
    token = secrets.token_hex(nbytes)
    draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(token + "\n")
        try:
            os.link(draft, path)
        except FileExistsError:
            return read_token_file(path)
    finally:
        draft.unlink(missing_ok=True)
    return token


def read_token_file(path: Path, *, setting: str | None = None) -> str:
    """A token from a file, without surrounding whitespace; ``ConfigError`` if unreadable or empty."""
    try:
        text = path.read_text().strip()
    except OSError as exc:
        raise ConfigError(f"cannot read the token file {path}: {exc.strerror}", setting=setting) from None
    if not text:
        raise ConfigError(f"the token file {path} is empty", setting=setting)
    return text

"""Text from outside made safe to store: one function every boundary calls.

Alert annotations, labels, RUM error messages, incident notes, OTLP attributes: any
string that arrives from another process may hold bytes that a store refuses or
that corrupt what a person reads later. PostgreSQL rejects ``\\x00`` in ``text``
columns (and then the whole batch it is part of); lone surrogates cannot be
encoded as UTF-8 at all; C0/C1 control characters other than tab and newline
turn a log line or a table cell into noise.

:func:`sanitize_text` removes NUL, replaces lone surrogates and other
non-characters with U+FFFD and drops control characters except ``\\t``, ``\\n``
and ``\\r``. It is idempotent, cheap on clean text (one regex search), and never
raises on a ``str``.

>>> sanitize_text("pay\\x00ment\\ud800 failed\\x1b[31m")
'payment\\ufffd failed[31m'
>>> sanitize_bytes(b"caf\\xc3\\xa9 \\xff")
'café \\ufffd'
"""

from __future__ import annotations

import re
from collections.abc import Mapping

# NUL and C0 controls except \t \n \r, DEL, C1 controls: dropped.
_DROP = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# Lone surrogates and the Unicode non-characters: replaced, so a reader sees something was there.
_REPLACE = re.compile(r"[\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff]")
_ANY_BAD = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff]")

REPLACEMENT = "\ufffd"


def sanitize_text(text: str) -> str:
    """``text`` without NUL, control characters, lone surrogates or non-characters."""
    if not _ANY_BAD.search(text):
        return text
    return _REPLACE.sub(REPLACEMENT, _DROP.sub("", text))


def sanitize_bytes(data: bytes) -> str:
    """Decode UTF-8 leniently (invalid sequences become U+FFFD), then :func:`sanitize_text`."""
    return sanitize_text(data.decode("utf-8", errors="replace"))


def sanitize_optional(text: str | None) -> str | None:
    """:func:`sanitize_text` that passes ``None`` through."""
    return None if text is None else sanitize_text(text)


def sanitize_mapping(values: Mapping[str, str]) -> dict[str, str]:
    """Keys and values of a string mapping (labels, annotations), both sanitised."""
    return {sanitize_text(k): sanitize_text(v) for k, v in values.items()}


# A JSON \u escape of a UTF-16 surrogate; pairs of backslashes are consumed first so an
# escaped backslash followed by "ud800" (the text \ud800) is left alone.
_JSON_SURROGATE = re.compile(
    rb"(\\\\)|\\u([dD][89abAB][0-9a-fA-F]{2})(\\u[dD][c-fC-F][0-9a-fA-F]{2})?|\\u[dD][c-fC-F][0-9a-fA-F]{2}"
)
_JSON_SURROGATE_HINT = re.compile(rb"\\u[dD][89a-fA-F]")


def repair_json_surrogates(body: bytes) -> bytes:
    """JSON text with every *lone* ``\\uD800``-``\\uDFFF`` escape replaced by ``\\uFFFD``.

    Browsers' ``JSON.stringify`` escapes a lone surrogate (a string cut in the middle of
    an emoji), and strict parsers refuse the whole document for it; a valid pair is kept.

    >>> repair_json_surrogates(rb'{"m": "a\\ud83d b \\ud83d\\ude00"}')
    b'{"m": "a\\\\ufffd b \\\\ud83d\\\\ude00"}'
    """
    if not _JSON_SURROGATE_HINT.search(body):
        return body

    def fix(m: re.Match[bytes]) -> bytes:
        if m.group(1) is not None:  # an escaped backslash
            return m.group(0)
        if m.group(2) is not None and m.group(3) is not None:  # a valid high+low pair
            return m.group(0)
        return rb"\ufffd"

    return _JSON_SURROGATE.sub(fix, body)

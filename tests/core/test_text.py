"""The boundary sanitiser: what it drops, what it replaces, what it keeps."""

from __future__ import annotations

import pytest

from fanzwatch.core.text import REPLACEMENT, sanitize_bytes, sanitize_mapping, sanitize_optional, sanitize_text


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("plain text", "plain text"),
        ("tab\tnew\nline\r", "tab\tnew\nline\r"),
        ("nul\x00inside", "nulinside"),
        ("\x00\x00\x00", ""),
        ("bell\x07 esc\x1b[0m", "bell esc[0m"),
        ("del\x7f c1\x85\x9f", "del c1"),
        ("lone \ud800 high", f"lone {REPLACEMENT} high"),
        ("lone \udfff low", f"lone {REPLACEMENT} low"),
        ("non-char \ufffe \uffff \ufdd0", f"non-char {REPLACEMENT} {REPLACEMENT} {REPLACEMENT}"),
        ("café ✓ 日本 🙂", "café ✓ 日本 🙂"),
        ("", ""),
    ],
)
def test_sanitize_text(raw: str, clean: str) -> None:
    assert sanitize_text(raw) == clean
    assert sanitize_text(clean) == clean  # idempotent
    clean.encode("utf-8")  # always encodable


def test_sanitize_bytes_replaces_invalid_utf8() -> None:
    assert sanitize_bytes(b"ok \xff\xfe end\x00") == f"ok {REPLACEMENT}{REPLACEMENT} end"
    assert sanitize_bytes("café".encode()) == "café"


def test_sanitize_mapping_and_optional() -> None:
    assert sanitize_mapping({"a\x00": "b\ud800"}) == {"a": f"b{REPLACEMENT}"}
    assert sanitize_optional(None) is None
    assert sanitize_optional("x\x00") == "x"

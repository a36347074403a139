"""Personal data never leaves scrubbing: URLs, paths, messages and stacks."""

from __future__ import annotations

import pytest

from fanzwatch.rum.scrub import scrub_text, scrub_url


@pytest.mark.parametrize(
    ("url", "scrubbed"),
    [
        ("https://fanz.example/creator/42?ref=mail&email=a@b.co#top", "https://fanz.example/creator/42"),
        ("https://bob:hunter2@fanz.example:8443/x", "https://fanz.example:8443/x"),
        ("https://fanz.example/u/jane.doe@example.com/feed", "https://fanz.example/u/:email/feed"),
        ("https://fanz.example/u/jane%40example.com", "https://fanz.example/u/:email"),
        ("https://fanz.example/p/123e4567-e89b-12d3-a456-426614174000", "https://fanz.example/p/:uuid"),
        ("https://fanz.example/reset/9f86d081884c7d659a2feaa0c55ad015a3bf4f1b", "https://fanz.example/reset/:hex"),
        ("https://fanz.example/invite/Zm9vYmFyYmF6cXV4MTIzNDU2Nzg", "https://fanz.example/invite/:token"),
        ("https://fanz.example/about-us/team", "https://fanz.example/about-us/team"),
        ("/relative/path?q=1", "/relative/path"),
        ("https://[::1", "https://[::1"),
        ("https://fanz.example/" + "z" * 3000, "https://fanz.example/" + "z" * (2048 - 21)),
    ],
)
def test_scrub_url(url: str, scrubbed: str) -> None:
    assert scrub_url(url) == scrubbed


@pytest.mark.parametrize(
    ("text", "scrubbed"),
    [
        ("failed for jane@doe.com", "failed for :email"),
        (
            "    at pay (https://fanz.example/app.js?token=s3cr3t:10:5)",
            "    at pay (https://fanz.example/app.js:10:5)",
        ),
        ("bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N", "bearer :token"),
        ("order 123e4567-e89b-12d3-a456-426614174000 failed", "order :token failed"),
        ("Cannot read properties of undefined (reading 'x')", "Cannot read properties of undefined (reading 'x')"),
    ],
)
def test_scrub_text(text: str, scrubbed: str) -> None:
    assert scrub_text(text) == scrubbed

"""Personal data never gets past the scrubber: the table of what is removed and what is kept.

Like Sentry's data-scrubbing defaults, every kind has positive cases (each separator a
user may type) and negative look-alikes that must survive (timestamps, order numbers,
versions, line:col, dates), because a scrubber that eats ordinary numbers makes error
messages useless.
"""

from __future__ import annotations

import pytest

from fanzwatch.core.scrubbing import ScrubRules, scrub_mapping, scrub_text, scrub_url
from fanzwatch.settings.scrubbing import ScrubSettings

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N"


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
        ("https://fanz.example/pay/4111111111111111/confirm", "https://fanz.example/pay/:card/confirm"),
        ("https://fanz.example/order/1764158400000", "https://fanz.example/order/1764158400000"),
        ("https://fanz.example/about-us/team", "https://fanz.example/about-us/team"),
        ("/relative/path?q=1", "/relative/path"),
        ("https://[::1", "https://[::1"),
        ("https://fanz.example/" + "z" * 3000, "https://fanz.example/" + "z" * (2048 - 21)),
    ],
)
def test_scrub_url(url: str, scrubbed: str) -> None:
    assert scrub_url(url) == scrubbed


SCRUBBED = [
    # card numbers: Luhn-valid, every separator people type
    ("payment failed for 4111111111111111", "payment failed for [card]"),
    ("card 4111 1111 1111 1111 declined", "card [card] declined"),
    ("card 4111-1111-1111-1111 declined", "card [card] declined"),
    ("card 4111.1111.1111.1111 declined", "card [card] declined"),
    ("card 4111_1111_1111_1111", "card [card]"),
    ("amex 3782 822463 10005", "amex [card]"),
    ("mc 5555555555554444 exp 12/29", "mc [card] exp 12/29"),
    ("discover 6011-0009-9013-9424", "discover [card]"),
    ("pan=4012888888881881;", "pan=[card];"),
    # credentials and tokens
    (f"Authorization: Bearer {JWT}", "Authorization: Bearer [token]"),
    ("bearer abcdefgh12345678", "bearer [token]"),
    ("Basic dXNlcjpodW50ZXIy rejected", "Basic [token] rejected"),
    (f"token from storage: {JWT}", "token from storage: [token]"),
    ("stripe key sk_live_51HaBcDeFgHiJkLmN failed", "stripe key [token] failed"),
    ("AWS AKIAIOSFODNN7EXAMPLE denied", "AWS [token] denied"),
    ("login?password=hunter2&user=x", "login?password=[secret]&user=x"),
    ('{"api_key": "abc123def"}', '{"api_key": "[secret]"}'),
    ("session_id=s%3Aabc.def", "session_id=[secret]"),
    ("-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----", "[private-key]"),
    ("order 123e4567-e89b-12d3-a456-426614174000 failed", "order [token] failed"),
    # e-mail addresses
    ("failed for jane@doe.com", "failed for [email]"),
    ("user Jane.Doe+fans@mail.example.co.uk blocked", "user [email] blocked"),
    ("to=jane%40doe.com", "to=[email]"),
    # phone numbers (valid for their country)
    ("call +1 415-555-2671 now", "call [phone] now"),
    ("call (415) 555-2671", "call [phone]"),
    ("uk +44 20 7946 0958", "uk [phone]"),
    ("fr +33 6 12 34 56 78", "fr [phone]"),
    # national ids
    ("ssn 123-45-6789 on file", "ssn [national-id] on file"),
    ("SSN: 123456789", "SSN: [national-id]"),
    ("NI AB 12 34 56 C", "NI [national-id]"),
    ("SIN 046 454 286", "SIN [national-id]"),
    # IBAN
    ("IBAN DE89 3704 0044 0532 0130 00 refunded", "IBAN [iban] refunded"),
    ("iban GB82WEST12345698765432", "iban [iban]"),
    # URLs inside text keep their frame position
    (
        "    at pay (https://fanz.example/app.js?token=s3cr3t:10:5)",
        "    at pay (https://fanz.example/app.js:10:5)",
    ),
    # text from outside is sanitised too
    ("pay\x00ment failed\x1b[0m", "payment failed[0m"),
]

KEPT = [
    "Cannot read properties of undefined (reading 'x')",
    "order 1764158400000 failed",  # an epoch-ms timestamp: 13 digits, not a card
    "invoice 4111111111111112",  # Luhn fails
    "id 1234567812345678",  # starts with 1: no issuer
    "at checkout.js:10:5",
    "released 2026-11-26 at 12:30:45",
    "version v1.2.3.4 build 5678",
    "ip 10.0.0.1 refused",  # IPs only when configured
    "count 12345 of 67890",
    "code 123-45-0000",  # SSN serial 0000 is never issued
    "GB00 NOT AN IBAN HERE",
    "tokens: 3 left",
    "bearer of bad news",  # a word, not a credential
    "phone 555-0100",  # too short for a valid number
]


@pytest.mark.parametrize(("text", "scrubbed"), SCRUBBED)
def test_personal_data_is_replaced(text: str, scrubbed: str) -> None:
    assert scrub_text(text) == scrubbed


@pytest.mark.parametrize("text", KEPT)
def test_look_alikes_are_kept(text: str) -> None:
    assert scrub_text(text) == text


def test_the_table_is_large_enough() -> None:
    assert len(SCRUBBED) + len(KEPT) >= 30


@pytest.mark.parametrize(
    ("rules", "text", "scrubbed"),
    [
        (ScrubRules(ips=True), "from 10.0.0.1 and 2001:db8::1", "from [ip] and [ip]"),
        (ScrubRules(ips=True), "at a.js:10:5 and 12:30:45", "at a.js:10:5 and 12:30:45"),
        (ScrubRules(cards=False), "card 4111 1111 1111 1111", "card 4111 1111 1111 1111"),
        (ScrubRules(phones=False), "call +1 415-555-2671", "call +1 415-555-2671"),
        (ScrubRules(emails=False), "jane@doe.com", "jane@doe.com"),
        (ScrubRules(enabled=False), "jane@doe.com\x00", "jane@doe.com"),  # still sanitised
        (ScrubRules(phone_region="GB"), "call 020 7946 0958", "call [phone]"),
        (ScrubRules(extra_patterns=(r"\bFANZ-\d{6}\b",)), "ticket FANZ-123456", "ticket [redacted]"),
    ],
)
def test_rules_turn_kinds_on_and_off(rules: ScrubRules, text: str, scrubbed: str) -> None:
    assert scrub_text(text, rules=rules) == scrubbed


def test_scrubbing_is_idempotent() -> None:
    for text, _ in SCRUBBED:
        once = scrub_text(text)
        assert scrub_text(once) == once


def test_mappings_scrub_values_and_sanitise_keys() -> None:
    assert scrub_mapping({"summary\x00": "card 4111111111111111", "runbook": "https://r.example/x?u=a@b.co"}) == {
        "summary": "card [card]",
        "runbook": "https://r.example/x",
    }


def test_settings_are_rules_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FANZWATCH_SCRUB_IPS", "true")
    monkeypatch.setenv("FANZWATCH_SCRUB_EXTRA_PATTERNS", '["secret-\\\\d+"]')
    settings = ScrubSettings()
    assert isinstance(settings, ScrubRules)
    assert scrub_text("10.1.2.3 secret-42", rules=settings) == "[ip] [redacted]"


def test_a_bad_extra_pattern_is_refused_with_the_reason() -> None:
    with pytest.raises(ValueError, match="not a valid regular expression"):
        ScrubRules(extra_patterns=("(unclosed",))


def test_long_hostile_text_is_scrubbed_quickly_enough_to_finish() -> None:
    text = ("4" * 19 + " ") * 400 + "a" * 8000 + "@" * 100 + "1-" * 2000
    out = scrub_text(text)
    assert len(out) <= len(text)

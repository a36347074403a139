"""Personal data out of free text and URLs, before anything is stored: one scrubber for
every feature (RUM error messages, stacks and element targets; alert annotations;
incident notes).

What is removed, and the placeholder left instead (see docs/security.md):

==================  ===============  ==============================================
kind                placeholder      how it is recognised
==================  ===============  ==============================================
URL parts           (dropped)        query, fragment, user-info; id-like path segments
private keys        [private-key]    PEM ``-----BEGIN ... PRIVATE KEY-----`` blocks
credentials         [token]          ``Bearer``/``Basic`` values, JWTs, known API-key prefixes
secret values       [secret]         the value of ``password=``, ``token:``, ``api_key=``...
e-mail addresses    [email]          ``local@domain.tld`` (also ``%40``)
IBANs               [iban]           country code + check digits, mod-97 valid
card numbers        [card]           13-19 digits, any separators, issuer digit, Luhn valid
national ids        [national-id]    US SSN, UK National Insurance number, Canadian SIN
IP addresses        [ip]             IPv4/IPv6 (off by default)
phone numbers       [phone]          valid for their country (libphonenumber)
long tokens         [token]          UUIDs, 24+ hex digits, 32+ mixed letters and digits
==================  ===============  ==============================================

>>> scrub_text("Bearer abc.def.ghi failed for 4111 1111 1111 1111")
'Bearer [token] failed for [card]'
>>> scrub_url("https://fanz.example/u/jane@doe.com?card=4111111111111111")
'https://fanz.example/u/:email'
"""

from __future__ import annotations

from collections.abc import Mapping

from ._rules import DEFAULT_RULES, ScrubRules
from ._text import scrub_text
from ._urls import scrub_path, scrub_segment, scrub_url


def scrub_optional(text: str | None, *, rules: ScrubRules | None = None) -> str | None:
    """:func:`scrub_text` that passes ``None`` through."""
    return None if text is None else scrub_text(text, rules=rules)


def scrub_mapping(values: Mapping[str, str], *, rules: ScrubRules | None = None) -> dict[str, str]:
    """Every value of a string mapping scrubbed (annotations); keys only sanitised."""
    return {scrub_text(k, rules=ScrubRules(enabled=False)): scrub_text(v, rules=rules) for k, v in values.items()}


__all__ = [
    "DEFAULT_RULES",
    "ScrubRules",
    "scrub_mapping",
    "scrub_optional",
    "scrub_path",
    "scrub_segment",
    "scrub_text",
    "scrub_url",
]

"""Finding personal data in free text and replacing it with a placeholder per kind.

Every detector is a regular expression for candidates plus, where a format has one, a
check that tells real data from look-alikes: card numbers must pass Luhn and start
with an issuer digit, IBANs mod 97, SSNs must avoid the never-issued ranges, phone
numbers must be valid for their country (Google's libphonenumber). Detectors run in a
fixed order (URLs first, phones last) so that one kind's placeholder is never eaten
by another's.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable

import phonenumbers

from ..text import sanitize_text
from ._checksums import iban_ok, is_card_number, luhn_ok
from ._rules import DEFAULT_RULES, ScrubRules
from ._urls import EMAIL, URL_IN_TEXT, scrub_frame_url

CARD, EMAIL_TAG, PHONE, NATIONAL_ID, IBAN, IP, TOKEN, SECRET, REDACTED = (
    "[card]",
    "[email]",
    "[phone]",
    "[national-id]",
    "[iban]",
    "[ip]",
    "[token]",
    "[secret]",
    "[redacted]",
)

_PEM = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|\Z)", re.S)
_AUTH_SCHEME = re.compile(r"(?i)\b(bearer|basic|digest)(\s+)(?!\[)[A-Za-z0-9._~+/=-]{6,}")
_API_KEY = re.compile(
    r"\b(?:(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{8,}"  # Stripe
    r"|gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}"  # GitHub
    r"|xox[abprs]-[A-Za-z0-9-]{10,}"  # Slack
    r"|AKIA[0-9A-Z]{16}|AIza[0-9A-Za-z_-]{35}|glpat-[A-Za-z0-9_-]{20,})\b"  # AWS, Google, GitLab
)
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*")
_SECRET_PAIR = re.compile(
    r"(?i)\b([a-z0-9_-]*?(?:password|passwd|pwd|secret|api[_-]?key|apikey|access[_-]?token|refresh[_-]?token"
    r"|auth[_-]?token|id[_-]?token|token|session[_-]?id|sessionid|private[_-]?key|authorization|credentials?"
    r"|cvv|cvc))(\s*[\"']?\s*[:=]\s*[\"']?)(?!bearer\b|basic\b|digest\b|\[)([^\s\"'&,;})\]]+)"
)
_LONG_TOKEN = re.compile(
    r"\b(?:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"  # UUID
    r"|[0-9a-fA-F]{24,}"  # long hex
    r"|(?=[A-Za-z0-9_-]*\d)(?=[A-Za-z0-9_-]*[A-Za-z])[A-Za-z0-9_-]{32,})\b"  # long mixed token
)
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b")
# Digit groups joined by one separator each; which run of groups is a card is decided below.
_DIGIT_RUN = re.compile(r"(?<![\w.])\d+(?:[ \t.\-_/\u00a0\u2010-\u2015]\d+)*(?![\w])")
_GROUP = re.compile(r"\d+")
_SSN = re.compile(r"(?<![\w-])(?!000|666|9\d\d)\d{3}([- ])(?!00)\d{2}\1(?!0000)\d{4}(?![\w-])")
_SSN_CONTEXT = re.compile(r"(?i)\b(ssn|social security(?: number| no\.?)?)(\W{1,3})(\d{9})\b")
_NINO = re.compile(r"\b(?!BG|GB|NK|KN|TN|NT|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b")
_SIN = re.compile(r"(?<![\w-])(\d{3})([- ])(\d{3})\2(\d{3})(?![\w-])")
_IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w.])")
_IPV6 = re.compile(r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?:%[0-9A-Za-z]+)?(?![\w:])")
# Worth asking libphonenumber only for a phone-like run: a +country prefix, an (area code)
# or a separator after the first 2-4 digits, then 5+ more digits and separators. A bare
# run of digits (an order number, a timestamp) is not asked about.
_PHONE_HINT = re.compile(r"(?<![\w.:/-])(?:\+\d|\(\d{2,4}\)|\d{2,4}[ .\-\u00a0])[\d \-().\u00a0]{5,}\d")
# Cheap tests that skip a detector's expensive regex on text that cannot match it.
_SECRET_WORDS = re.compile(r"(?i)pass|pwd|secret|key|token|session|auth|credential|cvv|cvc")
_SCHEME_WORDS = re.compile(r"(?i)bearer|basic|digest")


def _cards(text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        run = match.group(0)
        groups = [(m.start(), m.end()) for m in _GROUP.finditer(run)]
        digits = [run[a:b] for a, b in groups]
        out, last, i = [], 0, 0
        while i < len(groups):
            found = None
            total = ""
            for j in range(i, len(groups)):
                total += digits[j]
                if len(total) > 19:
                    break
                if is_card_number(total):
                    found = j  # keep the longest valid run starting here
            if found is None:
                i += 1
                continue
            out.append(run[last : groups[i][0]])
            out.append(CARD)
            last = groups[found][1]
            i = found + 1
        if not out:
            return run
        out.append(run[last:])
        return "".join(out)

    return _DIGIT_RUN.sub(replace, text)


def _ibans(text: str) -> str:
    return _IBAN.sub(lambda m: IBAN if iban_ok(m.group(0)) else m.group(0), text)


def _national_ids(text: str) -> str:
    text = _SSN.sub(NATIONAL_ID, text)
    text = _SSN_CONTEXT.sub(lambda m: f"{m.group(1)}{m.group(2)}{NATIONAL_ID}", text)
    text = _NINO.sub(NATIONAL_ID, text)
    return _SIN.sub(lambda m: NATIONAL_ID if luhn_ok(m.group(1) + m.group(3) + m.group(4)) else m.group(0), text)


def _is_ip(candidate: str) -> bool:
    try:
        ipaddress.ip_address(candidate.split("%", 1)[0])
    except ValueError:
        return False
    return True


def _ips(text: str) -> str:
    text = _IPV4.sub(lambda m: IP if _is_ip(m.group(0)) else m.group(0), text)
    return _IPV6.sub(lambda m: IP if m.group(0).count(":") >= 2 and _is_ip(m.group(0)) else m.group(0), text)


def _phones(text: str, region: str) -> str:
    if not _PHONE_HINT.search(text):
        return text
    spans = [
        (m.start, m.end)
        for m in phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.VALID, max_tries=200)
    ]
    for start, end in reversed(spans):
        text = text[:start] + PHONE + text[end:]
    return text


def _secrets(text: str) -> str:
    if "-----BEGIN" in text:
        text = _PEM.sub("[private-key]", text)
    if _SCHEME_WORDS.search(text):
        text = _AUTH_SCHEME.sub(lambda m: f"{m.group(1)}{m.group(2)}{TOKEN}", text)
    text = _API_KEY.sub(TOKEN, text)
    if "eyJ" in text:
        text = _JWT.sub(TOKEN, text)
    if _SECRET_WORDS.search(text):
        text = _SECRET_PAIR.sub(lambda m: f"{m.group(1)}{m.group(2)}{SECRET}", text)
    return text


def _emails(text: str) -> str:
    return EMAIL.sub(EMAIL_TAG, text) if "@" in text or "%40" in text else text


def scrub_text(text: str, *, rules: ScrubRules | None = None) -> str:
    """``text`` sanitised (``core.text``) and without the personal data ``rules`` name.

    >>> scrub_text("card 4111-1111-1111-1111 of jane@doe.com, call +1 415 555 2671")
    'card [card] of [email], call [phone]'
    """
    rules = rules or DEFAULT_RULES
    text = sanitize_text(text)
    if not rules.enabled or not text:
        return text
    steps: list[Callable[[str], str]] = []
    if rules.urls:
        steps.append(lambda t: URL_IN_TEXT.sub(scrub_frame_url, t))
    if rules.secrets:
        steps.append(_secrets)
    if rules.emails:
        steps.append(_emails)
    if rules.ibans:
        steps.append(_ibans)
    if rules.cards:
        steps.append(_cards)
    if rules.national_ids:
        steps.append(_national_ids)
    if rules.ips:
        steps.append(_ips)
    if rules.phones:
        steps.append(lambda t: _phones(t, rules.phone_region))
    if rules.secrets:
        steps.append(lambda t: _LONG_TOKEN.sub(TOKEN, t))
    for pattern in rules.compiled_extra():
        steps.append(lambda t, p=pattern: p.sub(REDACTED, t))  # type: ignore[misc]
    for step in steps:
        text = step(text)
    return text

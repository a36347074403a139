"""URLs without personal data: no query string, fragment or user-info; sensitive path
segments (e-mail addresses, UUIDs, long hex, tokens, card numbers) become placeholders.

>>> scrub_url("https://bob:pw@fanz.example/reset/3f2a9c0b1d4e5f60718293a4b5c6d7e8f9a0b1c2?email=a@b.c#x")
'https://fanz.example/reset/:hex'
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

from ._checksums import is_card_number

MAX_URL = 2048

# The local part without "=" and "/", so key=value and path/user@... keep their key and path.
EMAIL = re.compile(r"[\w.!#$%&'*+?^`{|}~-]+(?:@|%40)[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$")
_HEX = re.compile(r"^[0-9a-fA-F]{16,}$")
# A token: 20+ characters of base64url/JWT alphabet with both letters and digits.
_TOKEN = re.compile(r"^(?=[^/]*\d)(?=[^/]*[A-Za-z])[A-Za-z0-9_.~+=-]{20,}$")
_DIGITS = re.compile(r"^[\d -]{13,25}$")
URL_IN_TEXT = re.compile(r"\b[a-z][a-z0-9+.-]{1,15}://[^\s()<>\"']+", re.IGNORECASE)
_LINE_COL = re.compile(r"(?::\d{1,9}){1,2}$")


def scrub_segment(segment: str) -> str:
    """One path segment, or the placeholder for what it holds."""
    if not segment:
        return segment
    decoded = unquote(segment) if "%" in segment else segment
    if "@" in decoded and EMAIL.search(decoded):
        return ":email"
    if _UUID.match(decoded):
        return ":uuid"
    if _DIGITS.match(decoded) and is_card_number(re.sub(r"\D", "", decoded)):
        return ":card"
    if _HEX.match(decoded):
        return ":hex"
    if len(decoded) >= 20 and _TOKEN.match(decoded):
        return ":token"
    return segment


def scrub_path(path: str) -> str:
    return "/".join(scrub_segment(s) for s in path.split("/"))


def scrub_url(url: str) -> str:
    """scheme://host[:port]/path with the path scrubbed; no query, fragment or credentials.

    Something that is not an absolute URL keeps only its scrubbed path part.
    """
    try:
        parts = urlsplit(url[:MAX_URL])
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return scrub_path(url.split("?", 1)[0].split("#", 1)[0])[:MAX_URL]
    netloc = f"{host}:{port}" if port else host
    path = scrub_path(parts.path)
    out = f"{parts.scheme}://{netloc}{path}" if parts.scheme and netloc else path
    return out[:MAX_URL]


def scrub_frame_url(match: re.Match[str]) -> str:
    """A URL found in free text; stack frames keep their trailing ``:line:col``."""
    url = match.group(0)
    if "?" not in url and "#" not in url:
        return scrub_url(url)
    tail = _LINE_COL.search(url)
    return scrub_url(url) + (tail.group(0) if tail else "")

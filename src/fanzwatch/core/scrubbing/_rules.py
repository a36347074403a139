"""``ScrubRules``: which kinds of personal data are removed from free text."""

from __future__ import annotations

import re
from functools import lru_cache

from pydantic import BaseModel, ConfigDict, Field, field_validator


class ScrubRules(BaseModel):
    """What ``scrub_text`` removes. Everything but IP addresses is on by default.

    The server's ``ScrubSettings`` (``FANZWATCH_SCRUB_*``) is a ``ScrubRules``:

    >>> ScrubRules(ips=True, extra_patterns=(r"\\bfanz-user-\\d+\\b",)).ips
    True
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool = Field(default=True, description="scrub at all (false: text is only sanitised)")
    urls: bool = Field(default=True, description="URLs in text lose query, fragment, credentials, id segments")
    secrets: bool = Field(
        default=True,
        description="Bearer/Basic credentials, JWTs, API keys, private keys, password=/token= values, long tokens",
    )
    emails: bool = Field(default=True, description="e-mail addresses")
    cards: bool = Field(default=True, description="payment card numbers (Luhn-checked, any separators)")
    ibans: bool = Field(default=True, description="IBANs (mod-97 checked)")
    national_ids: bool = Field(default=True, description="US SSN, UK National Insurance, Canadian SIN")
    phones: bool = Field(default=True, description="phone numbers valid for their country")
    ips: bool = Field(default=False, description="IPv4 and IPv6 addresses")
    phone_region: str = Field(
        default="US", pattern=r"^[A-Z]{2}$", description="country of phone numbers written without +prefix"
    )
    extra_patterns: tuple[str, ...] = Field(
        default=(), description="more regular expressions whose matches become [redacted]"
    )

    @field_validator("extra_patterns")
    @classmethod
    def _compiles(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for pattern in v:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"extra_patterns: {pattern!r} is not a valid regular expression: {exc}") from None
        return v

    def compiled_extra(self) -> tuple[re.Pattern[str], ...]:
        return _compile(self.extra_patterns)


@lru_cache(maxsize=32)
def _compile(patterns: tuple[str, ...]) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(p) for p in patterns)


DEFAULT_RULES = ScrubRules()

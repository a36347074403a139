"""The FANZ platforms: the one label every series can be split by.

The ecosystem has 13 integrated platforms. Their slugs are configuration
(``FANZWATCH_PLATFORMS``); these are the defaults. A value that is not a configured
platform is recorded as ``other`` so a typo or a hostile client cannot grow the label.
"""

from __future__ import annotations

import re

DEFAULT_PLATFORMS: tuple[str, ...] = tuple(f"fanz-{n}" for n in range(1, 14))
OTHER_PLATFORM = "other"
PLATFORM_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}$")


def validate_platforms(platforms: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """Check a configured platform list: slugs, unique, at most 64."""
    out = tuple(platforms)
    if not out:
        raise ValueError("at least one platform must be configured")
    if len(out) > 64:
        raise ValueError(f"{len(out)} platforms configured; at most 64 keep labels bounded")
    bad = [p for p in out if not PLATFORM_SLUG.match(p) or p == OTHER_PLATFORM]
    if bad:
        raise ValueError(
            f"invalid platform slug(s) {bad}: use lowercase letters, digits and '-', "
            f"at most 32 characters, and not {OTHER_PLATFORM!r}"
        )
    if len(set(out)) != len(out):
        raise ValueError("platform slugs must be unique")
    return out


def bound_platform(value: str | None, allowed: frozenset[str]) -> str:
    """Map a platform value to itself when configured, else ``other``."""
    return value if value is not None and value in allowed else OTHER_PLATFORM

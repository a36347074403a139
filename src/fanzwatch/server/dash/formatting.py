"""Numbers as people read them: the Jinja filters of FanzDash's templates.

The browser code formats chart axes with the same rules (``web/fanzdash/src/format.ts``).

Money always carries its currency: ``fmt_money(83.84, "USD")`` is ``83.84 USD``.

>>> fmt(0.0123, "ratio"), fmt(0.25, "seconds"), fmt(1536, "bytes"), fmt(12345.5, "currency")
('1.23%', '250 ms', '1.5 KiB', '12,345.50')
>>> fmt_money(83.84, "USD"), fmt_amount(12.5, "currency", "EUR last week")
('83.84 USD', '12.50 EUR')
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from decimal import Decimal

_RATIO = {"ratio", "percent"}
_SECONDS = {"seconds", "s"}


def _num(value: float, digits: int = 3) -> str:
    if value == 0:
        return "0"
    magnitude = abs(value)
    if magnitude >= 1_000_000_000:
        return f"{value / 1e9:.3g}G"
    if magnitude >= 1_000_000:
        return f"{value / 1e6:.3g}M"
    if magnitude >= 10_000:
        return f"{value / 1e3:.3g}k"
    if magnitude >= 100:
        return f"{value:,.0f}"
    return f"{value:.{digits}g}"


def fmt(value: object, unit: str = "") -> str:
    """``value`` formatted for ``unit`` (a dashboard ``Unit`` value or a catalog unit)."""
    if value is None or value == "":
        return "–"
    if isinstance(value, Decimal):
        value = float(value)
    if not isinstance(value, int | float):
        return str(value)
    v = float(value)
    if math.isnan(v) or math.isinf(v):
        return "–"
    if unit in _RATIO:
        if abs(v) < 1e-5:  # under 0.001 %: float noise (1 - 0.9999999999999999), not a share
            return "0%"
        return f"{v * 100:.3g}%" if abs(v) < 0.1 else f"{v * 100:.1f}%"
    if unit in _SECONDS:
        if abs(v) < 1:
            return f"{v * 1000:.3g} ms"
        return f"{v:.3g} s" if abs(v) < 60 else f"{v / 60:.1f} min"
    if unit == "bytes":
        for suffix, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
            if abs(v) >= size:
                return f"{v / size:.1f} {suffix}"
        return f"{v:.0f} B"
    if unit in ("currency", "money"):
        return f"{v:,.2f}"
    if unit in ("requests_per_second", "requests/s"):
        return f"{_num(v)} req/s"
    if unit in ("events_per_second",):
        return f"{_num(v)}/s"
    if unit.endswith("/s") and unit not in ("requests/s",):
        return f"{_num(v)}/s"
    if isinstance(value, int):
        return f"{value:,}"
    return _num(v)


_CURRENCY = re.compile(r"^[A-Z]{3}$")
MONEY_UNITS = frozenset({"currency", "money"})


def fmt_money(value: object, currency: str | None) -> str:
    """An amount with its ISO currency code after it: ``83.84 USD`` (``–`` without a number)."""
    shown = fmt(value, "currency")
    if shown == "–" or not currency:
        return shown
    return f"{shown} {currency}"


def currency_of(label: str) -> str | None:
    """The currency code a series label starts with (``USD``, ``EUR last week``), if any."""
    first = label.split(" ", 1)[0] if label else ""
    return first if _CURRENCY.match(first) else None


def fmt_amount(value: object, unit: str, label: str = "") -> str:
    """``fmt`` for any unit; money gets the currency its series label names."""
    if unit in MONEY_UNITS:
        return fmt_money(value, currency_of(label))
    return fmt(value, unit)


# Emoji render as boxes where the machine has no emoji font (servers, headless browsers):
# FanzDash shows what they meant as a word and an inline SVG instead.
_EMOJI = re.compile("[\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff\ufe0f\u200d]+")
_EMOJI_KIND = {"\U0001f4c8": "up", "\U0001f680": "up", "\U0001f4c9": "down"}


_AMOUNT_IN_TEXT = re.compile(r"\b(\d+(?:\.\d+)?) ([A-Z]{3})\b")


def money_in_text(text: str) -> str:
    """Amounts a sentence prints raw (``83.8400 USD``) as FanzDash prints money (``83.84 USD``)."""
    return _AMOUNT_IN_TEXT.sub(lambda m: fmt_money(float(m.group(1)), m.group(2)), text)


def without_emoji(text: str) -> tuple[str, str]:
    """(kind, text): the sentence without emoji (its amounts as money), and ``up``, ``down`` or
    ``note`` from its lead."""
    lead = _EMOJI.match(text)
    kind = "note"
    if lead:
        kind = next((k for ch, k in _EMOJI_KIND.items() if ch in lead.group(0)), "note")
    return kind, money_in_text(" ".join(_EMOJI.sub(" ", text).split()))


def fmt_growth(percent: float | None, label: str = "") -> str:
    """A growth figure: ``+12.5%``; the label (``new``/``n/a``) when there is no percentage."""
    if percent is None:
        return label or "n/a"
    return f"{percent:+.1f}%"


def fmt_time(value: datetime | float | None) -> str:
    """A UTC timestamp for tables: ``2026-01-02 14:05:09 UTC``."""
    if value is None:
        return "–"
    when = datetime.fromtimestamp(value, UTC) if isinstance(value, int | float) else value.astimezone(UTC)
    return when.strftime("%Y-%m-%d %H:%M:%S UTC")


def fmt_ago(value: datetime | float | None, *, now: datetime) -> str:
    """How long ago: ``3 min ago``, ``2 h ago``."""
    if value is None:
        return "–"
    when = datetime.fromtimestamp(value, UTC) if isinstance(value, int | float) else value
    seconds = max(0.0, (now - when).total_seconds())
    if seconds < 60:
        return f"{seconds:.0f} s ago"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min ago"
    if seconds < 172800:
        return f"{seconds / 3600:.0f} h ago"
    return f"{seconds / 86400:.0f} d ago"


def fmt_duration(seconds: float) -> str:
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.0f} h"
    return f"{seconds / 86400:.0f} d"


def fmt_nanos(nanos: int | None) -> str:
    """A span's duration: ``850 ns``, ``12.5 µs``, ``3.42 ms``, ``1.25 s``."""
    if nanos is None:
        return "–"
    if nanos < 1_000:
        return f"{nanos} ns"
    if nanos < 1_000_000:
        return f"{nanos / 1e3:.3g} µs"
    if nanos < 1_000_000_000:
        return f"{nanos / 1e6:.3g} ms"
    return f"{nanos / 1e9:.3g} s"


def fmt_nano_time(nanos: int | None) -> str:
    """A record's time to the millisecond: ``2026-01-02 14:05:09.123 UTC``."""
    if nanos is None:
        return "–"
    when = datetime.fromtimestamp(nanos // 1_000_000_000, UTC)
    return f"{when:%Y-%m-%d %H:%M:%S}.{nanos // 1_000_000 % 1000:03d} UTC"

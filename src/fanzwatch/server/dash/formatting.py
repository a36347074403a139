"""Numbers as people read them: the Jinja filters of FanzDash's templates.

The browser code formats chart axes with the same rules (``web/fanzdash/src/format.ts``).

>>> fmt(0.0123, "ratio"), fmt(0.25, "seconds"), fmt(1536, "bytes"), fmt(12345.5, "currency")
('1.23%', '250 ms', '1.5 KiB', '12,345.50')
"""

from __future__ import annotations

import math
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

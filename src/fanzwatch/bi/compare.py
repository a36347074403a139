"""Period comparison and the guide's written insights, without dividing by zero.

Growth is ``(current - previous) / previous``. When the previous value is zero it is
undefined: the growth label then says ``"new"`` (something from nothing) or ``"n/a"``
(nothing in either window), and ``growth_percent`` is ``None``.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from .models import BiMetrics, Change

Number = Decimal | float | int

#: Thresholds of the guide's insight rules, in percent.
REVENUE_MOVE_PERCENT = 10.0
REGISTRATION_SURGE_PERCENT = 20.0


def change(current: Number | None, previous: Number | None) -> Change:
    """Compare one metric across windows."""
    if current is None or previous is None:
        return Change(current=current, previous=previous, delta=None, growth_percent=None, growth="n/a")
    delta: Number = current - previous  # type: ignore[operator]
    if previous == 0:
        label = "n/a" if current == 0 else "new"
        return Change(current=current, previous=previous, delta=delta, growth_percent=None, growth=label)
    pct = float(Decimal(str(delta)) / abs(Decimal(str(previous))) * 100)
    return Change(current=current, previous=previous, delta=delta, growth_percent=round(pct, 1), growth=f"{pct:+.1f}%")


def _leaves(model: Any, prefix: str = "") -> Iterator[tuple[str, Number | None]]:
    items = model.items() if isinstance(model, dict) else ((k, getattr(model, k)) for k in type(model).model_fields)
    for key, value in items:
        path = f"{prefix}{key}"
        if isinstance(value, BaseModel | dict):
            yield from _leaves(value, f"{path}.")
        elif isinstance(value, bool | str | list):
            continue
        elif value is None or isinstance(value, Decimal | float | int):
            yield path, value


def compare(current: BiMetrics, previous: BiMetrics) -> dict[str, Change]:
    """Every numeric figure of both windows, by dotted path (``revenue.total``)."""
    now, before = dict(_leaves(current)), dict(_leaves(previous))
    out: dict[str, Change] = {}
    for path in sorted(set(now) | set(before)):
        cur, prev = now.get(path), before.get(path)
        # a key present in one window only (a new currency, type...) is zero in the other
        if path not in now and isinstance(prev, int | Decimal):
            cur = type(prev)(0)
        if path not in before and isinstance(cur, int | Decimal):
            prev = type(cur)(0)
        out[path] = change(cur, prev)
    return out


def describe_length(seconds: int) -> str:
    """``86400`` → ``"24 hours"``; ``604800`` → ``"7 days"``."""
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds % size == 0 and (unit != "day" or seconds >= 2 * 86400):
            n = seconds // size
            return f"{n} {unit}{'s' if n != 1 else ''}"
    return f"{seconds} seconds"


def insights(current: BiMetrics, changes: dict[str, Change], *, window_seconds: int) -> list[str]:
    """The guide's four insight rules, computed on non-overlapping windows of equal length.

    Each sentence names the figure it compares (gross revenue, registrations, uploads,
    engagement per active user).
    """
    span = describe_length(window_seconds)
    out: list[str] = []
    # Gross against gross: both windows by payment time, so a refund arriving later cannot
    # shrink the previous window and make growth look better than it was.
    revenue = changes["revenue.gross"]
    currency = current.revenue.currency
    if revenue.growth == "new":
        out.append(f"📈 Gross revenue of {current.revenue.gross} {currency}, up from none in the previous {span}")
    elif revenue.growth_percent is not None and revenue.growth_percent > REVENUE_MOVE_PERCENT:
        out.append(f"📈 Gross revenue increased by {revenue.growth_percent:.1f}% compared to the previous {span}")
    elif revenue.growth_percent is not None and revenue.growth_percent < -REVENUE_MOVE_PERCENT:
        out.append(f"📉 Gross revenue decreased by {abs(revenue.growth_percent):.1f}% compared to the previous {span}")
    users = changes["users.new_users"]
    if users.growth == "new":
        out.append(f"🚀 {current.users.new_users} user registrations, up from none in the previous {span}")
    elif users.growth_percent is not None and users.growth_percent > REGISTRATION_SURGE_PERCENT:
        out.append(f"🚀 User registrations up {users.growth_percent:.1f}% - consider scaling infrastructure")
    uploads = current.content.uploads_by_type
    if uploads:
        kind, count = sorted(uploads.items(), key=lambda kv: (-kv[1], kv[0]))[0]
        if count > 0:
            out.append(f"🎨 {kind.capitalize()} content is trending with {count} uploads in the last {span}")
    score = changes["engagement.engagement_score_per_active_user"]
    if score.growth_percent is not None and score.growth_percent < 0:
        out.append(
            f"💡 Engagement per active user is down {abs(score.growth_percent):.1f}% - "
            "consider creator incentive programs"
        )
    return out

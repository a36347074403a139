"""Readers of the report statement's rows: typed fact sums and subscription balances.

The statement (``_statement``) sums each fact over rollup rows for whole days and hours
and over raw rows for the rest, with the very measure expressions the rollups were built
from (``facts``), so both paths sum the same values.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from fractions import Fraction
from typing import Any

import sqlalchemy as sa

from .. import schema
from ._keys import InstantKey, ReportRows, SubsPart, SubsSource
from .facts import Fact, monthly_recurring

_Q = Decimal(1).scaleb(-schema.MONEY_SCALE)


def money(value: Any) -> Decimal:
    """A summed money value as an exact Decimal with the schema's scale (0 for NULL)."""
    if value is None:
        return Decimal(0).quantize(_Q)
    return Decimal(str(value)).quantize(_Q) if isinstance(value, float) else Decimal(value).quantize(_Q)


def platform_filter(column: sa.ColumnElement[Any], platform: str | None) -> list[sa.ColumnElement[bool]]:
    return [] if platform is None else [column == platform]


def read_fact(rows: Sequence[dict[str, Any]], fact: Fact) -> list[dict[str, Any]]:
    """Typed rows: dims as str, integer measures as int, money as quantised Decimal."""
    measures = [(m.name, m.money) for m in fact.measures]
    names = {name for name, _ in measures}
    out = []
    for row in rows:
        item = {k: v for k, v in row.items() if k not in names}
        for name, is_money in measures:
            item[name] = money(row[name]) if is_money else int(row[name] or 0)
        out.append(item)
    if len(out) < 2:
        return out
    dims = [d.name for d in fact.dims]
    return sorted(out, key=lambda r: tuple(str(r[d]) for d in dims))


def fact_totals(rows: Sequence[dict[str, Any]], fact: Fact) -> dict[str, Any]:
    """The fact's measures summed over every dimension."""
    totals: dict[str, Any] = {m.name: (money(0) if m.money else 0) for m in fact.measures}
    for row in read_fact(rows, fact):
        for m in fact.measures:
            totals[m.name] += row[m.name]
    return totals


def read_subscriptions(rows: ReportRows, instant: InstantKey) -> dict[str, tuple[int, Fraction]]:
    """Currency → (recurring subscriptions, exact MRR) at the statement's ``instant``."""
    return {c: v for (_, c), v in read_subscriptions_by_platform(rows, instant).items()}


def read_subscriptions_by_platform(
    rows: ReportRows, instant: InstantKey
) -> dict[tuple[str | None, str], tuple[int, Fraction]]:
    """(platform or None, currency) → (recurring subscriptions, MRR as an exact fraction).

    MRR is Σ period price / billing months over the exact per-period sums: no rounding
    per subscription; the figure is rounded once where it is shown (``round_money``).
    Computed once per instant and statement result, however many families read it.
    """
    return rows.derived(("subscriptions", instant), lambda: _subscriptions_by_platform(rows, instant))


def _subscriptions_by_platform(
    rows: ReportRows, instant: InstantKey
) -> dict[tuple[str | None, str], tuple[int, Fraction]]:
    count: dict[tuple[str | None, str], int] = {}
    prices: dict[tuple[str | None, str], dict[int, Decimal]] = {}
    sources: tuple[tuple[SubsSource, int], ...] = (("raw", 1), ("balance", 1), ("start", 1), ("stop", -1))
    for source, sign in sources:
        for row in rows.of(SubsPart(source), instant):
            key = (row.get("platform"), row["currency"])
            count[key] = count.get(key, 0) + sign * int(row["count"] or 0)
            by_months = prices.setdefault(key, {})
            months = int(row["months"])
            by_months[months] = by_months.get(months, money(0)) + sign * money(row["price"])
    out: dict[tuple[str | None, str], tuple[int, Fraction]] = {}
    for key in sorted(count, key=str):
        mrr = monthly_recurring(prices[key])
        if count[key] or mrr:
            out[key] = (count[key], mrr)
    return out


def round_money(value: Fraction | Decimal) -> Decimal:
    """An exact value rounded once to the schema's four places (half to even): every shown money figure."""
    value = Fraction(value)
    with localcontext() as ctx:
        ctx.prec = 60  # the one division is exact to far beyond the four places kept
        return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(_Q, rounding=ROUND_HALF_EVEN)

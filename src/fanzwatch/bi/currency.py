"""Currency conversion for reports: the rates in force, and exact conversion rounded once.

One set of rates serves a whole report (each currency's latest rate with ``valid_from``
before the current window's end), so a comparison between two windows shows business
change, not exchange-rate movement ("constant currency").
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from fractions import Fraction

from sqlalchemy import Connection

from ..schema.rates import rates_at
from ._query_facts import round_money


def exchange_rates(conn: Connection, at: datetime) -> dict[str, Decimal]:
    """Each currency's latest USD rate with ``valid_from`` before ``at`` (``schema.rates_at``)."""
    return rates_at(conn, at)


class Converter:
    """Converts amounts to the reporting currency exactly; remembers currencies it could not convert.

    ``exact`` is the unrounded value (a ``Fraction``); ``total`` adds exact values and rounds
    once to four places (half to even), so a total never carries one rounding per currency.
    """

    def __init__(self, rates: dict[str, Decimal], reporting: str) -> None:
        self._rates = {"USD": Decimal(1), **rates}
        self.reporting = reporting
        self.missing: set[str] = set()

    def exact(self, amount: Decimal | Fraction, currency: str) -> Fraction | None:
        if currency == self.reporting:
            return Fraction(amount)
        src, dst = self._rates.get(currency), self._rates.get(self.reporting)
        if src is None or dst is None:
            self.missing.add(currency if src is None else self.reporting)
            return None
        return Fraction(amount) * Fraction(src) / Fraction(dst)

    def can(self, currency: str) -> bool:
        return currency == self.reporting or (currency in self._rates and self.reporting in self._rates)

    def exact_total(self, amounts: Mapping[str, Decimal | Fraction]) -> Fraction:
        """The unrounded sum in the reporting currency (currencies without a rate are left out)."""
        converted = (self.exact(a, c) for c, a in amounts.items())
        return sum((v for v in converted if v is not None), Fraction(0))

    def total(self, amounts: Mapping[str, Decimal | Fraction]) -> Decimal:
        return round_money(self.exact_total(amounts))

"""Money as people read it: two decimals (none for zero-decimal currencies) and the ISO code."""

from __future__ import annotations

from decimal import Decimal

import pytest

from fanzwatch.cli._common import format_money


@pytest.mark.parametrize(
    ("amount", "currency", "text"),
    [
        (83.84, "USD", "83.84 USD"),
        (Decimal("83.8400"), "usd", "83.84 USD"),
        ("1234567.005", "EUR", "1,234,567.00 EUR"),  # half-even, as the ledger rounds
        (1200, "JPY", "1,200 JPY"),
        (0, "GBP", "0.00 GBP"),
        (-12.5, "USD", "-12.50 USD"),
        (None, "USD", "-"),
        (7.1, None, "7.10"),
    ],
)
def test_format_money(amount: float | Decimal | str | None, currency: str | None, text: str) -> None:
    assert format_money(amount, currency) == text

"""Exchange-rate histories: one USD rate per currency per UTC day, a seeded random walk."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import numpy as np

from . import _model as m

DAILY_VOLATILITY = 0.004  # ~0.4 % a day, like major currency pairs
_PLACES = Decimal("0.0000000001")  # the schema's Rate has ten places


def rate_history(seed: int, start: datetime, end: datetime) -> list[dict[str, object]]:
    """Rows for ``exchange_rates``: each midnight from the day before ``start`` to before ``end``, but USD."""
    rng = np.random.default_rng([seed, 0x5241544553])  # "RATES": independent of the platforms' streams
    first = datetime.combine(start.date(), datetime.min.time(), tzinfo=start.tzinfo) - timedelta(days=1)
    days = -(-(end - first) // timedelta(days=1))  # midnights before `end`
    rows: list[dict[str, object]] = []
    for code, (_, base) in m.CURRENCIES.items():
        walk = np.exp(np.cumsum(rng.normal(0.0, DAILY_VOLATILITY, days)))
        if code == "USD":
            continue
        for day, factor in enumerate(walk):
            rate = (base * Decimal(repr(float(factor)))).quantize(_PLACES)
            rows.append({"currency": code, "valid_from": first + timedelta(days=day), "rate_to_usd": rate})
    return rows

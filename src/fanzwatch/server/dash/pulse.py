"""The business pulse of the Overview: four signals now and at the same time last week.

Revenue per hour (one line per currency: currencies are never added up), payment
success, registrations per hour and active users, per platform or all. Each is queried
twice over the same range, once with ``offset 1w``, and drawn together.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from ...core.catalog import business
from .charts import chart, legend
from .errors import SourceError
from .sources import PrometheusSource
from .timerange import TimeRange, resolve

_P = 'platform=~"$platform"'
_PAY = f"{business.PAYMENT_TRANSACTIONS.name}_total"


@dataclass(frozen=True, slots=True)
class PulseSignal:
    """``expr`` holds ``{offset}`` right after each range selector (or selector)."""

    key: str
    title: str
    unit: str
    expr: str
    legend: str
    description: str

    def query(self, *, last_week: bool) -> str:
        return self.expr.replace("{offset}", " offset 1w" if last_week else "")


PULSE = (
    PulseSignal(
        "revenue",
        "Revenue per hour",
        "currency",
        f"sum by (currency) (increase({business.REVENUE.name}_total{{{_P}}}[1h]{{offset}}))",
        "{{currency}}",
        "Completed payments in the hour before each point, per currency.",
    ),
    PulseSignal(
        "payment_success",
        "Payment success",
        "ratio",
        f'sum(rate({_PAY}{{status="completed",{_P}}}[15m]{{offset}}))\n/ sum(rate({_PAY}{{{_P}}}[15m]{{offset}}))',
        "success",
        "Share of payment attempts that completed, over 15 minutes.",
    ),
    PulseSignal(
        "registrations",
        "Registrations per hour",
        "count",
        f"sum(increase({business.USER_REGISTRATIONS.name}_total{{{_P}}}[1h]{{offset}}))",
        "registrations",
        "New accounts in the hour before each point.",
    ),
    PulseSignal(
        "active_users",
        "Active users",
        "count",
        f"sum({business.ACTIVE_USERS.name}{{{_P}}}{{offset}})",
        "active users",
        "Distinct signed-in users seen in the last 5 minutes.",
    ),
)


@dataclass(frozen=True, slots=True)
class Figure:
    """One line's value now and a week ago (for revenue: one per currency)."""

    label: str
    now: float | None
    last_week: float | None

    @property
    def change_percent(self) -> float | None:
        if self.now is None or self.last_week is None or self.last_week == 0:
            return None
        return (self.now - self.last_week) / abs(self.last_week) * 100


@dataclass
class PulseView:
    signal: PulseSignal
    figures: list[Figure] = field(default_factory=list)
    chart: dict[str, Any] | None = None
    error: str | None = None


async def pulse_view(
    prom: PrometheusSource, signal: PulseSignal, *, rng: TimeRange, platform: str | None, scrape_interval: float
) -> PulseView:
    view = PulseView(signal)
    now_q, week_q = (
        resolve(signal.query(last_week=w), platform=platform, rng=rng, scrape_interval=scrape_interval)
        for w in (False, True)
    )
    try:
        current, previous = await asyncio.gather(
            prom.query_range(now_q, start=rng.start, end=rng.end, step=rng.step),
            prom.query_range(week_q, start=rng.start, end=rng.end, step=rng.step),
        )
    except SourceError as exc:
        view.error = str(exc)
        return view
    before = {legend(signal.legend, s.labels): s for s in previous}
    lines = []
    for s in sorted(current, key=lambda s: -(s.last() or 0)):
        name = legend(signal.legend, s.labels)
        old = before.pop(name, None)
        view.figures.append(Figure(name, s.last(), old.last() if old else None))
        lines.append((name, s.timestamps, s.values))
        if old is not None:
            lines.append((f"{name} last week", old.timestamps, old.values))
    for name, old in before.items():  # gone since last week
        view.figures.append(Figure(name, None, old.last()))
        lines.append((f"{name} last week", old.timestamps, old.values))
    dashed = [i for i, line in enumerate(lines) if line[0].endswith("last week")]
    if lines:
        view.chart = chart(signal.title, signal.unit, lines, dashed=dashed, y_min=0, x_range=(rng.start, rng.end))
    return view


async def pulse_views(
    prom: PrometheusSource, *, rng: TimeRange, platform: str | None, scrape_interval: float
) -> list[PulseView]:
    return list(
        await asyncio.gather(
            *(pulse_view(prom, s, rng=rng, platform=platform, scrape_interval=scrape_interval) for s in PULSE)
        )
    )

"""The error budget an incident consumed: per SLO whose alerts are in it, the share of the
period's budget and the money burnt between the incident's start and its end (or now).

Read from the SLO rules' recorded series in Prometheus (``provisioning.slo_rules``), at the
two instants: budget consumed is ``slo:period_error_budget_remaining:ratio`` at the start
minus at the end; money burnt is ``slo:bad_events_value:currency`` at the end minus at the
start, per currency. A calendar month that began during the incident starts counting again:
then only what the new month has spent counts (a lower bound, flagged ``restarted``). A
rolling period forgets old events meanwhile; that is not the incident's doing, so neither
figure goes below 0.

>>> spent = await incident_budget(prom, detail.alerts, start=opened, end=resolved_or_now)
>>> spent[0].budget, spent[0].money
(0.031, (('USD', 412.5),))
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from ...core.catalog import slo as cat
from .sources import PrometheusSource, Series

MAX_SLOS = 20
"""SLOs read per incident (a huge incident shows the first ones)."""


@dataclass(frozen=True, slots=True)
class BudgetSpent:
    """What one SLO (on one platform) lost while the incident lasted.

    ``budget``: share of the period's error budget consumed (0.031 = 3.1 %), None when
    Prometheus has no series at both ends. ``money``: ``(currency, amount)`` burnt, for a
    money SLO. ``restarted``: the SLO's period began during the incident, so the figures
    count from that start only.
    """

    sloth_id: str
    slo: str
    platform: str
    budget: float | None
    money: tuple[tuple[str, float], ...] = ()
    restarted: bool = False

    def as_dict(self) -> dict[str, object]:
        return {
            "sloth_id": self.sloth_id,
            "slo": self.slo,
            "platform": self.platform or None,
            "budget_consumed_ratio": None if self.budget is None else round(self.budget, 6),
            "money_burnt": [{"currency": c, "amount": round(v, 2)} for c, v in self.money],
            "period_restarted": self.restarted,
        }


def _slos_of(alerts: Iterable[Mapping[str, object]]) -> list[tuple[str, str, str]]:
    """``(sloth_id, sloth_slo, platform)`` of the alerts that are SLO burn-rate alerts, first seen first."""
    seen: dict[tuple[str, str], str] = {}
    for alert in alerts:
        labels = alert.get("labels")
        if not isinstance(labels, Mapping):
            continue
        sid = labels.get("sloth_id")
        if isinstance(sid, str) and sid:
            platform = labels.get("platform")
            key = (sid, platform if isinstance(platform, str) else "")
            slo = labels.get("sloth_slo")
            seen.setdefault(key, slo if isinstance(slo, str) and slo else sid)
    return [(sid, slo, platform) for (sid, platform), slo in list(seen.items())[:MAX_SLOS]]


def _quoted(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def _ends(series: Series, start: float, end: float) -> tuple[float | None, float | None]:
    """The values at ``start`` and at ``end`` (None where the series has no point there)."""
    points = list(zip(series.timestamps, series.values, strict=True))
    first = points[0][1] if points and abs(points[0][0] - start) < 1 else None
    last = points[-1][1] if points and abs(points[-1][0] - end) < 1 else None
    return first, last


def _month(ts: float) -> tuple[int, int]:
    at = datetime.fromtimestamp(ts, UTC)
    return at.year, at.month


def _consumed(before: float | None, after: float | None, *, restarted: bool) -> float | None:
    """``after - before`` of a growing figure; from 0 when the period restarted in between.
    A rolling window also forgets old events meanwhile: what it forgot is not the incident's
    gain, so the figure never goes below 0."""
    if after is None or (before is None and not restarted):
        return None
    return max(0.0, after - (0.0 if restarted or before is None else before))


async def _spent(prom: PrometheusSource, sid: str, slo: str, platform: str, start: float, end: float) -> BudgetSpent:
    where = f'{{sloth_id="{_quoted(sid)}"' + (f', platform="{_quoted(platform)}"' if platform else "") + "}"
    step = end - start
    remaining, money = await asyncio.gather(
        prom.query_range(cat.PERIOD_BUDGET_REMAINING.name + where, start=start, end=end, step=step),
        prom.query_range(cat.BAD_EVENTS_VALUE.name + where, start=start, end=end, step=step),
    )
    monthly = bool(remaining) and remaining[0].labels.get("sloth_window") == "month"
    restarted = monthly and _month(start) != _month(end)
    budget = None
    if remaining:
        before, after = _ends(remaining[0], start, end)
        # Spent budget is 1 - remaining: it grows as remaining falls.
        budget = _consumed(
            None if before is None else 1 - before, None if after is None else 1 - after, restarted=restarted
        )
    burnt: list[tuple[str, float]] = []
    for s in sorted(money, key=lambda s: s.labels.get("currency", "")):
        lost = _consumed(*_ends(s, start, end), restarted=restarted)
        if lost is not None:
            burnt.append((s.labels.get("currency", ""), lost))
    return BudgetSpent(sid, slo, platform, budget, tuple(burnt), restarted)


async def incident_budget(
    prom: PrometheusSource, alerts: Iterable[Mapping[str, object]], *, start: float, end: float
) -> list[BudgetSpent]:
    """The budget each SLO of ``alerts`` consumed between ``start`` and ``end`` (unix seconds).

    Both are taken in whole seconds, ``end`` at least one after ``start`` (a step).
    """
    start = float(math.floor(start))
    end = float(max(math.ceil(end), start + 1))
    return list(
        await asyncio.gather(*(_spent(prom, sid, slo, plat, start, end) for sid, slo, plat in _slos_of(alerts)))
    )

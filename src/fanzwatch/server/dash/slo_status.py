"""Every SLO's state, read back from the series its generated rules record in Prometheus.

Nothing is recomputed here: the SLI, budget, burn rates and money are the recorded
``slo:*`` series (``provisioning.slo_rules``), so FanzDash, Grafana and the alerts agree.
The tiers that "would fire" compare the recorded window ratios with the SLO's own
tiers' thresholds (the default tiers for an SLO the server has no definition of),
without the alerts' hold and traffic guard: they say where the burn is, the Alerts page
says what fired. A performance budget's rows are per platform and page template.
"""

from __future__ import annotations

import asyncio
import math
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field

from ...core.catalog import slo as cat
from ...provisioning.definitions.slos import SLOS
from ...provisioning.slo import DEFAULT_TIERS, BurnRateTier
from .sources import PrometheusSource, Series

WINDOWS = ("5m", "30m", "1h", "6h", "3d")
"""The windows shown (the default tiers' long and short windows)."""
BUILT_IN_TIERS: Mapping[str, tuple[BurnRateTier, ...]] = {s.id: s.tiers for s in SLOS}
"""The tiers of each built-in SLO by id. Only a Python definition can choose its tiers: an
SLO not listed here (an OpenSLO file's) has the default ones."""


@dataclass(frozen=True, slots=True)
class SloMoney:
    """A money SLO's period in one currency: what failed, what the budget allows, what is left."""

    currency: str
    bad: float | None
    allowed: float | None
    remaining: float | None


@dataclass
class SloStatus:
    """One SLO on one platform (or on everything, for an SLO not grouped by platform), and
    on one page template for a performance budget."""

    sloth_id: str
    slo: str
    service: str
    platform: str
    page_template: str = ""
    objective: float | None = None
    budget: float | None = None
    remaining: float | None = None
    period_burn: float | None = None
    ratios: dict[str, float | None] = field(default_factory=dict)
    money: list[SloMoney] = field(default_factory=list)
    tiers: tuple[BurnRateTier, ...] = DEFAULT_TIERS
    """The SLO's burn-rate tiers, as its definition generated its alerts."""

    @property
    def sli(self) -> float | None:
        """The share of good events over the period so far."""
        if self.period_burn is None or self.budget is None:
            return None
        return 1 - self.period_burn * self.budget

    def burn(self, window: str) -> float | None:
        ratio = self.ratios.get(window)
        if ratio is None or not self.budget:
            return None
        return ratio / self.budget

    def would_fire(self, tiers: tuple[BurnRateTier, ...] | None = None) -> list[BurnRateTier]:
        """The tiers (``tiers``, or the SLO's own when None) whose long and short windows both burn."""
        out = []
        for tier in self.tiers if tiers is None else tiers:
            long_, short = self.burn(tier.long), self.burn(tier.short)
            if long_ is not None and short is not None and long_ > tier.factor and short > tier.factor:
                out.append(tier)
        return out

    @property
    def has_data(self) -> bool:
        """False while no window and no period has an event to judge by (all ratios 0/0)."""
        return (
            self.period_burn is not None
            or self.remaining is not None
            or any(r is not None for r in self.ratios.values())
        )

    @property
    def status(self) -> str:
        """fail: budget spent or a page tier burning; warn: a ticket tier burning; unknown:
        no events yet; pass otherwise."""
        if not self.has_data:
            return "unknown"
        firing = self.would_fire()
        if (self.remaining is not None and self.remaining <= 0) or any(t.severity.value == "critical" for t in firing):
            return "fail"
        return "warn" if firing else "pass"


def _last(s: Series) -> float | None:
    """The newest value, ``None`` for NaN: a ratio of no events (0/0) says nothing."""
    v = s.last()
    return None if v is None or math.isnan(v) else v


def _where(platform: str | None) -> str:
    return f'{{platform="{platform}"}}' if platform else ""


async def slo_statuses(
    prom: PrometheusSource,
    *,
    now: float,
    platform: str | None = None,
    tiers: Mapping[str, tuple[BurnRateTier, ...]] = BUILT_IN_TIERS,
) -> list[SloStatus]:
    """Every SLO Prometheus has series of, worst first; ``platform`` limits them to one.

    ``tiers``: each SLO's burn-rate tiers by ``sloth_id`` (default tiers for one not in it).
    """
    where = _where(platform)
    windows = tuple(
        w for w in cat.SLI_WINDOWS if w in WINDOWS or any(w in (t.long, t.short) for ts in tiers.values() for t in ts)
    )
    names = {
        "budget": cat.ERROR_BUDGET.name,
        "objective": cat.OBJECTIVE.name,
        "remaining": cat.PERIOD_BUDGET_REMAINING.name + where,
        "period_burn": cat.PERIOD_BURN_RATE.name + where,
        "bad": cat.BAD_EVENTS_VALUE.name + where,
        "allowed": cat.ERROR_BUDGET_VALUE.name + where,
        "left": cat.ERROR_BUDGET_REMAINING_VALUE.name + where,
        **{w: cat.sli_error_name(w) + where for w in windows},
    }
    answers = await asyncio.gather(*(prom.query_range(e, start=now, end=now, step=60) for e in names.values()))
    got: dict[str, list[Series]] = dict(zip(names, answers, strict=True))

    per_slo: dict[str, dict[str, float | None]] = defaultdict(dict)
    for key in ("budget", "objective"):
        for s in got[key]:
            per_slo[s.labels.get("sloth_id", "")][key] = _last(s)
    rows: dict[tuple[str, str, str], SloStatus] = {}

    def row_key(s: Series) -> tuple[str, str, str]:
        return s.labels.get("sloth_id", ""), s.labels.get("platform", ""), s.labels.get("page_template", "")

    def row(s: Series) -> SloStatus:
        k = row_key(s)
        if k not in rows:
            sid, plat, template = k
            rows[k] = SloStatus(
                sloth_id=sid,
                slo=s.labels.get("sloth_slo", sid),
                service=s.labels.get("sloth_service", ""),
                platform=plat,
                page_template=template,
                objective=per_slo[sid].get("objective"),
                budget=per_slo[sid].get("budget"),
                tiers=tiers.get(sid, DEFAULT_TIERS),
            )
        return rows[k]

    for s in got["remaining"]:
        row(s).remaining = _last(s)
    for s in got["period_burn"]:
        row(s).period_burn = _last(s)
    for w in windows:
        for s in got[w]:
            row(s).ratios[w] = _last(s)
    money: dict[tuple[str, str, str], dict[str, float | None]] = defaultdict(dict)
    for key in ("bad", "allowed", "left"):
        for s in got[key]:
            money[(s.labels.get("sloth_id", ""), s.labels.get("platform", ""), s.labels.get("currency", ""))][key] = (
                _last(s)
            )
    for (sid, plat, currency), values in sorted(money.items()):
        if (sid, plat, "") in rows:
            rows[(sid, plat, "")].money.append(
                SloMoney(currency, values.get("bad"), values.get("allowed"), values.get("left"))
            )
    order = {"fail": 0, "warn": 1, "pass": 2, "unknown": 3}
    return sorted(rows.values(), key=lambda r: (order[r.status], r.service, r.slo, r.platform, r.page_template))


async def burn_down(prom: PrometheusSource, sloth_id: str, *, start: float, end: float, step: float) -> list[Series]:
    """Budget remaining (ratio) of one SLO over time, one series per platform."""
    quoted = sloth_id.replace("\\", "\\\\").replace('"', '\\"')
    expr = f'{cat.PERIOD_BUDGET_REMAINING.name}{{sloth_id="{quoted}"}}'
    return await prom.query_range(expr, start=start, end=end, step=step)

"""The performance budgets section of the SLOs page: each budget as a page template × platform grid.

A budget is an SLO whose rows carry a ``page_template`` (the RUM budgets of
``provisioning.definitions.slos``), plus the API's p95 budget ``api-latency``, shown as one
row of all API requests. Each cell is one recorded SLO row: its share of good views over
the period against the objective, the budget left and the burn over the tiers' windows.
Nothing is recomputed; a template with no views on a platform has no cell.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ...provisioning.definitions.slos import API_LATENCY, PERFORMANCE_BUDGETS
from ...provisioning.slo import SLO, BurnRateTier, window_seconds
from .slo_status import SloStatus

API_ROW = "API requests (all routes)"
"""The row label of the API p95 budget, which is per platform, not per page template."""
_DEFINED: dict[str, SLO] = {slo.id: slo for slo in (*PERFORMANCE_BUDGETS, API_LATENCY)}


@dataclass
class Budget:
    """One performance budget: its rows (page templates) × platforms of SLO rows."""

    sloth_id: str
    slo: str
    description: str
    objective: float | None
    windows: tuple[str, ...]
    platforms: list[str] = field(default_factory=list)
    rows: dict[str, dict[str, SloStatus]] = field(default_factory=dict)

    @property
    def worst(self) -> str:
        statuses = {s.status for cells in self.rows.values() for s in cells.values()}
        return next((st for st in ("fail", "warn", "pass") if st in statuses), "unknown")


def _windows(tiers: tuple[BurnRateTier, ...]) -> tuple[str, ...]:
    """The tiers' windows, shortest first, each once."""
    return tuple(sorted({w for t in tiers for w in (t.short, t.long)}, key=window_seconds))


def is_budget_row(status: SloStatus) -> bool:
    """True for the rows the budgets section shows instead of the SLO table (per page template)."""
    return bool(status.page_template)


def performance_budgets(statuses: list[SloStatus], platforms: tuple[str, ...]) -> list[Budget]:
    """The budgets with rows among ``statuses``, defined ones first in definition order."""
    out: dict[str, Budget] = {}
    order = {sid: i for i, sid in enumerate(_DEFINED)}
    for s in statuses:
        if not is_budget_row(s) and s.sloth_id != API_LATENCY.id:
            continue
        budget = out.get(s.sloth_id)
        if budget is None:
            slo = _DEFINED.get(s.sloth_id)
            budget = out[s.sloth_id] = Budget(
                sloth_id=s.sloth_id,
                slo=s.slo,
                description=slo.description if slo else s.slo,
                objective=s.objective,
                windows=_windows(s.tiers),
            )
        budget.rows.setdefault(s.page_template or API_ROW, {})[s.platform] = s
    rank = {p: i for i, p in enumerate(platforms)}
    for budget in out.values():
        present = {p for cells in budget.rows.values() for p in cells}
        budget.platforms = sorted(present, key=lambda p: (rank.get(p, len(rank)), p))
        budget.rows = dict(sorted(budget.rows.items()))
    return sorted(out.values(), key=lambda b: (order.get(b.sloth_id, len(order)), b.sloth_id))

"""Every KPI of one window, computed in the database; Python only divides and converts totals.

Aggregation (sums, counts, distinct users) runs as SQL over rollups and the raw rows at
the window's edges (``covered_until_hour`` given) or over raw rows only (``None``); both
paths give identical figures. Python receives a few dozen aggregated numbers per window
and turns them into ratios and reporting-currency amounts with exact ``Decimal`` maths.

Currency conversion uses one set of rates for the whole report (each currency's latest
rate with ``valid_from`` before the current window's end), so a comparison between two
windows shows business change, not exchange-rate movement ("constant currency").
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import Connection

from ._statement import StatementCache
from .currency import Converter, exchange_rates
from .families import ContentQuery, EngagementQuery, ReportPlan, RevenueQuery, UsersQuery
from .models import BiMetrics
from .window import Window


class KpiEngine:
    """Computes ``BiMetrics`` for several windows on one connection, in one statement.

    Each window's figures come from its five KPI families (``families``); the engine only
    lets them plan on one shared ``ReportPlan``, runs the statement (built once per shape,
    ``statements``) and hands each family the rows to read. ``edge_hours=False`` counts the
    partial days of distinct users the earlier way (``_layout.Plan``): for benchmarks.
    """

    def __init__(
        self,
        conn: Connection,
        *,
        covered_until_hour: int | None,
        default_fee_rate: Decimal,
        statements: StatementCache | None = None,
        edge_hours: bool = True,
    ) -> None:
        self._conn = conn
        self._edge_hours = edge_hours
        self._covered = covered_until_hour
        self._fee_rate = default_fee_rate
        self._statements = statements if statements is not None else StatementCache()

    def metrics(self, windows: list[Window], platform: str | None, convert: Converter) -> list[BiMetrics]:
        plan = ReportPlan(self._covered, platform, self._edge_hours)
        queries = [
            (
                RevenueQuery(w, convert, self._fee_rate),
                UsersQuery(w),
                ContentQuery(w),
                EngagementQuery(w),
            )
            for w in windows
        ]
        for family in (q for per_window in queries for q in per_window):
            family.plan(plan)
        rows = plan.run(self._conn, self._statements)
        return [
            BiMetrics(revenue=r.read(rows), users=u.read(rows), content=c.read(rows), engagement=e.read(rows))
            for r, u, c, e in queries
        ]


__all__ = ["Converter", "KpiEngine", "exchange_rates"]

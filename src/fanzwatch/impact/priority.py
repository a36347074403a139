"""Money-driven priority: an incident costing money is P0, whatever its alerts' severity.

Two signals, judged on the last ``priority_window_minutes`` of an open incident:

- **revenue below its band**: a revenue series (platform × stream × currency) took in less
  than the lower edge of its forecast interval over the window (some revenue was expected);
- **payment success below its SLO**: on a platform with at least ``min_payment_attempts``
  attempts in the window, the processor fails payments at the SLO's fast-burn rate (14.4× the
  budget ``1 − objective``, the tier the burn-rate alerts page on) and more than the budget
  even at the low end of the failure ratio's 95 % Wilson interval: one failure in a few
  hundred attempts is noise, not an outage.

Priority is only ever raised (P0 is the top), never lowered by this: when the money comes
back the incident keeps its priority, and a person decides.
"""

from __future__ import annotations

import math

from .pricing import IncidentImpact

FAST_BURN = 14.4
"""The SRE workbook's page-now tier: 2 % of a 30-day budget in an hour."""


def wilson_lower(failures: float, attempts: float, z: float = 1.96) -> float:
    """Lower edge of the Wilson score interval of a failure ratio."""
    if attempts <= 0:
        return 0.0
    p = failures / attempts
    centre = p + z * z / (2 * attempts)
    margin = z * math.sqrt(p * (1 - p) / attempts + z * z / (4 * attempts * attempts))
    return max(0.0, (centre - margin) / (1 + z * z / attempts))


def money_reasons(
    impact: IncidentImpact, *, payment_success_objective: float, min_attempts: int, window_minutes: int
) -> tuple[str, ...]:
    """Why the incident costs money now (empty: no money effect seen)."""
    reasons: list[str] = []
    for s in impact.revenue.streams:
        if s.below_band:
            minutes = max(1.0, min(s.minutes, window_minutes))
            reasons.append(
                f"revenue on {s.platform} ({s.stream}, {s.currency}) {s.recent.actual / minutes:.2f}/min over the "
                f"last {minutes:g} min, below its expected band ({s.recent.lower / minutes:.2f}–"
                f"{s.recent.upper / minutes:.2f}/min, expected {s.recent.expected / minutes:.2f}/min)"
            )
    if impact.payments is not None:
        budget = 1.0 - payment_success_objective
        for platform in sorted(impact.payments.recent_attempts):
            attempts = impact.payments.recent_attempts[platform]
            failed = impact.payments.recent_failed.get(platform, 0.0)
            if attempts < min_attempts or attempts <= 0:
                continue
            ratio = failed / attempts
            # A burn, not a point estimate: failures at the fast-burn tier the SLO alerts page on, and
            # more than the budget even at the low end of their 95 % interval (a failure or two is noise).
            if ratio >= FAST_BURN * budget and wilson_lower(failed, attempts) > budget:
                reasons.append(
                    f"payment success on {platform} {1 - ratio:.1%} over the last {window_minutes} min "
                    f"({attempts:.0f} attempts): the checkout SLO's budget ({payment_success_objective:.1%}) "
                    f"burning {ratio / budget:.0f}× too fast"
                )
    return tuple(reasons)

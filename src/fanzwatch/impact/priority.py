"""Money-driven priority: an incident costing money is P0, whatever its alerts' severity.

Two signals, judged on the last ``priority_window_minutes`` of an open incident:

- **revenue below its band**: a revenue series (platform × stream × currency) took in less
  than the lower edge of its forecast interval over the window (some revenue was expected);
- **payment success below its SLO**: on a platform with at least ``min_payment_attempts``
  attempts in the window, the share the processor did not fail is below the checkout SLO's
  objective.

Priority is only ever raised (P0 is the top), never lowered by this: when the money comes
back the incident keeps its priority, and a person decides.
"""

from __future__ import annotations

from .pricing import IncidentImpact


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
        for platform in sorted(impact.payments.recent_attempts):
            attempts = impact.payments.recent_attempts[platform]
            success = impact.payments.recent_success(platform)
            if success is not None and attempts >= min_attempts and success < payment_success_objective:
                reasons.append(
                    f"payment success on {platform} {success:.1%} over the last {window_minutes} min "
                    f"({attempts:.0f} attempts), below the checkout SLO's {payment_success_objective:.1%}"
                )
    return tuple(reasons)

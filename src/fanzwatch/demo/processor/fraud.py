"""The processor's fraud check: a small, deterministic risk score.

Rules (scores add up, capped at 1):

- the test card ``tok_riskLevelHighest`` scores 0.95, ``tok_riskLevelElevated`` 0.6
  (the same test tokens Stripe documents, so simulated traffic can ask for an outcome);
- an amount above ``large_amount_minor`` adds 0.5;
- more than ``velocity_limit`` checks for one payer within ``velocity_window_seconds``
  adds 0.4.

0.8 and above is rejected, 0.5 and above goes to review (the platform charges it and
records the review), anything lower is approved.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field

from .models import FraudCheckRequest, FraudCheckResult, FraudDecision

REJECT_AT = 0.8
REVIEW_AT = 0.5
CARD_RISK = {"tok_riskLevelHighest": 0.95, "tok_riskLevelElevated": 0.6}


@dataclass
class FraudScorer:
    """Scores payments; keeps a bounded per-payer history for the velocity rule.

    >>> scorer = FraudScorer(clock=lambda: 0.0)
    >>> scorer.check(FraudCheckRequest(amount_minor=500, currency="USD", card_token="tok_visa",
    ...     customer_ref="fan-1", payment_type="tip")).decision
    <FraudDecision.APPROVE: 'approve'>
    """

    clock: Callable[[], float]
    large_amount_minor: int = 50_000
    velocity_limit: int = 20
    velocity_window_seconds: float = 60.0
    max_tracked_payers: int = 10_000
    _history: OrderedDict[str, deque[float]] = field(default_factory=OrderedDict)

    def check(self, request: FraudCheckRequest) -> FraudCheckResult:
        score = 0.0
        reasons: list[str] = []
        card = CARD_RISK.get(request.card_token)
        if card is not None:
            score += card
            reasons.append("card_risk")
        if request.amount_minor > self.large_amount_minor:
            score += 0.5
            reasons.append("large_amount")
        if self._too_fast(request.customer_ref):
            score += 0.4
            reasons.append("velocity")
        score = min(score, 1.0)
        if score >= REJECT_AT:
            decision = FraudDecision.REJECT
        elif score >= REVIEW_AT:
            decision = FraudDecision.REVIEW
        else:
            decision = FraudDecision.APPROVE
        return FraudCheckResult(risk_score=round(score, 4), decision=decision, reasons=tuple(reasons))

    def _too_fast(self, payer: str) -> bool:
        now = self.clock()
        seen = self._history.pop(payer, None) or deque()
        while seen and now - seen[0] > self.velocity_window_seconds:
            seen.popleft()
        seen.append(now)
        while len(seen) > self.velocity_limit + 1:  # more than that is never needed to decide
            seen.popleft()
        self._history[payer] = seen  # most recent payers at the end
        while len(self._history) > self.max_tracked_payers:
            self._history.popitem(last=False)
        return len(seen) > self.velocity_limit

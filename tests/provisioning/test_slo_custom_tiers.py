"""An SLO that chooses its own burn-rate tiers gets them everywhere: its alerts, the
inhibition of slower tiers by faster ones, the correlation twins, and FanzDash's judgement."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from fanzwatch.core import Severity
from fanzwatch.provisioning.definitions.routing import inhibit_rules
from fanzwatch.provisioning.definitions.slos import SLOS
from fanzwatch.provisioning.slo import DEFAULT_TIERS, SLO, BurnRateTier, ratio_sli
from fanzwatch.provisioning.slo_rules import slo_rule_group
from fanzwatch.server.correlation import correlation_rules
from fanzwatch.server.dash import Series
from fanzwatch.server.dash.slo_status import slo_statuses

# Listed slowest first on purpose: the order a definition writes them in does not matter.
TIERS = (
    BurnRateTier("ticket", "PayoutBudgetTicket", 2.0, "1d", "2h", Severity.WARNING, timedelta(minutes=30)),
    BurnRateTier("page", "PayoutBudgetPage", 10.0, "2h", "5m", Severity.CRITICAL, timedelta(minutes=1)),
)
_HOLD = timedelta(minutes=5)
CUSTOM = SLO(
    name="payout-custom",
    service="payments",
    sli=ratio_sli("fanz_creator_payouts_total", good='status="on_time"'),
    objective=0.99,
    description="payouts on time, with tiers of its own",
    tiers=TIERS,
)


def _inhibition(rule: object) -> tuple[str, str]:
    d = rule.to_dict()  # type: ignore[attr-defined]
    return d["source_matchers"][0], d["target_matchers"][0]


def test_its_alerts_are_its_tiers() -> None:
    alerts = [r.name for r in slo_rule_group(CUSTOM).rules if hasattr(r, "severity")]
    assert alerts == ["PayoutBudgetTicket", "PayoutBudgetPage"]


def test_its_faster_tier_inhibits_its_slower_one_and_the_default_tiers_stay_once() -> None:
    rules = [_inhibition(r) for r in inhibit_rules((*SLOS, CUSTOM))]
    assert ('alertname="PayoutBudgetPage"', 'alertname=~"PayoutBudgetTicket"') in rules
    assert ('alertname="PayoutBudgetTicket"', 'alertname=~""') not in rules  # the slowest mutes nothing
    defaults = [r for r in rules if r[0] == f'alertname="{DEFAULT_TIERS[0].alert}"']
    assert len(defaults) == 1, rules  # the built-in SLOs share one set of default-tier rules
    # Without the custom SLO, nothing of its tiers.
    assert not [r for r in map(_inhibition, inhibit_rules(SLOS)) if "PayoutBudget" in r[0]]


def test_its_ticket_tier_is_no_correlation_twin_of_its_page_but_a_second_page_tier_is() -> None:
    page = {"alertname": "PayoutBudgetPage", "sloth_id": CUSTOM.id, "platform": "fanz-1"}
    ticket = {**page, "alertname": "PayoutBudgetTicket"}
    twins = [e for e in correlation_rules(("fanz-1",), (*SLOS, CUSTOM)) if not e.is_dependency]
    assert not any(t.relates(page, ticket) for t in twins)  # a ticket outlives the page by hours
    two_pages = SLO(
        name="payout-two-pages",
        service="payments",
        sli=CUSTOM.sli,
        objective=0.99,
        description="two paging tiers",
        tiers=(*TIERS, BurnRateTier("page-slow", "PayoutBudgetPageSlow", 5.0, "6h", "30m", Severity.CRITICAL, _HOLD)),
    )
    twins = [e for e in correlation_rules(("fanz-1",), (*SLOS, two_pages)) if not e.is_dependency]
    slower = {**page, "sloth_id": two_pages.id, "alertname": "PayoutBudgetPageSlow"}
    faster = {**slower, "alertname": "PayoutBudgetPage"}
    assert any(t.relates(faster, slower) for t in twins)
    assert not any(t.relates(faster, {**slower, "platform": "fanz-2"}) for t in twins)
    assert not any(t.relates(faster, {**slower, "alertname": "PayoutBudgetTicket"}) for t in twins)
    # Two tickets stay one incident: the performance budgets' fast ticket explains their slow one.
    perf = {"sloth_id": "web-performance-lcp-budget", "platform": "fanz-1", "page_template": "/"}
    defaults = [e for e in correlation_rules(("fanz-1",)) if not e.is_dependency]
    fast, slow = {**perf, "alertname": "PerformanceBudgetBurnFast"}, {**perf, "alertname": "PerformanceBudgetBurnSlow"}
    assert any(t.relates(fast, slow) for t in defaults)
    assert not any(t.relates(fast, {**slow, "page_template": "/feed"}) for t in defaults)
    # Alertmanager still mutes the ticket while a page fires.
    assert ('alertname="PayoutBudgetPage"', 'alertname=~"PayoutBudgetTicket"') in map(
        _inhibition, inhibit_rules((*SLOS, CUSTOM))
    )


class _Prometheus:
    url = "http://prometheus.test"

    def __init__(self, values: dict[str, float]) -> None:
        self.values = values

    async def query_range(self, expr: str, *, start: float, end: float, step: float) -> list[Series]:
        name = expr.partition("{")[0]
        if name not in self.values:
            return []
        labels = {"sloth_id": CUSTOM.id, "sloth_slo": CUSTOM.name, "sloth_service": "payments"}
        if name not in ("slo:error_budget:ratio", "slo:objective:ratio"):
            labels["platform"] = "fanz-1"
        return [Series(labels, [start], [self.values[name]])]


def test_fanzdash_judges_it_by_its_tiers_and_reads_their_windows() -> None:
    # 12 % bad over 2 h and 5 m: 12x a 1 % budget, past its page tier (10x); the default
    # fast tier (14.4x) would call it fine.
    prom = _Prometheus(
        {
            "slo:error_budget:ratio": 0.01,
            "slo:objective:ratio": 0.99,
            "slo:period_error_budget_remaining:ratio": 0.5,
            "slo:sli_error:ratio_rate5m": 0.12,
            "slo:sli_error:ratio_rate2h": 0.12,
            "slo:sli_error:ratio_rate1d": 0.005,
        }
    )
    tiers = {CUSTOM.id: CUSTOM.tiers}
    (row,) = asyncio.run(slo_statuses(prom, now=1e9, tiers=tiers))  # type: ignore[arg-type]
    assert [t.alert for t in row.would_fire()] == ["PayoutBudgetPage"]
    assert row.status == "fail"
    (default,) = asyncio.run(slo_statuses(prom, now=1e9, tiers={}))  # type: ignore[arg-type]
    assert (default.would_fire(), default.status) == ([], "pass")

"""The SLOs page: the recorded slo:* series of each SLO and platform, read back and shown."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

from fanzwatch.server.dash import DashSources, Series

from .conftest import MakeClient

_CHECKOUT = {"sloth_id": "payments-checkout-success", "sloth_slo": "checkout-success", "sloth_service": "payments"}
_LATENCY = {"sloth_id": "fanz-platform-api-latency", "sloth_slo": "api-latency", "sloth_service": "fanz-platform"}


@dataclass
class ScriptedPrometheus:
    """Answers each recorded SLO series by name with fixed values; anything else is empty."""

    values: dict[str, list[tuple[dict[str, str], float]]]
    url: str = "http://prometheus.test:9090"
    queries: list[str] = field(default_factory=list)

    async def query_range(self, expr: str, *, start: float, end: float, step: float) -> list[Series]:
        self.queries.append(expr)
        name, _, selector = expr.partition("{")
        wanted = dict(re.findall(r'(\w+)="([^"]*)"', selector))
        ts = [start + i * step for i in range(int((end - start) / step) + 1)]
        return [
            Series(labels, ts, [value] * len(ts))
            for labels, value in self.values.get(name, [])
            if all(labels.get(k) == v for k, v in wanted.items())
        ]


def _prometheus() -> ScriptedPrometheus:
    c1 = {**_CHECKOUT, "platform": "fanz-1"}
    c2 = {**_CHECKOUT, "platform": "fanz-2"}
    lat = {**_LATENCY, "platform": "fanz-1"}
    return ScriptedPrometheus(
        {
            "sloth_slo_info": [(_CHECKOUT, 1), (_LATENCY, 1)],
            "slo:objective:ratio": [(_CHECKOUT, 0.995), (_LATENCY, 0.95)],
            "slo:error_budget:ratio": [(_CHECKOUT, 0.005), (_LATENCY, 0.05)],
            # fanz-1 checkout: 20 % failing now, budget overspent; fanz-2 fine; latency within budget.
            "slo:period_error_budget_remaining:ratio": [(c1, -2.0), (c2, 0.8), (lat, 0.9)],
            "slo:period_burn_rate:ratio": [(c1, 3.0), (c2, 0.2), (lat, 0.1)],
            "slo:sli_error:ratio_rate5m": [(c1, 0.2), (c2, 0.001), (lat, 0.01)],
            "slo:sli_error:ratio_rate30m": [(c1, 0.2), (c2, 0.001), (lat, 0.01)],
            "slo:sli_error:ratio_rate1h": [(c1, 0.1), (c2, 0.001), (lat, 0.01)],
            "slo:sli_error:ratio_rate6h": [(c1, 0.02), (c2, 0.001), (lat, 0.01)],
            "slo:sli_error:ratio_rate3d": [(c1, 0.01), (c2, 0.001), (lat, 0.01)],
            "slo:bad_events_value:currency": [({**c1, "currency": "USD"}, 1240.0)],
            "slo:error_budget:currency": [({**c1, "currency": "USD"}, 410.0)],
            "slo:error_budget_remaining:currency": [({**c1, "currency": "USD"}, -830.0)],
        }
    )


def _cells(page: str, slo: str, platform: str) -> dict[str, str]:
    row = re.search(rf'<tr data-slo="{slo}" data-platform="{platform}" data-status="(\w+)">(.*?)</tr>', page, re.S)
    assert row, f"no row for {slo} on {platform}"
    cells = dict(re.findall(r'<td data-cell="([\w-]+)">(.*?)</td>', row.group(2), re.S))
    text = {k: html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", v))).strip() for k, v in cells.items()}
    return {"status": row.group(1), **text}


def test_each_slo_and_platform_shows_sli_budget_money_burn_and_the_tiers_that_would_fire(
    make_client: MakeClient,
) -> None:
    prom = _prometheus()
    page = make_client(DashSources(prometheus=prom)).get("/dash/slos").text
    checkout = _cells(page, "payments-checkout-success", "fanz-1")
    assert checkout == {
        "status": "fail",
        "sli": "98.5%",  # 1 - 3.0 × 0.005
        "remaining": "-200.0%",
        "money": "-830.00 USD of 410.00 USD allowed; 1,240.00 USD failed",
        "burn-5m": "40.00×",
        "burn-30m": "40.00×",
        "burn-1h": "20.00×",
        "burn-6h": "4.00×",
        "burn-3d": "2.00×",
        "firing": "SLOErrorBudgetBurnFast, SLOErrorBudgetBurnSlow",  # 6h burns at 4×, under the medium 6×
    }
    assert _cells(page, "payments-checkout-success", "fanz-2")["status"] == "pass"
    latency = _cells(page, "fanz-platform-api-latency", "fanz-1")
    assert (latency["status"], latency["money"], latency["firing"], latency["burn-1h"]) == (
        "pass",
        "–",
        "none",
        "0.20×",
    )
    # Worst first, and one burn-down chart per SLO from its recorded series.
    assert page.index('data-platform="fanz-1" data-status="fail"') < page.index('data-status="pass"')
    assert 'slo:period_error_budget_remaining:ratio{sloth_id="payments-checkout-success"}' in prom.queries
    assert "payments-checkout-success: error budget left" in page


def test_a_platform_pick_limits_the_rows_and_queries(make_client: MakeClient) -> None:
    prom = _prometheus()
    page = make_client(DashSources(prometheus=prom)).get("/dash/slos?platform=fanz-2").text
    assert re.findall(r'data-platform="([\w-]+)"', page) == ["fanz-2"]
    assert 'slo:sli_error:ratio_rate1h{platform="fanz-2"}' in prom.queries


def test_no_slo_series_yet_says_how_to_get_them(make_client: MakeClient) -> None:
    page = make_client(DashSources(prometheus=ScriptedPrometheus({}))).get("/dash/slos").text
    assert "Prometheus has no SLO series yet (sloth_slo_info)" in page


def test_latency_slos_link_to_example_slow_traces(make_client: MakeClient) -> None:
    page = make_client(DashSources(prometheus=_prometheus())).get("/dash/slos").text
    latency = re.search(r'<tr data-slo="fanz-platform-api-latency" data-platform="fanz-1".*?</tr>', page, re.S)
    checkout = re.search(r'<tr data-slo="payments-checkout-success" data-platform="fanz-1".*?</tr>', page, re.S)
    assert latency and checkout
    links = re.findall(r'<a class="small" href="([^"]+)" data-exemplars>example slow traces</a>', latency.group(0))
    # Requests slower than the SLO's 1 s threshold on the row's platform, slowest first.
    assert [html.unescape(x) for x in links] == [
        "/dash/traces?platform=fanz-1&min_duration=1000ms&order=slowest&range=24h"
    ]
    assert "data-exemplars" not in checkout.group(0)


_LCP = {"sloth_id": "web-performance-lcp-budget", "sloth_slo": "lcp-budget", "sloth_service": "web-performance"}


def _budgets_prometheus() -> ScriptedPrometheus:
    """LCP per template: / fine on fanz-1 and fanz-2; /creators/:id on fanz-1 half poor for an
    hour (the fast perf tier, 2 × 25 %), over its budget for a day (the slow one)."""
    home1 = {**_LCP, "platform": "fanz-1", "page_template": "/"}
    home2 = {**_LCP, "platform": "fanz-2", "page_template": "/"}
    creator1 = {**_LCP, "platform": "fanz-1", "page_template": "/creators/:id"}
    lat = {**_LATENCY, "platform": "fanz-1"}
    ratios = {"5m": 0.6, "30m": 0.6, "1h": 0.55, "2h": 0.5, "6h": 0.4, "1d": 0.3, "3d": 0.1}
    return ScriptedPrometheus(
        {
            "slo:objective:ratio": [(_LCP, 0.75), (_LATENCY, 0.95)],
            "slo:error_budget:ratio": [(_LCP, 0.25), (_LATENCY, 0.05)],
            "slo:period_error_budget_remaining:ratio": [(home1, 0.8), (home2, 0.6), (creator1, -0.2), (lat, 0.9)],
            "slo:period_burn_rate:ratio": [(home1, 0.2), (home2, 0.4), (creator1, 1.2), (lat, 0.1)],
            **{
                f"slo:sli_error:ratio_rate{w}": [(home1, 0.05), (home2, 0.1), (creator1, r), (lat, 0.01)]
                for w, r in ratios.items()
            },
        }
    )


def _budget_cells(page: str, sloth_id: str) -> dict[tuple[str, str], dict[str, str]]:
    """(template, platform) → the cell's status and data-cell texts, from one budget's grid."""
    block = re.search(rf'<article class="panel" data-budget="{sloth_id}".*?</article>', page, re.S)
    assert block, f"no budget grid for {sloth_id}"
    out = {}
    for template, row in re.findall(r'<tr data-template="([^"]+)">(.*?)</tr>', block.group(0), re.S):
        for platform, status, cell in re.findall(
            r'<td class="[\w-]+" data-platform="([\w-]+)" data-status="(\w+)">(.*?)</td>', row, re.S
        ):
            spans = re.findall(r'<(?:span|small) data-cell="([\w-]+)">(.*?)</(?:span|small)>', cell, re.S)
            out[(html.unescape(template), platform)] = {"status": status, **{k: html.unescape(v) for k, v in spans}}
    return out


def test_performance_budgets_are_a_template_by_platform_grid_judged_by_their_own_tiers(
    make_client: MakeClient,
) -> None:
    prom = _budgets_prometheus()
    page = make_client(DashSources(prometheus=prom)).get("/dash/slos").text
    lcp = _budget_cells(page, "web-performance-lcp-budget")
    assert set(lcp) == {("/", "fanz-1"), ("/", "fanz-2"), ("/creators/:id", "fanz-1")}
    assert lcp[("/creators/:id", "fanz-1")] == {
        "status": "fail",  # its 28-day budget is overspent
        "sli": "70.0%",  # 1 - 1.2 × 0.25
        "remaining": "-20.0%",
        "burn-5m": "5m 2.40×",
        "burn-1h": "1h 2.20×",
        "burn-2h": "2h 2.00×",
        "burn-1d": "1d 1.20×",
        "firing": "PerformanceBudgetBurnFast, PerformanceBudgetBurnSlow",
    }
    assert lcp[("/", "fanz-2")]["status"] == "pass" and "firing" not in lcp[("/", "fanz-2")]
    # fanz-2 has no /creators/:id views: the cell says so rather than showing a value.
    assert 'data-platform="fanz-2">no views</td>' in page
    # The API's p95 budget is the api-latency SLO, one row for all API requests.
    assert _budget_cells(page, "fanz-platform-api-latency")[("API requests (all routes)", "fanz-1")]["sli"] == "99.5%"
    # Budget rows stay out of the SLO table, and get no burn-down chart of their own.
    assert 'data-slo="web-performance-lcp-budget"' not in page
    assert 'data-slo="fanz-platform-api-latency" data-platform="fanz-1"' in page
    assert not any(
        "web-performance" in q and "period_error_budget_remaining" in q and "sloth_id=" in q for q in prom.queries
    )

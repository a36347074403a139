"""The incident page (and its JSON) show the error budget the incident consumed: per SLO whose
burn-rate alerts are in it, budget share and money burnt between its start and its end (or now),
read from the recorded SLO series at those two instants."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from fanzwatch.server.dash import DashSources, Series
from fanzwatch.server.dash.incident_budget import incident_budget
from fanzwatch.server.dash.sources import Incident, IncidentDetail

from .conftest import MakeClient
from .fakes import NOW

OPENED = NOW - timedelta(minutes=40)
RESOLVED = NOW - timedelta(minutes=10)
_CHECKOUT = {"sloth_id": "payments-checkout-success", "sloth_slo": "checkout-success", "sloth_service": "payments"}


@dataclass
class TwoInstantPrometheus:
    """Each recorded series by name and labels: its value at the start and at the end of a range."""

    values: dict[str, list[tuple[dict[str, str], float, float]]]
    url: str = "http://prometheus.test:9090"
    asked: list[tuple[str, float, float]] = field(default_factory=list)

    async def query_range(self, expr: str, *, start: float, end: float, step: float) -> list[Series]:
        self.asked.append((expr, start, end))
        name, _, selector = expr.partition("{")
        wanted = dict(re.findall(r'(\w+)="([^"]*)"', selector))
        ts = [start + i * step for i in range(int((end - start) / step) + 1)]
        assert ts[-1] == end, (start, end, step)
        return [
            Series(labels, ts, [before] + [after] * (len(ts) - 1))
            for labels, before, after in self.values.get(name, [])
            if all(labels.get(k) == v for k, v in wanted.items())
        ]


def _prometheus() -> TwoInstantPrometheus:
    c1 = {**_CHECKOUT, "platform": "fanz-1"}
    c2 = {**_CHECKOUT, "platform": "fanz-2"}
    return TwoInstantPrometheus(
        {
            # fanz-1 went from 80 % of its budget left to 45 %: 35 % consumed; fanz-2 untouched.
            "slo:period_error_budget_remaining:ratio": [
                ({**c1, "sloth_window": "month"}, 0.80, 0.45),
                ({**c2, "sloth_window": "month"}, 0.90, 0.90),
            ],
            "slo:bad_events_value:currency": [
                ({**c1, "currency": "USD"}, 1000.0, 1412.5),
                ({**c1, "currency": "EUR"}, 20.0, 20.0),
                ({**c2, "currency": "USD"}, 5.0, 5.0),
            ],
        }
    )


def _detail(*alerts: Mapping[str, object], resolved: datetime | None = RESOLVED) -> IncidentDetail:
    return IncidentDetail(
        incident=Incident(
            id="7",
            title="Checkout failing",
            priority="P0",
            status="resolved" if resolved else "triggered",
            opened_at=OPENED,
            resolved_at=resolved,
        ),
        summary="",
        runbook_url=None,
        acknowledged_at=None,
        resolved_by=None,
        reopen_count=0,
        labels={},
        platforms=("fanz-1",),
        alerts=list(alerts),
        timeline=[],
        notifications=[],
        remediation=[],
    )


def _alert(name: str, **labels: str) -> dict[str, object]:
    return {
        "alertname": name,
        "labels": {"alertname": name, **labels},
        "annotations": {},
        "priority": "P0",
        "status": "resolved",
        "starts_at": OPENED,
        "ends_at": RESOLVED,
        "fired_count": 1,
    }


@dataclass
class OneIncident:
    detail_: IncidentDetail | None
    statuses: tuple[str, ...] = ("triggered", "acknowledged", "resolving", "resolved")
    open_statuses: tuple[str, ...] = ("triggered", "acknowledged", "resolving")

    async def detail(self, incident_id: int) -> IncidentDetail | None:
        return self.detail_ if incident_id == 7 else None


BURNING = (
    _alert("SLOErrorBudgetBurnFast", **_CHECKOUT, platform="fanz-1"),
    _alert("SLOErrorBudgetBurnMedium", **_CHECKOUT, platform="fanz-1"),  # the same SLO: one row
    _alert("PaymentFailureRate", platform="fanz-1"),  # not an SLO alert
)


def test_the_page_and_its_json_show_budget_and_money_burnt_between_start_and_end(make_client: MakeClient) -> None:
    prom = _prometheus()
    client = make_client(DashSources(prometheus=prom, incidents=OneIncident(_detail(*BURNING))))  # type: ignore[arg-type]
    page = client.get("/dash/incidents/7").text
    row = re.search(r'<tr data-slo="payments-checkout-success" data-platform="fanz-1">(.*?)</tr>', page, re.S)
    assert row, page
    cells = dict(re.findall(r'<td data-cell="(\w+)">(.*?)</td>', row.group(1), re.S))
    assert cells == {"budget": "35.0%", "money": "0.00 EUR, 412.50 USD"}
    assert page.count("<tr data-slo=") == 1  # fanz-2 has no alert in this incident
    # Both instants are the incident's start and end, in whole seconds.
    assert {(s, e) for _, s, e in prom.asked} == {(OPENED.timestamp(), RESOLVED.timestamp())}

    answer = client.get("/dash/incidents/7/budget")
    assert answer.status_code == 200
    assert answer.json() == {
        "incident_id": "7",
        "start": OPENED.isoformat(),
        "end": RESOLVED.isoformat(),
        "ongoing": False,
        "slos": [
            {
                "sloth_id": "payments-checkout-success",
                "slo": "checkout-success",
                "platform": "fanz-1",
                "budget_consumed_ratio": 0.35,
                "money_burnt": [{"currency": "EUR", "amount": 0.0}, {"currency": "USD", "amount": 412.5}],
                "period_restarted": False,
            }
        ],
    }
    assert client.get("/dash/incidents/8/budget").status_code == 404


def test_an_open_incident_counts_until_now_and_one_without_slo_alerts_shows_no_section(
    make_client: MakeClient,
) -> None:
    prom = _prometheus()
    open_one = make_client(DashSources(prometheus=prom, incidents=OneIncident(_detail(*BURNING, resolved=None))))  # type: ignore[arg-type]
    assert "Error budget consumed" in open_one.get("/dash/incidents/7").text
    assert {e for _, _, e in prom.asked} == {NOW.timestamp()}  # the dash clock's now
    assert open_one.get("/dash/incidents/7/budget").json()["ongoing"] is True

    plain = make_client(DashSources(prometheus=prom, incidents=OneIncident(_detail(BURNING[2]))))  # type: ignore[arg-type]
    assert "Error budget consumed" not in plain.get("/dash/incidents/7").text
    assert plain.get("/dash/incidents/7/budget").json()["slos"] == []


def test_without_prometheus_the_section_says_what_to_configure(make_client: MakeClient) -> None:
    client = make_client(DashSources(incidents=OneIncident(_detail(*BURNING))))  # type: ignore[arg-type]
    page = client.get("/dash/incidents/7").text
    assert "FANZWATCH_DASH_PROMETHEUS_URL" in page
    answer = client.get("/dash/incidents/7/budget")
    assert answer.status_code == 503 and "FANZWATCH_DASH_PROMETHEUS_URL" in answer.json()["detail"]


async def test_a_calendar_month_that_began_during_the_incident_counts_from_its_start() -> None:
    prom = TwoInstantPrometheus(
        {
            # Last month ended with 10 % left; the new month has spent 5 % and $30 so far.
            "slo:period_error_budget_remaining:ratio": [({**_CHECKOUT, "sloth_window": "month"}, 0.10, 0.95)],
            "slo:bad_events_value:currency": [({**_CHECKOUT, "currency": "USD"}, 5000.0, 30.0)],
        }
    )
    start = datetime(2026, 2, 28, 23, 30, tzinfo=UTC).timestamp()
    alerts = [_alert("SLOErrorBudgetBurnFast", **_CHECKOUT)]
    (spent,) = await incident_budget(prom, alerts, start=start, end=start + 3600)
    assert (round(spent.budget or 0, 6), spent.money, spent.restarted) == (0.05, (("USD", 30.0),), True)


async def test_a_rolling_window_forgetting_old_failures_is_not_counted_as_negative() -> None:
    prom = TwoInstantPrometheus(
        {
            "slo:period_error_budget_remaining:ratio": [({**_CHECKOUT, "sloth_window": "30d"}, 0.50, 0.52)],
            "slo:bad_events_value:currency": [({**_CHECKOUT, "currency": "USD"}, 900.0, 880.0)],
        }
    )
    (spent,) = await incident_budget(prom, [_alert("SLOErrorBudgetBurnFast", **_CHECKOUT)], start=1e9, end=1e9 + 60)
    assert (spent.budget, spent.money, spent.restarted) == (0.0, (("USD", 0.0),), False)

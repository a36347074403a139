"""Series the SLO rules record (``fanzwatch.provisioning.definitions.slos`` defines the SLOs).

The ratio and metadata names are Sloth's (https://sloth.dev), with its ``sloth_*`` labels,
so Sloth's Grafana dashboards read them unchanged; the ``:currency`` series are
fanzwatch's own, pricing the error budget of money SLOs. Every series carries the SLO's
grouping labels too (``platform`` for the built-in SLOs, and ``page_template`` for the
performance budgets), so one SLO yields one series per platform (and page template).
"""

from __future__ import annotations

from ._spec import PLATFORM, Label, MetricKind, MetricSpec, Source
from .business import CURRENCY

SLI_WINDOWS = ("5m", "30m", "1h", "2h", "6h", "1d", "3d")
"""Windows of ``slo:sli_error:ratio_rate<W>``: the burn-rate alerts' and Sloth's."""
PERIODS = ("7d", "28d", "30d", "month")
"""SLO periods: rolling 7, 28 and 30 days, and the calendar month so far."""

SLOTH_ID = Label("sloth_id", "the SLO's id: <service>-<slo name>")
SLOTH_SLO = Label("sloth_slo", "the SLO's name")
SLOTH_SERVICE = Label("sloth_service", "the service the SLO belongs to")
SLOTH_WINDOW = Label("sloth_window", "the window of an SLI error ratio (5m ... 3d, or the period)")
PAGE_TEMPLATE = Label(
    "page_template",
    "the RUM page template (bounded by rum.max_page_templates): only on the performance budgets' series",
)
_IDS = (SLOTH_ID, SLOTH_SLO, SLOTH_SERVICE)
_GROUPED = (*_IDS, PLATFORM, PAGE_TEMPLATE)
_MONEY = (*_IDS, PLATFORM, CURRENCY)


def _gauge(name: str, unit: str, help_: str, labels: tuple[Label, ...]) -> MetricSpec:
    return MetricSpec(name=name, kind=MetricKind.GAUGE, unit=unit, help=help_, labels=labels, source=Source.PROMETHEUS)


def sli_error_name(window: str) -> str:
    """``slo:sli_error:ratio_rate5m``; the calendar month's is ``slo:sli_error:ratio_rate_month``."""
    return "slo:sli_error:ratio_rate_month" if window == "month" else f"slo:sli_error:ratio_rate{window}"


SLI_ERROR = tuple(
    _gauge(
        sli_error_name(w),
        "ratio",
        f"Share (0-1) of bad events of each SLO over {'the calendar month so far' if w == 'month' else w}.",
        (*_GROUPED, SLOTH_WINDOW),
    )
    for w in (*SLI_WINDOWS, *PERIODS)
)
OBJECTIVE = _gauge("slo:objective:ratio", "ratio", "Each SLO's objective (0-1), e.g. 0.999.", _IDS)
ERROR_BUDGET = _gauge("slo:error_budget:ratio", "ratio", "Each SLO's error budget: 1 - objective.", _IDS)
TIME_PERIOD = _gauge(
    "slo:time_period:days",
    "days",
    "Each SLO's period in days (for a calendar month: the days of the current month).",
    _IDS,
)
CURRENT_BURN_RATE = _gauge(
    "slo:current_burn_rate:ratio",
    "ratio",
    "How fast each SLO burns its budget now (5-minute error ratio / budget; 1 spends it exactly in one period).",
    _GROUPED,
)
PERIOD_BURN_RATE = _gauge(
    "slo:period_burn_rate:ratio", "ratio", "Each SLO's error ratio over its whole period / its budget.", _GROUPED
)
PERIOD_BUDGET_REMAINING = _gauge(
    "slo:period_error_budget_remaining:ratio",
    "ratio",
    "Share of each SLO's error budget left in its period (1 untouched, 0 spent, negative overspent).",
    _GROUPED,
)
INFO = _gauge(
    "sloth_slo_info",
    "info",
    "1 per SLO, its version, mode, spec and objective as labels (Sloth's info series).",
    (
        *_IDS,
        Label("sloth_version", "the generator: fanzwatch"),
        Label("sloth_mode", "how the rules were made: python or openslo"),
        Label("sloth_spec", "the definition format"),
        Label("sloth_objective", "the objective in percent, e.g. 99.9"),
    ),
)
BAD_EVENTS_VALUE = _gauge(
    "slo:bad_events_value:currency",
    "currency units",
    "Value of each money SLO's bad events in its period (e.g. failed checkouts), per currency; never summed "
    "across currencies.",
    _MONEY,
)
ERROR_BUDGET_VALUE = _gauge(
    "slo:error_budget:currency",
    "currency units",
    "Value of the bad events each money SLO's budget allows in its period, per currency.",
    _MONEY,
)
ERROR_BUDGET_REMAINING_VALUE = _gauge(
    "slo:error_budget_remaining:currency",
    "currency units",
    "Budget value left in each money SLO's period (negative when overspent), per currency.",
    _MONEY,
)

METRICS = (
    *SLI_ERROR,
    OBJECTIVE,
    ERROR_BUDGET,
    TIME_PERIOD,
    CURRENT_BURN_RATE,
    PERIOD_BURN_RATE,
    PERIOD_BUDGET_REMAINING,
    INFO,
    BAD_EVENTS_VALUE,
    ERROR_BUDGET_VALUE,
    ERROR_BUDGET_REMAINING_VALUE,
)

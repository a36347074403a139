"""Service level objectives as typed definitions: SLI, objective, period, alert tiers, price.

An :class:`SLO` says which events are bad (an :class:`SLI`: two PromQL rate queries with a
``{{.window}}`` placeholder, as Sloth and OpenSLO write them), what share must be good
(``objective``), over which :class:`SloPeriod`, which burn-rate tiers alert, and, for a
money SLO, what one bad event costs (:class:`SloValue`). ``slo_rules.slo_rule_group``
renders it to Sloth-compatible recording rules and multi-window burn-rate alerts.

>>> sli = ratio_sli("fanz_payment_transactions_total", bad='status="failed"')
>>> slo = SLO(name="checkout-success", service="payments", sli=sli, objective=0.995,
...           period=SloPeriod.CALENDAR_MONTH, description="Checkouts the processor completes")
>>> slo.id
'payments-checkout-success'

The helpers :func:`ratio_sli` and :func:`latency_sli` write the queries from catalog
metrics, grouped ``by (platform)`` by default: one SLO is then one SLI, one budget and one
alert per platform (the "per-platform expansion"), without listing the platforms.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from typing import Literal

from ..core import CATALOG, ConfigError, MetricKind, Severity
from ..core.catalog.slo import SLI_WINDOWS

WINDOW = "{{.window}}"
"""The placeholder an SLI query's range is written as (Sloth's and OpenSLO's convention)."""
_NAME = re.compile(r"^[a-z0-9][a-z0-9-]*[a-z0-9]$")
_WINDOW_RE = re.compile(r"{{ *\.window *}}")
_WINDOW_SECONDS_RE = re.compile(r"{{ *\.window_seconds *}}")
WINDOW_SECONDS = "{{.window_seconds}}"
"""fanzwatch's second placeholder: the window's length in seconds, for SLIs that count
samples (``count_over_time``) rather than rate counters (see :func:`probe_sli`)."""
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


class SloPeriod(StrEnum):
    """The period an error budget is counted over."""

    ROLLING_7D = "7d"
    ROLLING_28D = "28d"
    ROLLING_30D = "30d"
    CALENDAR_MONTH = "month"

    @property
    def rolling(self) -> bool:
        return self is not SloPeriod.CALENDAR_MONTH

    @property
    def days(self) -> int:
        """Length in days (31 for the calendar month, its longest)."""
        return 31 if self is SloPeriod.CALENDAR_MONTH else int(self.value.removesuffix("d"))


def _has_window(query: str) -> bool:
    return bool(_WINDOW_RE.search(query))


def window_seconds(window: str) -> int:
    """``"5m"`` → 300: the length of one Prometheus duration of a single unit."""
    match = re.fullmatch(r"(\d+)([smhdw])", window)
    if match is None:
        raise ConfigError(f"{window!r} is not a window like 5m, 1h or 30d", setting="window")
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2)]


def with_window(query: str, window: str) -> str:
    """``query`` with every ``{{.window}}`` replaced by ``window`` (a Prometheus duration)
    and every ``{{.window_seconds}}`` by its length in seconds."""
    if _WINDOW_SECONDS_RE.search(query):
        query = _WINDOW_SECONDS_RE.sub(str(window_seconds(window)), query)
    return _WINDOW_RE.sub(window, query)


@dataclass(frozen=True, slots=True)
class SLI:
    """Bad events and all events, each a PromQL query of events per second over ``{{.window}}``.

    ``errors`` and ``total`` must aggregate to the same labels (the SLO's ``group_by``):
    the error ratio is ``errors / total``. A query without bad events yields ``0``, not a
    gap, because the rules read ``errors or 0 * total``.
    """

    errors: str
    total: str
    slow_after: float | None = None
    """A latency SLI's threshold in seconds (FanzDash links to example traces slower than it)."""
    route: str | None = None
    """The ``http_route`` a latency SLI is limited to, if any."""

    def __post_init__(self) -> None:
        for name, query in (("errors", self.errors), ("total", self.total)):
            if not _has_window(query):
                raise ConfigError(f"SLI {name} query {query!r} has no {WINDOW} placeholder for its range", setting=name)


def _rate(series: str, matchers: str, by: tuple[str, ...]) -> str:
    selector = f"{series}{{{matchers}}}" if matchers else series
    return f"sum by ({', '.join(by)}) (rate({selector}[{WINDOW}]))"


def _and(*matchers: str) -> str:
    return ", ".join(m for m in matchers if m)


def ratio_sli(
    series: str,
    *,
    bad: str | None = None,
    good: str | None = None,
    where: str = "",
    by: tuple[str, ...] = ("platform",),
) -> SLI:
    """An SLI over one counter: events matching ``bad`` (or not matching ``good``) are bad.

    ``bad``/``good``/``where`` are label matchers (``'status="failed"'``); ``where`` limits
    every event counted.
    """
    if (bad is None) == (good is None):
        raise ConfigError(f"{series}: give exactly one of bad= and good=", setting="sli")
    total = _rate(series, where, by)
    if bad is not None:
        return SLI(errors=_rate(series, _and(where, bad), by), total=total)
    assert good is not None
    return SLI(errors=f"{total}\n-\n{_rate(series, _and(where, good), by)}", total=total)


def go_float(value: float) -> str:
    """A bucket bound as prometheus_client writes it in ``le`` (``1.0``, ``0.25``, ``+Inf``)."""
    return "+Inf" if value == float("inf") else repr(float(value))


def latency_sli(histogram: str, *, threshold: float, where: str = "", by: tuple[str, ...] = ("platform",)) -> SLI:
    """Events slower than ``threshold`` seconds are bad; ``threshold`` must be one of the histogram's buckets.

    The events are the ``+Inf`` bucket's, not ``_count``'s (equal in a whole histogram): a
    series with a count but no buckets (the demo's history keeps buckets for its busiest
    route only) would otherwise count every one of its events as slow."""
    spec = CATALOG[histogram]
    if spec.kind is not MetricKind.HISTOGRAM or spec.buckets is None:
        raise ConfigError(f"{histogram} is not a histogram in the catalog", setting="sli")
    if threshold not in spec.buckets:
        raise ConfigError(
            f"{histogram}: threshold {threshold:g} s is not a bucket boundary "
            f"({', '.join(f'{b:g}' for b in spec.buckets)}); a latency SLI counts whole buckets",
            setting="threshold",
        )
    total = _rate(f"{histogram}_bucket", _and(where, 'le="+Inf"'), by)
    good = _rate(f"{histogram}_bucket", _and(where, f'le="{go_float(threshold)}"'), by)
    route = re.search(r'http_route="([^"]*)"', where)
    return SLI(errors=f"{total}\n-\n{good}", total=total, slow_after=threshold, route=route[1] if route else None)


def probe_sli(probe: str, *, by: tuple[str, ...] = ("platform",)) -> SLI:
    """An SLI over blackbox probe results: a failed probe of kind ``probe`` is a bad event.

    blackbox_exporter reports a gauge (``probe_success`` 1 or 0 per probe), not counters:
    the events are its samples, counted with ``count_over_time`` and divided by the window's
    seconds so they are events per second like every other SLI (the minimum-traffic guard
    and the period totals then count probes).
    """
    sel = f'{CATALOG["probe_success"].name}{{probe="{probe}"}}[{WINDOW}]'
    group = ", ".join(by)
    return SLI(
        errors=f"(sum by ({group}) (count_over_time({sel}) - sum_over_time({sel})) / {WINDOW_SECONDS})",
        total=f"(sum by ({group}) (count_over_time({sel})) / {WINDOW_SECONDS})",
    )


def flag_sli(series: str, *, by: tuple[str, ...] = ("platform",)) -> SLI:
    """An SLI over a recorded 0/1 series that is 1 while things are bad (e.g. a quorum of
    journey locations failing): each sample (each rule evaluation) is an event, so the SLI
    is the share of the time things were good. Counted like :func:`probe_sli`, per second."""
    sel = f"{series}[{WINDOW}]"
    group = ", ".join(by)
    return SLI(
        errors=f"(sum by ({group}) (sum_over_time({sel})) / {WINDOW_SECONDS})",
        total=f"(sum by ({group}) (count_over_time({sel})) / {WINDOW_SECONDS})",
    )


@dataclass(frozen=True, slots=True)
class SloValue:
    """What a money SLO's bad events cost.

    ``price`` is an instant query of the value of **one** bad event, by ``labels``
    (e.g. the average completed payment per platform and currency); ``errors`` and
    ``total`` are the SLI's queries grouped by the same ``labels``, so money is never
    summed across currencies. ``amount``, when the service counts what its bad events
    were worth (``fanz_payment_failed_value_total``), is that value per second over
    ``{{.window}}`` by ``labels``: the money lost is then counted, not priced, and ``price``
    only prices the budget (the events the objective allows to fail).
    """

    price: str
    errors: str
    total: str
    labels: tuple[str, ...] = ("platform", "currency")
    amount: str | None = None

    def __post_init__(self) -> None:
        if _has_window(self.price):
            raise ConfigError("an SLO value's price is an instant query; write its range out", setting="price")
        SLI(self.errors, self.total)
        if self.amount is not None and not _has_window(self.amount):
            raise ConfigError(
                f"SLO value amount query {self.amount!r} has no {WINDOW} placeholder for its range", setting="amount"
            )


def money_value(
    series: str,
    *,
    price: str,
    bad: str,
    where: str = "",
    labels: tuple[str, ...] = ("platform", "currency"),
    bad_value: str | None = None,
) -> SloValue:
    """The :class:`SloValue` of a :func:`ratio_sli` over ``series`` with bad events ``bad``.

    ``bad_value`` is a counter of what the bad events were worth (its ``where`` events only),
    when the service keeps one: the money lost is counted from it instead of priced.
    """
    return SloValue(
        price=price,
        errors=_rate(series, _and(where, bad), labels),
        total=_rate(series, where, labels),
        labels=labels,
        amount=None if bad_value is None else _rate(bad_value, where, labels),
    )


@dataclass(frozen=True, slots=True)
class BurnRateTier:
    """One multi-window burn-rate alert: fire while both windows burn faster than ``factor``.

    ``factor`` × the budget ratio is the error ratio that would spend the whole budget in
    ``period / factor``; the short window makes the alert resolve soon after the burn stops.
    """

    name: str
    alert: str
    factor: float
    long: str
    short: str
    severity: Severity
    hold: timedelta

    @property
    def pages(self) -> bool:
        """A paging tier (critical); a slower one is a ticket: it keeps firing for up to its
        short window after the burn stops, so it is nobody's twin and no outage's symptom
        (it would hold that incident open for hours) and opens a ticket of its own."""
        return self.severity is Severity.CRITICAL

    def __post_init__(self) -> None:
        for w in (self.long, self.short):
            if w not in SLI_WINDOWS:
                raise ConfigError(
                    f"burn-rate tier {self.name}: window {w} is not one of {', '.join(SLI_WINDOWS)}", setting="tiers"
                )
        if self.factor <= 0:
            raise ConfigError(f"burn-rate tier {self.name}: factor must be positive", setting="tiers")


DEFAULT_TIERS = (
    BurnRateTier("fast", "SLOErrorBudgetBurnFast", 14.4, "1h", "5m", Severity.CRITICAL, timedelta(minutes=2)),
    BurnRateTier("medium", "SLOErrorBudgetBurnMedium", 6.0, "6h", "30m", Severity.CRITICAL, timedelta(minutes=15)),
    BurnRateTier("slow", "SLOErrorBudgetBurnSlow", 1.0, "3d", "6h", Severity.WARNING, timedelta(hours=1)),
)
"""The SRE workbook's tiers for a 30-day budget: page at 2 % of it spent in an hour or 5 %
in six hours, open a ticket at 10 % in three days. Faster tiers inhibit slower ones."""


@dataclass(frozen=True, slots=True)
class SLO:
    """One service level objective (see the module docstring).

    ``min_events`` is the minimum-traffic guard: no tier fires unless the SLI counted at
    least that many events in the tier's long window, so three requests in a quiet hour,
    one of them failing, do not page anyone. ``mode`` says where the definition came from
    (``sloth_mode`` on ``sloth_slo_info``).
    """

    name: str
    service: str
    sli: SLI
    objective: float
    description: str
    period: SloPeriod = SloPeriod.ROLLING_30D
    group_by: tuple[str, ...] = ("platform",)
    tiers: tuple[BurnRateTier, ...] = DEFAULT_TIERS
    min_events: int = 20
    value: SloValue | None = None
    labels: dict[str, str] = field(default_factory=dict)
    mode: Literal["python", "openslo"] = "python"

    def __post_init__(self) -> None:
        for what, text in (("name", self.name), ("service", self.service)):
            if not _NAME.match(text):
                raise ConfigError(f"SLO {what} {text!r}: lowercase letters, digits and -", setting=what)
        if not 0 < self.objective < 1:
            raise ConfigError(
                f"SLO {self.name}: objective {self.objective} must be a ratio between 0 and 1 (0.999 for 99.9 %)",
                setting="objective",
            )
        if self.min_events < 0:
            raise ConfigError(f"SLO {self.name}: min_events must not be negative", setting="min_events")
        if len({t.name for t in self.tiers}) != len(self.tiers) or len({t.alert for t in self.tiers}) != len(
            self.tiers
        ):
            raise ConfigError(f"SLO {self.name}: burn-rate tiers need distinct names and alerts", setting="tiers")
        for tier in self.tiers:
            if tier.factor * self.error_budget >= 1:
                raise ConfigError(
                    f"SLO {self.name}: burn-rate tier {tier.name} fires above an error ratio of "
                    f"{tier.factor:g} x {self.error_budget:g} = {tier.factor * self.error_budget:.3g}, which no "
                    "ratio reaches; give this SLO tiers with smaller factors",
                    setting="tiers",
                )
        if self.value is not None and not set(self.group_by) <= set(self.value.labels):
            raise ConfigError(
                f"SLO {self.name}: the value's labels {self.value.labels} must include group_by {self.group_by}",
                setting="value",
            )

    @property
    def id(self) -> str:
        """Sloth's id: ``<service>-<name>``."""
        return f"{self.service}-{self.name}"

    @property
    def error_budget(self) -> float:
        """``1 - objective``, rounded so ``0.999`` gives ``0.001`` rather than ``0.0010000000000000009``."""
        return round(1 - self.objective, 12)

    def windows(self) -> tuple[str, ...]:
        """The SLI windows to record: Sloth's set, in its order."""
        used = {w for t in self.tiers for w in (t.long, t.short)} | set(SLI_WINDOWS)
        return tuple(w for w in SLI_WINDOWS if w in used)

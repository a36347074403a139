"""What the engine watches: the guide's six signals per platform, as PromQL from the catalog.

Every metric and label name in these expressions is looked up in ``fanzwatch.core.CATALOG``
(a typo fails at build time, not silently in Prometheus). Expressions are raw PromQL
over the SDK's series, not recording rules, so the engine works against any Prometheus
that scrapes FANZ services. Each returns one series per ``platform``.

>>> [s.key for s in build_watchlist(rate_window_seconds=300)][:2]
['request_rate', 'latency_p95']
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from ...core import CATALOG, MetricKind, UnknownMetricError
from ...core.catalog import anomaly as anomaly_catalog
from ...core.catalog import business, http

AlertSide = Literal["both", "high", "low"]


@dataclass(frozen=True, slots=True)
class WatchedSignal:
    """One signal of the watch-list.

    ``alert_on`` says which side of the expected range is a problem: a 5xx ratio below
    its usual range is good news, a payment success ratio above it too.
    """

    key: str
    title: str
    unit: str
    expr: str
    alert_on: AlertSide
    guide_name: str
    series: tuple[str, ...]


def _series(name: str) -> str:
    """A sample name, checked against the catalog."""
    if not CATALOG.knows_series(name):
        raise UnknownMetricError(name)
    return name


def _matcher(family: str, label: str, value: str) -> str:
    """``label="value"``, checked against the family's labels and allowed values."""
    spec = CATALOG[family]
    labels = {lab.name: lab for lab in spec.labels}
    if label not in labels:
        raise ValueError(f"{family} has no label {label!r}")
    allowed = labels[label].values
    if allowed is not None and value not in allowed:
        raise ValueError(f"{family}{{{label}}} never takes the value {value!r}")
    return f'{label}="{value}"'


def _ratio(selected: str, total: str) -> str:
    """``selected / total`` per platform, 0 (not absent) when nothing was selected."""
    return f"(({selected}) or (0 * ({total}))) / ({total})"


def build_watchlist(*, rate_window_seconds: int) -> tuple[WatchedSignal, ...]:
    """The six signals, with ``rate()`` over ``rate_window_seconds``."""
    w = f"[{int(rate_window_seconds)}s]"
    dur = http.HTTP_SERVER_REQUEST_DURATION.name
    count = _series(f"{dur}_count")
    bucket = _series(f"{dur}_bucket")
    regs = _series(f"{business.USER_REGISTRATIONS.name}_total")
    pays = _series(f"{business.PAYMENT_TRANSACTIONS.name}_total")
    users = _series(business.ACTIVE_USERS.name)
    five_xx = _matcher(dur, "status_class", "5xx")
    completed = _matcher(business.PAYMENT_TRANSACTIONS.name, "status", "completed")
    for family in (dur, business.USER_REGISTRATIONS.name, business.PAYMENT_TRANSACTIONS.name, users):
        if "platform" not in CATALOG[family].label_names:
            raise ValueError(f"{family} cannot be split by platform")
    requests = f"sum by (platform) (rate({count}{w}))"
    payments = f"sum by (platform) (rate({pays}{w}))"
    signals = (
        WatchedSignal("request_rate", "Request rate", "requests/s", requests, "both", "http_request_rate", (count,)),
        WatchedSignal(
            "latency_p95",
            "p95 latency",
            "seconds",
            f"histogram_quantile(0.95, sum by (platform, le) (rate({bucket}{w})))",
            "high",
            "response_time_p95",
            (bucket,),
        ),
        WatchedSignal(
            "error_ratio",
            "5xx ratio",
            "ratio",
            _ratio(f"sum by (platform) (rate({count}{{{five_xx}}}{w}))", requests),
            "high",
            "error_rate",
            (count,),
        ),
        WatchedSignal(
            "registrations",
            "Registrations",
            "registrations/s",
            f"sum by (platform) (rate({regs}{w}))",
            "both",
            "user_registrations",
            (regs,),
        ),
        WatchedSignal(
            "payment_success_ratio",
            "Payment success ratio",
            "ratio",
            _ratio(f"sum by (platform) (rate({pays}{{{completed}}}{w}))", payments),
            "low",
            "payment_success_rate",
            (pays,),
        ),
        WatchedSignal(
            "active_users", "Active users", "users", f"sum by (platform) ({users})", "both", "active_users", (users,)
        ),
    )
    keys = tuple(s.key for s in signals)
    if keys != anomaly_catalog.WATCHED_SIGNALS:
        raise ValueError(f"watch-list {keys} differs from the catalog's {anomaly_catalog.WATCHED_SIGNALS}")
    return signals


def catalog_expr(name: str, *, rate_window_seconds: int) -> tuple[str, str]:
    """PromQL and unit for any catalog metric, for insights and forecasts beyond the six.

    Gauges are read as they are, counters as ``rate()``, histograms as their p95 per
    platform (or overall). Every series keeps its labels, so ``match`` can pick one.
    """
    spec = CATALOG.family_of(name) if CATALOG.knows_series(name) else CATALOG[name]
    w = f"[{int(rate_window_seconds)}s]"
    if spec.kind is MetricKind.GAUGE:
        return spec.name, spec.unit
    if spec.kind is MetricKind.COUNTER:
        return f"rate({spec.name}_total{w})", f"{spec.unit}/s"
    by = "platform, le" if "platform" in spec.label_names else "le"
    return f"histogram_quantile(0.95, sum by ({by}) (rate({spec.name}_bucket{w})))", spec.unit


def signal_by_key(signals: tuple[WatchedSignal, ...]) -> Mapping[str, WatchedSignal]:
    return {s.key: s for s in signals}

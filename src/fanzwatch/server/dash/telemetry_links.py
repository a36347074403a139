"""Links into the trace and log pages from elsewhere in FanzDash: an incident's platforms
and window, an SLO's or a latency panel's example slow traces (the exemplar link: a
search by route and minimum duration, as Prometheus exemplars are not stored)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, timedelta
from urllib.parse import urlencode

from ...provisioning.dashboard import Unit
from .panels import PanelView

MARGIN = timedelta(minutes=15)
LATENCY_SERIES = "http_server_request_duration_seconds"  # the histogram and its recorded quantiles
MAX_WINDOW = timedelta(days=8)


def _query(values: Iterable[tuple[str, str]]) -> str:
    kept = [(k, v) for k, v in values if v]
    return "?" + urlencode(kept) if kept else ""


def window(start: datetime, end: datetime) -> list[tuple[str, str]]:
    """``from``/``to`` (unix seconds) around ``[start, end]``, widened by a margin, at most 8 days."""
    first, last = start - MARGIN, end + MARGIN
    if last - first > MAX_WINDOW:
        first = last - MAX_WINDOW
    return [("from", str(int(first.timestamp()))), ("to", str(int(last.timestamp())))]


def traces_url(prefix: str, *, platforms: Iterable[str] = (), **values: str | None) -> str:
    pairs = [("platform", p) for p in platforms] + [(k, v) for k, v in values.items() if v is not None]
    return f"{prefix}/traces{_query(pairs)}"


def logs_url(prefix: str, *, platforms: Iterable[str] = (), **values: str | None) -> str:
    pairs = [("platform", p) for p in platforms] + [(k, v) for k, v in values.items() if v is not None]
    return f"{prefix}/logs{_query(pairs)}"


def incident_links(prefix: str, platforms: list[str], opened: datetime, closed: datetime) -> dict[str, str]:
    """The traces, failed traces and logs of an incident's platforms over its window."""
    span = dict(window(opened, closed))
    return {
        "traces": traces_url(prefix, platforms=platforms, order="slowest", **span),
        "errors": traces_url(prefix, platforms=platforms, status="error", **span),
        "logs": logs_url(prefix, platforms=platforms, severity="warn", **span),
    }


def exemplar_url(
    prefix: str, *, min_seconds: float, route: str | None = None, platform: str | None = None, range_: str = "24h"
) -> str:
    """Example traces slower than ``min_seconds`` (slowest first)."""
    return traces_url(
        prefix,
        platforms=[platform] if platform else [],
        route=route,
        min_duration=f"{min_seconds * 1000:g}ms",
        order="slowest",
        range=range_,
    )


def panel_exemplars(prefix: str, view: PanelView, *, platform: str | None, range_: str) -> str | None:
    """A request-latency panel's example traces: slower than the highest latest value it
    shows (its p95 now), over the page's range; ``None`` for any other panel."""
    if view.panel.unit is not Unit.SECONDS or not any(LATENCY_SERIES in q for q in view.queries):
        return None
    lasts = [s.get("last") for s in (view.chart or {}).get("series", [])]
    numbers = [float(v) for v in lasts if isinstance(v, int | float) and v > 0]
    if not numbers:
        return None
    route = next((m[1] for q in view.queries if (m := re.search(r'http_route="([^"$]*)"', q))), None)
    return exemplar_url(prefix, min_seconds=round(max(numbers), 3), route=route, platform=platform, range_=range_)

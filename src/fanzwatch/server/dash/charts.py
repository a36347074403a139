"""Chart payloads: what the page embeds for the browser code to draw with uPlot.

A payload is plain JSON: one shared x axis (unix seconds) and aligned series (``None``
where a series has no point), plus how to draw them. The same payload feeds a table
fallback, so the numbers are on the page without JavaScript too.

- ``range``: the x axis the browser draws, the range the page selected, never the
  data's span (one point in the last 24 h is drawn on a 24 h axis);
- ``isolated``: per series, the points with no neighbour to join, drawn as dots;
- beyond ``LEGEND_LIMIT`` series, the top ones (by mean) are kept and the rest become
  one "others" line: their sum for additive units, their maximum otherwise.

>>> chart("Revenue", "currency", [("USD", [0, 60], [1.0, 2.0])])["series"][0]["label"]
'USD'
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from itertools import pairwise
from typing import Any

from ...provisioning.dashboard import Panel
from .sources import Series

_PLACEHOLDER = re.compile(r"\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}")
LEGEND_LIMIT = 8
ADDITIVE_UNITS = frozenset(
    {"currency", "money", "count", "requests_per_second", "requests/s", "events_per_second", "bytes", "short", ""}
)

Line = tuple[str, Sequence[float], Sequence[float | None]]


def legend(template: str, labels: Mapping[str, str]) -> str:
    """Grafana-style ``{{label}}`` legend; without a template, the labels themselves."""
    if template:
        text = _PLACEHOLDER.sub(lambda m: labels.get(m.group(1), ""), template)
        return " ".join(text.split()) or "value"
    shown = {k: v for k, v in labels.items() if k != "__name__"}
    return ", ".join(f"{k}={v}" for k, v in sorted(shown.items())) or "value"


def chart(
    title: str,
    unit: str,
    lines: Iterable[Line],
    *,
    kind: str = "line",
    thresholds: Sequence[Mapping[str, Any]] = (),
    y_min: float | None = None,
    y_max: float | None = None,
    band: tuple[int, int] | None = None,
    marks: int | None = None,
    dashed: Sequence[int] = (),
    x_range: tuple[float, float] | None = None,
    legend_limit: int = LEGEND_LIMIT,
) -> dict[str, Any]:
    """Align ``lines`` (label, timestamps, values) on one x axis (see ``_breaks`` for gaps).

    ``band`` = (lower index, upper index) fills between two series; ``marks`` is the
    index of a series drawn as points only (anomalies); ``dashed`` series are drawn
    dashed (last week, forecasts). ``x_range`` (start, end) is the axis drawn; without
    it (history, forecasts) the data's span. Charts with a band or marks have roles per
    index, so only plain charts fold their extra series into "others".
    """
    items = list(lines)
    if band is None and marks is None:
        items, dashed = _fold_others(items, unit, legend_limit, dashed)
    breaks = [_breaks(ts) for _, ts, _ in items]
    xs = sorted({float(t) for _, ts, _ in items for t in ts} | {t for b in breaks for t in b})
    index = {t: i for i, t in enumerate(xs)}
    series: list[dict[str, Any]] = []
    for i, (label, ts, vs) in enumerate(items):
        aligned: list[float | None] = [None] * len(xs)
        for t, v in zip(ts, vs, strict=True):
            aligned[index[float(t)]] = v
        numbers = [v for v in aligned if v is not None]
        series.append(
            {
                "label": label,
                "values": aligned,
                "breaks": sorted(index[t] for t in breaks[i]),
                "dashed": i in dashed,
                "isolated": isolated(aligned, set(index[t] for t in breaks[i])),
                "last": numbers[-1] if numbers else None,
                "min": min(numbers) if numbers else None,
                "max": max(numbers) if numbers else None,
            }
        )
    return {
        "title": title,
        "unit": unit,
        "kind": kind,
        "x": xs,
        "range": list(x_range) if x_range is not None else None,
        "series": series,
        "thresholds": list(thresholds),
        "min": y_min,
        "max": y_max,
        "band": list(band) if band else None,
        "marks": marks,
        "points": sum(1 for s in series for v in s["values"] if v is not None),
    }


def isolated(values: Sequence[float | None], breaks: set[int]) -> list[int]:
    """Indices of the points with no neighbour to join a line to: drawn as dots.

    Neighbours are the previous and next points of the same series, unless a break
    (a real gap, see ``_breaks``) lies between.
    """
    seq: list[int | None] = []  # point indices in order, None for a break
    for i, v in enumerate(values):
        if i in breaks:
            seq.append(None)
        elif v is not None:
            seq.append(i)
    out: list[int] = []
    for k, point in enumerate(seq):
        if point is None:
            continue
        before = seq[k - 1] if k > 0 else None
        after = seq[k + 1] if k + 1 < len(seq) else None
        if before is None and after is None:
            out.append(point)
    return out


def _mean(values: Sequence[float | None]) -> float:
    numbers = [v for v in values if v is not None]
    return sum(numbers) / len(numbers) if numbers else float("-inf")


def _fold_others(items: list[Line], unit: str, limit: int, dashed: Sequence[int]) -> tuple[list[Line], list[int]]:
    """At most ``limit`` lines: the top ``limit - 1`` by mean, then one "others" line."""
    if len(items) <= limit:
        return items, list(dashed)
    order = sorted(range(len(items)), key=lambda i: (-_mean(items[i][2]), items[i][0]))
    keep = sorted(order[: limit - 1])
    rest = [items[i] for i in order[limit - 1 :]]
    by_time: dict[float, list[float]] = {}
    for _, ts, vs in rest:
        for t, v in zip(ts, vs, strict=True):
            if v is not None:
                by_time.setdefault(float(t), []).append(v)
    additive = unit in ADDITIVE_UNITS
    xs = sorted(by_time)
    values: list[float | None] = [sum(by_time[t]) if additive else max(by_time[t]) for t in xs]
    label = f"others ({len(rest)} series, {'sum' if additive else 'highest'})"
    kept = [items[i] for i in keep]
    new_dashed = [n for n, i in enumerate(keep) if i in dashed]
    return [*kept, (label, xs, values)], new_dashed


def _breaks(ts: Sequence[float]) -> list[float]:
    """Where a series has no points for a while: one x just after each gap's start.

    ``values`` hold ``None`` both where a series has no point at an x another series
    has (the browser draws across those) and at these breaks (where it lifts the pen),
    so a line never bridges hours without data, and series with different steps
    (history and forecast) still draw as lines.
    """
    if len(ts) < 3:
        return []
    steps = sorted(float(b) - float(a) for a, b in pairwise(ts))
    usual = steps[len(steps) // 2]
    return [float(a) + usual for a, b in pairwise(ts) if float(b) - float(a) > 2.5 * usual]


def panel_thresholds(panel: Panel) -> list[dict[str, Any]]:
    if panel.thresholds is None:
        return []
    return [{"value": s.value, "color": s.color.value} for s in panel.thresholds.steps]


def series_lines(answer: Sequence[tuple[str, Series]]) -> list[Line]:
    """(legend template, series) pairs as chart lines, labels expanded."""
    return [(legend(tpl, s.labels), s.timestamps, s.values) for tpl, s in answer]


def stat_color(panel: Panel, value: float | None) -> str:
    """The threshold colour of a stat's value ("" without thresholds or value)."""
    if panel.thresholds is None or value is None:
        return ""
    color = panel.thresholds.base.value
    for step in panel.thresholds.steps:
        if value >= step.value:
            color = step.color.value
    return color

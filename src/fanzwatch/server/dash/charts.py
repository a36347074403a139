"""Chart payloads: what the page embeds for the browser code to draw with uPlot.

A payload is plain JSON: one shared x axis (unix seconds) and aligned series (``None``
where a series has no point), plus how to draw them. The same payload feeds a table
fallback, so the numbers are on the page without JavaScript too.

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
MAX_SERIES = 40

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
) -> dict[str, Any]:
    """Align ``lines`` (label, timestamps, values) on one x axis (see ``_breaks`` for gaps).

    ``band`` = (lower index, upper index) fills between two series; ``marks`` is the
    index of a series drawn as points only (anomalies); ``dashed`` series are drawn
    dashed (last week, forecasts).
    """
    items = list(lines)[:MAX_SERIES]
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
        "series": series,
        "thresholds": list(thresholds),
        "min": y_min,
        "max": y_max,
        "band": list(band) if band else None,
        "marks": marks,
        "points": sum(1 for s in series for v in s["values"] if v is not None),
    }


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

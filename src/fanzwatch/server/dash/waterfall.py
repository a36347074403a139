"""A trace's spans laid out as a waterfall: rows in tree order, bars by start and duration.

Children follow their parent, oldest first; a span whose parent is not in the trace (not
received, or from a service that does not export) is shown at the top level, marked.
Bars are percentages of the trace's extent, so the template needs no arithmetic.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from ...telemetry.reader import Span

MIN_BAR_PCT = 0.3  # an instant span stays visible


@dataclass(frozen=True, slots=True)
class WaterfallRow:
    span: Span
    depth: int
    offset_ns: int
    left_pct: float
    width_pct: float
    orphan: bool
    children: int


@dataclass(frozen=True, slots=True)
class Waterfall:
    rows: list[WaterfallRow]
    start_ns: int
    duration_ns: int
    services: list[str]
    errors: int

    @property
    def root(self) -> Span | None:
        return self.rows[0].span if self.rows else None

    def ticks(self, n: int = 4) -> list[tuple[float, int]]:
        """``(left %, offset ns)`` of ``n + 1`` evenly spaced time marks."""
        return [(100 * i / n, self.duration_ns * i // n) for i in range(n + 1)]


def waterfall(spans: list[Span]) -> Waterfall:
    if not spans:
        return Waterfall([], 0, 0, [], 0)
    start = min(s.start_ns for s in spans)
    end = max(s.start_ns + s.duration_ns for s in spans)
    total = max(1, end - start)
    ids = {s.span_id for s in spans}
    children: dict[str, list[Span]] = defaultdict(list)
    roots: list[Span] = []
    for s in spans:
        if s.parent_span_id and s.parent_span_id in ids and s.parent_span_id != s.span_id:
            children[s.parent_span_id].append(s)
        else:
            roots.append(s)
    for group in children.values():
        group.sort(key=lambda s: (s.start_ns, s.span_id))
    roots.sort(key=lambda s: (bool(s.parent_span_id), s.start_ns, s.span_id))
    rows: list[WaterfallRow] = []
    seen: set[str] = set()

    def visit(top: Span) -> None:
        # Depth first without recursion: a chain of thousands of spans must not overflow the stack.
        stack = [(top, 0)]
        while stack:
            span, depth = stack.pop()
            if span.span_id in seen:  # a duplicated span id: shown once
                continue
            seen.add(span.span_id)
            offset = span.start_ns - start
            left = min(100 * offset / total, 100 - MIN_BAR_PCT)
            width = min(max(MIN_BAR_PCT, 100 * span.duration_ns / total), 100 - left)
            kids = children.get(span.span_id, [])
            rows.append(
                WaterfallRow(
                    span=span,
                    depth=depth,
                    offset_ns=offset,
                    left_pct=round(left, 3),
                    width_pct=round(width, 3),
                    orphan=depth == 0 and bool(span.parent_span_id),
                    children=len(kids),
                )
            )
            stack.extend((child, depth + 1) for child in reversed(kids))

    for root in roots:
        visit(root)
    for s in spans:  # parent cycles never reach a root: show them anyway
        if s.span_id not in seen:
            visit(s)
    services = sorted({s.service for s in spans})
    return Waterfall(rows, start, total, services, sum(1 for s in spans if s.status == "Error"))

"""Check PromQL expressions against the metric catalog by parsing them.

Every vector selector in an expression (inside functions, aggregations, subqueries,
binary operations, ``offset`` or not) must name a series the catalog knows; every label
it matches on must be one of that metric's labels (or a target label Prometheus adds);
and an exact-match value must be one of the label's allowed values when the catalog
lists them. Parsing uses ``promql-parser`` (Python bindings of GreptimeDB's Rust PromQL
parser), so a name inside a string or a comment can neither hide nor fake a metric.

>>> check_expression('rate(http_requests_total[5m])')
["unknown metric 'http_requests_total' (not in the fanzwatch catalog; see docs/metrics.md)"]
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import promql_parser as pp

from ..core import CATALOG, Catalog

TARGET_LABELS = frozenset({"job", "instance"})
"""Labels Prometheus attaches to every scraped series, whatever the catalog says."""

_SIMPLE_ALTERNATION = re.compile(r"^[A-Za-z0-9_.-]+(\|[A-Za-z0-9_.-]+)*$")


@dataclass(frozen=True, slots=True)
class Selector:
    """A vector selector as parsed: the series name and its label matchers."""

    name: str | None
    matchers: tuple[tuple[str, str, str], ...]  # (label, op, value)


_OPS = (("=", pp.MatchOp.Equal), ("!=", pp.MatchOp.NotEqual), ("=~", pp.MatchOp.Re), ("!~", pp.MatchOp.NotRe))


def _op(op: pp.MatchOp) -> str:
    # MatchOp values compare equal but are not hashable, hence the scan.
    return next(symbol for symbol, candidate in _OPS if op == candidate)


def selectors(expr: str) -> list[Selector]:
    """Every vector selector in ``expr``, in order. Raises ``ValueError`` if it does not parse."""
    found: list[Selector] = []

    def visit(node: pp.Expr) -> bool:
        if isinstance(node, pp.VectorSelector):
            matchers = tuple((m.name, _op(m.op), m.value) for m in node.matchers.matchers)
            name = node.name
            if name is None:
                name = next((v for (label, op, v) in matchers if label == "__name__" and op == "="), None)
            found.append(Selector(name, tuple(m for m in matchers if m[0] != "__name__")))
        return True

    pp.walk(pp.parse(expr), visit)
    return found


def metric_names(expr: str) -> set[str]:
    """The series names an expression reads."""
    return {s.name for s in selectors(expr) if s.name is not None}


def check_expression(expr: str, catalog: Catalog = CATALOG) -> list[str]:
    """Problems with ``expr`` as messages; an empty list means it is sound."""
    try:
        found = selectors(expr)
    except ValueError as exc:
        return [f"does not parse: {exc}"]
    problems: list[str] = []
    for sel in found:
        if sel.name is None:
            problems.append("a selector without an exact metric name; name the metric")
            continue
        if not catalog.knows_series(sel.name):
            problems.append(f"unknown metric {sel.name!r} (not in the fanzwatch catalog; see docs/metrics.md)")
            continue
        spec = catalog.family_of(sel.name)
        labels = {label.name: label for label in spec.labels}
        allowed = set(labels) | TARGET_LABELS | ({"le"} if sel.name.endswith("_bucket") else set())
        for label, op, value in sel.matchers:
            if label not in allowed:
                problems.append(f"{sel.name}: no label {label!r} (labels: {', '.join(sorted(allowed))})")
                continue
            known = labels[label].values if label in labels else None
            if known is None:
                continue
            if op in {"=", "!="}:
                values = [value]
            elif _SIMPLE_ALTERNATION.match(value):
                values = value.split("|")
            else:
                continue
            bad = [v for v in values if v not in known]
            if bad:
                problems.append(
                    f"{sel.name}: {label} has no value {', '.join(map(repr, bad))} (values: {', '.join(known)})"
                )
    return problems

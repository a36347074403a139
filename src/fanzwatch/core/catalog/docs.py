"""Render the catalog as Markdown (``python -m fanzwatch.core.catalog.docs > docs/metrics.md``)."""

from __future__ import annotations

from . import CATALOG, Catalog, MetricKind


def _exposed(name: str, kind: MetricKind) -> str:
    return f"{name}_total" if kind is MetricKind.COUNTER else name


def render_metrics_doc(catalog: Catalog = CATALOG) -> str:
    """The whole docs/metrics.md text; a test keeps the committed file equal to it."""
    out = [
        "# Metrics",
        "",
        "Generated from the catalog in `src/fanzwatch/core/catalog/` by `make docs`; do not edit.",
        "Every name a rule, dashboard, watch-list or doc uses comes from this catalog.",
        "",
        "## From the guide to fanzwatch",
        "",
        "| guide name | fanzwatch name | what changed |",
        "|---|---|---|",
    ]
    for spec in sorted(catalog.values(), key=lambda s: s.guide_name or "~"):
        if spec.guide_name:
            out.append(f"| `{spec.guide_name}` | `{_exposed(spec.name, spec.kind)}` | {spec.guide_note or 'renamed'} |")
    out += ["", "## All metrics", ""]
    for spec in sorted(catalog.values(), key=lambda s: s.name):
        out += [
            f"### `{_exposed(spec.name, spec.kind)}`",
            "",
            f"{spec.help}",
            "",
            f"- type: {spec.kind.value}; unit: {spec.unit}; emitted by: {spec.source.value}",
        ]
        if spec.buckets:
            out.append(f"- buckets: {', '.join(f'{b:g}' for b in spec.buckets)}")
        if spec.labels:
            out.append("- labels:")
            for label in spec.labels:
                values = f" ({', '.join(f'`{v}`' for v in label.values)})" if label.values else ""
                out.append(f"  - `{label.name}`: {label.doc}{values}")
        out.append("")
    return "\n".join(out)


if __name__ == "__main__":
    print(render_metrics_doc(), end="")

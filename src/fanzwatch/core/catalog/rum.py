"""Metrics of the rum feature (filled in by that feature's work)."""

from __future__ import annotations

from ._spec import MetricSpec

METRICS: tuple[MetricSpec, ...] = ()

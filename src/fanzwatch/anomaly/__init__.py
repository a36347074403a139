"""Anomaly detection: streaming detectors, the NAB scorer and runner, the engine over Prometheus.

The detectors (``fanzwatch.anomaly.detectors``) are pure functions of a series' past; the
NAB package (``fanzwatch.anomaly.nab``) scores them on the Numenta Anomaly Benchmark.
"""

from __future__ import annotations

from .detectors import DEFAULT_DETECTOR, DETECTORS, Detector, Score, make_detector

__all__ = ["DEFAULT_DETECTOR", "DETECTORS", "Detector", "Score", "make_detector"]

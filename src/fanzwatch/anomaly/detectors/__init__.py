"""Streaming anomaly detectors: pure, causal, one configuration for every series.

Build one detector per series with ``make_detector(name)``; feed it points in time order
with ``update`` (streaming) or ``score_batch`` (history replay, benchmarks). Both give the
same numbers.

>>> d = make_detector("seasonal")
>>> d.update(0.0, 1.0).score
0.0
"""

from __future__ import annotations

from collections.abc import Callable

from ._base import BatchScores, Detector, Progress, Score, StreamingDetector, severity_for
from ._cusum import SeasonalCusumDetector, SeasonalCusumParams
from ._gaussian import WindowedGaussianDetector, WindowedGaussianDetectorParams
from ._seasonal import SeasonalDetector, SeasonalDetectorParams
from ._seed import SeedDetector, SeedDetectorParams

DEFAULT_DETECTOR = "seasonal-cusum"

_FACTORIES: dict[str, Callable[[], Detector]] = {
    SeasonalCusumDetector.name: SeasonalCusumDetector,
    SeasonalDetector.name: SeasonalDetector,
    WindowedGaussianDetector.name: WindowedGaussianDetector,
    SeedDetector.name: SeedDetector,
}

DETECTORS: tuple[str, ...] = tuple(_FACTORIES)
"""Names accepted by ``make_detector``; the first is the default."""


class UnknownDetectorError(ValueError):
    """``make_detector`` was given a name that is not in ``DETECTORS``."""

    def __init__(self, name: str) -> None:
        super().__init__(f"unknown detector {name!r}; choose one of: {', '.join(DETECTORS)}")
        self.name = name


def make_detector(name: str = DEFAULT_DETECTOR) -> Detector:
    """A fresh detector (empty state) of the given name, with its one configuration."""
    try:
        factory = _FACTORIES[name]
    except KeyError:
        raise UnknownDetectorError(name) from None
    return factory()


__all__ = [
    "DEFAULT_DETECTOR",
    "DETECTORS",
    "BatchScores",
    "Detector",
    "Progress",
    "Score",
    "SeasonalCusumDetector",
    "SeasonalCusumParams",
    "SeasonalDetector",
    "SeasonalDetectorParams",
    "SeedDetector",
    "SeedDetectorParams",
    "StreamingDetector",
    "UnknownDetectorError",
    "WindowedGaussianDetector",
    "WindowedGaussianDetectorParams",
    "make_detector",
    "severity_for",
]

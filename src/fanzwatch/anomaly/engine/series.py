"""One watched series: its detector, its episode state and a bounded window of recent points.

``absorb`` runs in a worker thread (detector replay is CPU work); readers on the event
loop only ever take ``window`` as one reference, which ``absorb`` replaces whole, so a
reader never sees half an update.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ..detectors import BatchScores, Detector, Progress
from ..insights import FloatArray
from .episodes import Episode, EpisodeTracker
from .watchlist import WatchedSignal

SeriesKey = tuple[str, str]
"""(signal key, platform)"""


@dataclass(frozen=True, slots=True)
class Window:
    """The last points of a series with their scores and expected range (immutable)."""

    timestamps: FloatArray
    values: FloatArray
    scores: FloatArray
    lower: FloatArray
    upper: FloatArray
    is_anomaly: npt.NDArray[np.bool_]

    @classmethod
    def empty(cls) -> Window:
        e = np.empty(0)
        return cls(e, e, e, e, e, np.empty(0, dtype=np.bool_))

    def extended(self, batch: BatchScores, capacity: int) -> Window:
        def tail(old: FloatArray, new: FloatArray) -> FloatArray:
            return np.concatenate([old, new])[-capacity:]

        return Window(
            timestamps=tail(self.timestamps, batch.timestamps),
            values=tail(self.values, batch.values),
            scores=tail(self.scores, batch.scores),
            lower=tail(self.lower, batch.lower),
            upper=tail(self.upper, batch.upper),
            is_anomaly=np.concatenate([self.is_anomaly, batch.is_anomaly])[-capacity:],
        )

    def __len__(self) -> int:
        return int(self.timestamps.size)

    def latest(self) -> dict[str, float | bool | None]:
        """The newest point (all None for an empty window)."""
        if not len(self):
            return {"timestamp": None, "value": None, "lower": None, "upper": None, "score": None, "is_anomaly": None}
        return {
            "timestamp": float(self.timestamps[-1]),
            "value": _num(self.values[-1]),
            "lower": _num(self.lower[-1]),
            "upper": _num(self.upper[-1]),
            "score": _num(self.scores[-1]),
            "is_anomaly": bool(self.is_anomaly[-1]),
        }

    def points(self, limit: int) -> list[list[float | bool | None]]:
        """The last ``limit`` points as ``[t, value, lower, upper, score, is_anomaly]`` rows."""
        if limit <= 0:
            return []
        rows = zip(
            self.timestamps[-limit:].tolist(),
            self.values[-limit:].tolist(),
            self.lower[-limit:].tolist(),
            self.upper[-limit:].tolist(),
            self.scores[-limit:].tolist(),
            self.is_anomaly[-limit:].tolist(),
            strict=True,
        )
        return [[t, _num(v), _num(lo), _num(hi), _num(s), bool(a)] for t, v, lo, hi, s, a in rows]


def _num(x: float) -> float | None:
    x = float(x)
    return None if math.isnan(x) else x


class SeriesState:
    """Detector, episodes and recent window of one (signal, platform) series."""

    def __init__(
        self,
        signal: WatchedSignal,
        platform: str,
        detector: Detector,
        *,
        fire_after: int,
        resolve_after: int,
        capacity: int,
    ) -> None:
        self.signal = signal
        self.platform = platform
        self.detector = detector
        self.episodes = EpisodeTracker(
            signal.key, platform, side=signal.alert_on, fire_after=fire_after, resolve_after=resolve_after
        )
        self.capacity = capacity
        self.window = Window.empty()
        self.last_timestamp = -math.inf
        self.last_active = -math.inf
        """Newest point with a finite non-zero value (-inf: never; traffic: is the platform in use?)."""
        self.stale = False

    def progress(self) -> Progress:
        """The detector's history so far and what it needs before it can alarm."""
        return self.detector.progress()

    @property
    def key(self) -> SeriesKey:
        return (self.signal.key, self.platform)

    def absorb(self, timestamps: FloatArray, values: FloatArray) -> list[Episode]:
        """Score new points (older ones are ignored), learn, and return ended episodes."""
        new = timestamps > self.last_timestamp
        if not new.any():
            return []
        ts, vs = timestamps[new], values[new]
        batch = self.detector.score_batch(ts, vs)
        self.window = self.window.extended(batch, self.capacity)
        self.last_timestamp = float(ts[-1])
        busy = np.flatnonzero(np.isfinite(vs) & (vs != 0))
        if busy.size:
            self.last_active = float(ts[busy[-1]])
        self.stale = False
        return self.episodes.observe(batch)


DetectorFactory = Callable[[], Detector]

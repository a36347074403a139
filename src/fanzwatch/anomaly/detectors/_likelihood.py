"""Anomaly likelihood: how improbable the recent level of a raw anomaly score is.

The post-processing Numenta put on top of HTM's raw score (Ahmad et al., 2017): a raw
score in [0, 1] that is often high on a noisy series and rarely high on a clean one says
little by itself; what matters is whether its recent average is unusually high *for this
series*. The short-term average (the last ``short`` raw scores) is compared with the
distribution of those averages over the last ``history`` points, modelled as a normal
with floors on its mean and variance, and the upper tail probability is returned:
1 = nothing unusual, 1e-5 = as high as once in 100,000 points.

O(1) per point: two ring buffers with running sums (recomputed exactly once per lap of
the long buffer, so floating-point drift cannot accumulate).
"""

from __future__ import annotations

import math

_SQRT2 = math.sqrt(2.0)


class AnomalyLikelihood:
    """Streaming tail probability of the short-term mean of a raw score in [0, 1]."""

    __slots__ = (
        "_avg_ring",
        "_avg_sq",
        "_avg_sum",
        "_long_pos",
        "_n_long",
        "_n_short",
        "_raw_ring",
        "_raw_sum",
        "_short_pos",
        "history",
        "min_count",
        "min_mean",
        "min_variance",
        "short",
    )

    def __init__(
        self,
        *,
        short: int = 10,
        history: int = 8640,
        min_count: int = 300,
        min_mean: float = 0.03,
        min_variance: float = 0.0003,
    ) -> None:
        self.short = short
        self.history = history
        self.min_count = min_count
        self.min_mean = min_mean
        self.min_variance = min_variance
        self._raw_ring = [0.0] * short
        self._raw_sum = 0.0
        self._short_pos = 0
        self._n_short = 0
        self._avg_ring = [0.0] * history
        self._avg_sum = 0.0
        self._avg_sq = 0.0
        self._long_pos = 0
        self._n_long = 0

    def update(self, raw: float) -> float:
        """Learn one raw score; return the tail probability of the current short mean (1 early on)."""
        pos = self._short_pos
        self._raw_sum += raw - self._raw_ring[pos]
        self._raw_ring[pos] = raw
        self._short_pos = (pos + 1) % self.short
        if self._n_short < self.short:
            self._n_short += 1
        avg = self._raw_sum / self._n_short  # the mean of what has been seen, early on
        n = self._n_long
        probability = 1.0
        if n >= self.min_count:
            mean = self._avg_sum / n
            variance = self._avg_sq / n - mean * mean
            if mean < self.min_mean:
                mean = self.min_mean
            if variance < self.min_variance:
                variance = self.min_variance
            z = (avg - mean) / math.sqrt(variance)
            if z > 0.0:
                probability = 0.5 * math.erfc(z / _SQRT2)
        # Learn the average after judging it (the current point is not its own baseline).
        pos = self._long_pos
        old = self._avg_ring[pos]
        if n < self.history:
            self._n_long = n + 1
            old = 0.0
        self._avg_ring[pos] = avg
        self._avg_sum += avg - old
        self._avg_sq += avg * avg - old * old
        pos += 1
        if pos == self.history:
            pos = 0
            ring = self._avg_ring
            self._avg_sum = math.fsum(ring)
            self._avg_sq = math.fsum(a * a for a in ring)
        self._long_pos = pos
        return probability

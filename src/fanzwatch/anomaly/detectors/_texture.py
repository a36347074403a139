"""An unprecedented change of a series' texture: its roughness, spread or rhythm, at any level.

A band and a CUSUM of the forecast error see a series leave its level; they do not see it
change *how* it moves while it stays where it was: spikes that come three times as often,
a noisy gauge that turns smooth or flat, a rhythm that starts to oscillate. This rule
watches three scale-free features of the last ``window`` points:

* roughness, ``log(mean |x_t - x_{t-1}| + eps)``;
* spread, ``log(sd + eps)``;
* rhythm, the lag-1 autocorrelation (clipped to [-1, 1]);

each against a reference made of the same feature ``window`` points earlier (so the
reference never overlaps the window it judges), an exponentially weighted mean and variance
with a half-life of ``half_life`` points. The distance is the largest of the three
standardised differences (the variance floored at ``sd_floor``² so a perfectly regular
series does not divide by zero). It **fires** when that distance is at least ``minimum``
and at least ``factor`` times the largest distance seen before (lagged by a window, so a
change is not compared with its own start), once per excursion (re-armed when the distance
falls below half of ``minimum``): *unprecedented* for this series, whatever its noise. A
series whose texture always wanders has large distances in its history and does not fire
on another like them.

``eps`` is a thousandth of the median absolute deviation of the values the detector
warmed up on (the series' own scale), or of their mean absolute deviation when the median one
is 0 (a series that mostly repeats one value: a ratio at 1 on a small platform). Nothing
fires before ``min_reference`` reference points. O(1) per point: running sums over a ring of
``window`` values, recomputed exactly once per lap so they do not drift.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TextureParams:
    """One configuration for every series (windows in points)."""

    window: int = 72
    """6 hours at a 5-minute step. 48 and 144 points gained less on NAB (see the docs)."""
    half_life: float = 2000.0
    min_reference: int = 600
    sd_floor: float = 0.05
    minimum: float = 4.0
    factor: float = 2.0


class TextureChange:
    """Streaming texture features of one series and the unprecedented-change rule."""

    __slots__ = (
        "_armed",
        "_count",
        "_dists",
        "_eps",
        "_feats",
        "_fired",
        "_i",
        "_lam",
        "_max",
        "_mu",
        "_n",
        "_prev",
        "_ring",
        "_s_abs",
        "_s_lag",
        "_s_x",
        "_s_xx",
        "_var",
        "params",
    )

    def __init__(self, eps: float, params: TextureParams | None = None) -> None:
        p = self.params = params or TextureParams()
        w = p.window
        self._eps = max(eps, 1e-12)
        self._lam = 1.0 - 0.5 ** (1.0 / p.half_life)
        self._ring: list[tuple[float, float]] = [(0.0, 0.0)] * w  # (x, x_prev) per slot
        self._feats: list[tuple[float, float, float] | None] = [None] * w
        self._dists = [0.0] * w
        self._fired = [False] * w
        self._i = 0
        self._n = 0
        self._prev = math.nan
        self._s_abs = self._s_x = self._s_xx = self._s_lag = 0.0
        self._mu = [0.0, 0.0, 0.0]
        self._var = [0.0, 0.0, 0.0]
        self._count = 0
        self._max = 0.0
        self._armed = True

    def _resum(self) -> None:
        ring = self._ring
        self._s_abs = sum(abs(x - xp) for x, xp in ring)
        self._s_x = sum(x for x, _ in ring)
        self._s_xx = sum(x * x for x, _ in ring)
        self._s_lag = sum(x * xp for x, xp in ring)

    def update(self, x: float) -> bool:
        """Take the next value; True when the texture has changed as never before."""
        p = self.params
        w = p.window
        prev = self._prev if self._prev == self._prev else x
        self._prev = x
        i = self._i
        old_x, old_p = self._ring[i]
        self._ring[i] = (x, prev)
        self._n += 1
        if self._n > w:
            self._s_abs += abs(x - prev) - abs(old_x - old_p)
            self._s_x += x - old_x
            self._s_xx += x * x - old_x * old_x
            self._s_lag += x * prev - old_x * old_p
        else:
            self._s_abs += abs(x - prev)
            self._s_x += x
            self._s_xx += x * x
            self._s_lag += x * prev
        if i == w - 1:
            self._resum()
        self._i = (i + 1) % w
        lagged, lagged_dist, lagged_fired = self._feats[i], self._dists[i], self._fired[i]
        feats: tuple[float, float, float] | None = None
        if self._n >= w:
            eps = self._eps
            m = self._s_x / w
            v = max(self._s_xx / w - m * m, 0.0)
            cov = self._s_lag / w - m * m
            rho = cov / (v + eps * eps)
            feats = (
                math.log(max(self._s_abs, 0.0) / w + eps),
                math.log(math.sqrt(v) + eps),
                1.0 if rho > 1.0 else -1.0 if rho < -1.0 else rho,
            )
        self._feats[i] = feats
        if lagged is not None:  # the reference learns the features of a window ago
            self._count += 1
            a = max(self._lam, 1.0 / self._count)
            mu, var = self._mu, self._var
            for k in range(3):
                d = lagged[k] - mu[k]
                mu[k] += a * d
                var[k] = (1.0 - a) * (var[k] + a * d * d)
            if not lagged_fired and lagged_dist > self._max:
                self._max = lagged_dist
        dist = 0.0
        if feats is not None and self._count >= p.min_reference:
            floor = p.sd_floor
            dist = max(abs(feats[k] - self._mu[k]) / (math.sqrt(self._var[k]) + floor) for k in range(3))
        fire = False
        if self._armed and dist >= p.minimum and self._max > 0.0 and dist >= p.factor * self._max:
            fire = True
            self._armed = False
        elif dist < 0.5 * p.minimum:
            self._armed = True
        self._dists[i] = dist
        self._fired[i] = fire
        return fire

"""Synthetic platform-like series for detector tests: daily and weekly cycles plus noise."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

DAY = 86400.0
WEEK_START = 1_699_833_600.0  # Monday 2023-11-13 00:00 UTC


@dataclass(frozen=True)
class Incidents:
    """Row index where each injected incident starts."""

    spike: int
    night_drop: int
    level_shift: int


def seasonal_series(
    *, step: float = 300.0, days: int = 28, seed: int = 7
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Request-rate-like series: low at 04:00, peak at 16:00, weekends at 70 %, 3 % noise."""
    rng = np.random.default_rng(seed)
    t = WEEK_START + np.arange(0.0, days * DAY, step)
    hour = (t % DAY) / 3600.0
    daily = 0.55 - 0.45 * np.cos(2 * np.pi * (hour - 4.0) / 24.0)
    weekday = ((t - WEEK_START) // DAY) % 7
    weekly = np.where(weekday >= 5, 0.7, 1.0)
    values = (1000.0 * daily * weekly + 50.0) * (1.0 + 0.03 * rng.standard_normal(len(t)))
    return t, values


def with_incidents(step: float = 300.0) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], Incidents]:
    """The seasonal series with a daytime spike (day 22), a night drop (day 24), a level shift (day 26)."""
    t, v = seasonal_series(step=step)
    per_day = int(DAY // step)
    per_hour = int(3600 // step)
    v = v.copy()
    spike = 22 * per_day + 14 * per_hour
    v[spike : spike + 2] *= 3.0
    drop = 24 * per_day + 3 * per_hour
    v[drop : drop + per_hour] *= 0.3
    shift = 26 * per_day + 10 * per_hour
    v[shift:] *= 0.5
    return t, v, Incidents(spike, drop, shift)

"""Event scoring: did an alarm come while the incident was on, how late, and how much noise.

An incident ``[start, end]`` is *caught* when an alarm falls in ``[start, end + grace]``
(grace 1 hour: an alarm about the recovery of an incident is still about it). Its delay
is the first such alarm minus ``start``. Alarms outside every incident's window are false
alarms, counted once per hour of a series (several alarms within an hour of the last
counted one are one false alarm). Reported: recall, false alarms per series-week, the
median delay of caught incidents, event precision ``caught / (caught + false alarms)``
and event F1, plus alarms per caught incident (1.0 = one episode per incident).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ._generate import WEEK, Incident

GRACE = 3600.0
FALSE_ALARM_DEDUP = 3600.0


@dataclass(frozen=True, slots=True)
class EventScore:
    """The event figures of a detector over a set of series."""

    incidents: int
    caught: int
    false_alarms: int
    series_weeks: float
    delays: tuple[float, ...]
    alarms_in_windows: int

    @property
    def recall(self) -> float:
        return self.caught / self.incidents if self.incidents else math.nan

    @property
    def false_alarms_per_series_week(self) -> float:
        return self.false_alarms / self.series_weeks if self.series_weeks else math.nan

    @property
    def median_delay(self) -> float:
        return float(np.median(self.delays)) if self.delays else math.nan

    @property
    def precision(self) -> float:
        total = self.caught + self.false_alarms
        return self.caught / total if total else math.nan

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r > 0 else 0.0

    @property
    def alarms_per_incident(self) -> float:
        return self.alarms_in_windows / self.caught if self.caught else math.nan

    def line(self) -> str:
        return (
            f"recall {self.recall:.3f} ({self.caught}/{self.incidents}), "
            f"{self.false_alarms_per_series_week:.3f} false alarms/series-week ({self.false_alarms}), "
            f"median delay {self.median_delay / 60:.0f} min, F1 {self.f1:.3f}, "
            f"{self.alarms_per_incident:.2f} alarms/incident"
        )


def score_events(
    alarms: Mapping[str, Sequence[float]],
    incidents: Iterable[Incident],
    *,
    series: Iterable[str],
    scored_from: float,
    scored_to: float,
) -> EventScore:
    """Score alarm times (unix s, per series name) against the labelled incidents."""
    by_series: dict[str, list[Incident]] = {}
    for incident in incidents:
        by_series.setdefault(incident.series, []).append(incident)
    names = list(series)
    caught = false = in_windows = total = 0
    delays: list[float] = []
    for name in names:
        times = sorted(t for t in alarms.get(name, ()) if scored_from <= t <= scored_to)
        windows = sorted(by_series.get(name, []), key=lambda i: i.start)
        total += len(windows)
        hit = [False] * len(windows)
        last_false = -math.inf
        for t in times:
            inside = next((k for k, w in enumerate(windows) if w.start <= t <= w.end + GRACE), None)
            if inside is None:
                if t - last_false >= FALSE_ALARM_DEDUP:
                    false += 1
                    last_false = t
                continue
            in_windows += 1
            if not hit[inside]:
                hit[inside] = True
                delays.append(t - windows[inside].start)
        caught += sum(hit)
    weeks = len(names) * (scored_to - scored_from) / WEEK
    return EventScore(total, caught, false, weeks, tuple(delays), in_windows)

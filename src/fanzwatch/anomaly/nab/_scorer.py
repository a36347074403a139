"""The NAB scoring algorithm, vectorised: anomaly windows, scaled sigmoid, threshold sweep.

This follows Numenta's published scorer (NAB v1.x ``sweeper.py``, ``optimizer.py`` and the
runner's ``normalize``), so its numbers match the reference results exactly:

* The first 15 % of each file (at most 750 rows) is a probationary period, never scored.
* Inside a labelled window, a detection at row ``i`` earns
  ``σ(-(right - i + 1) / width) · tpWeight / σ(-1)``, where ``σ(x) = 2/(1+e^{5x}) - 1``
  is the scaled sigmoid: early detections earn almost the full weight, late ones little.
  Only the best (earliest) detection of a window counts; a window without one costs
  ``fnWeight``.
* Outside windows every detection costs ``fpWeight`` times ``σ`` of its distance past
  the previous window's right edge, in window widths (``-1`` when no window precedes it),
  so a detection just after a window costs less than one far from any window.
* One threshold is used for the whole corpus; the sweep scores every distinct threshold
  at once by walking the rows from the highest anomaly score down.
* The final figure is ``100 · (raw - null) / (perfect - null)``, with ``null`` the score of
  a detector that never fires and ``perfect`` one full true positive per window.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

PROBATION_PERCENT = 0.15
PROBATION_MAX_ROWS = PROBATION_PERCENT * 5000
START_THRESHOLD = 1.1
"""The sweep's first threshold: above every score, so nothing is detected."""


@dataclass(frozen=True, slots=True)
class CostMatrix:
    """The weights of one NAB application profile."""

    tp_weight: float
    fp_weight: float
    fn_weight: float


@dataclass(frozen=True, slots=True)
class ScoredFile:
    """One file's rows prepared for scoring: its anomaly scores and each row's NAB weight.

    ``window`` is the row's window number within the file (-1 outside every window);
    probationary rows are already dropped.
    """

    name: str
    anomaly_scores: FloatArray
    weights: FloatArray
    window: IntArray
    n_windows: int


@dataclass(frozen=True, slots=True)
class ThresholdScore:
    """The raw NAB score of the corpus when rows with ``anomaly_score >= threshold`` fire."""

    threshold: float
    score: float
    tp: int
    tn: int
    fp: int
    fn: int


def scaled_sigmoid(position: FloatArray) -> FloatArray:
    """NAB's scaled sigmoid of a relative position, ``-1`` beyond 3 window widths."""
    with np.errstate(over="ignore"):
        value = 2.0 * (1.0 / (1.0 + np.exp(5.0 * position))) - 1.0
    return np.where(position > 3.0, -1.0, value)


def probation_length(n_rows: int) -> float:
    """Rows at the start of a file that are never scored."""
    return min(math.floor(PROBATION_PERCENT * n_rows), PROBATION_MAX_ROWS)


def window_rows(timestamps: npt.NDArray[np.datetime64], windows: Iterable[tuple[str, str]]) -> list[tuple[int, int]]:
    """Row indices ``(first, last)`` of each window, whose limits must be row timestamps."""
    rows: list[tuple[int, int]] = []
    for start, end in windows:
        bounds = []
        for limit in (start, end):
            hits = np.flatnonzero(timestamps == np.datetime64(limit, "us"))
            if hits.size == 0:
                raise ValueError(f"window limit {limit!r} is not a timestamp of the series")
            bounds.append(int(hits[0]))
        if bounds[1] < bounds[0]:
            raise ValueError(f"window {start!r}..{end!r} ends before it starts")
        rows.append((bounds[0], bounds[1]))
    rows.sort()
    for (_, prev_end), (start_row, _) in pairwise(rows):
        if start_row <= prev_end:
            raise ValueError("anomaly windows overlap")
    return rows


def prepare_file(name: str, anomaly_scores: FloatArray, windows: list[tuple[int, int]], cost: CostMatrix) -> ScoredFile:
    """Compute each row's NAB weight (as a true or false positive) and drop probation rows."""
    n = len(anomaly_scores)
    i = np.arange(n, dtype=np.float64)
    weights = np.full(n, -1.0 * cost.fp_weight)
    window = np.full(n, -1, dtype=np.int64)
    max_tp = 2.0 * (1.0 / (1.0 + math.exp(-5.0))) - 1.0
    for k, (first, last) in enumerate(windows):
        width = float(last - first + 1)
        inside = slice(first, last + 1)
        weights[inside] = scaled_sigmoid(-(last - i[inside] + 1.0) / width) * cost.tp_weight / max_tp
        window[inside] = k
        nxt = windows[k + 1][0] if k + 1 < len(windows) else n
        after = slice(last + 1, nxt)
        with np.errstate(divide="ignore"):
            position = np.abs(last - i[after]) / (width - 1.0)
        weights[after] = scaled_sigmoid(position) * cost.fp_weight
    keep = i >= probation_length(n)
    scored = window[keep]
    return ScoredFile(
        name=name,
        anomaly_scores=np.asarray(anomaly_scores, dtype=np.float64)[keep],
        weights=weights[keep],
        window=scored,
        n_windows=len(np.unique(scored[scored >= 0])),
    )


def _concat(files: Iterable[ScoredFile]) -> tuple[FloatArray, FloatArray, IntArray, int]:
    scores, weights, windows = [], [], []
    offset = 0
    for f in files:
        scores.append(f.anomaly_scores)
        weights.append(f.weights)
        windows.append(np.where(f.window >= 0, f.window + offset, -1))
        offset += int(f.window.max(initial=-1)) + 1
    if not scores:
        return np.empty(0), np.empty(0), np.empty(0, dtype=np.int64), 0
    return np.concatenate(scores), np.concatenate(weights), np.concatenate(windows), offset


@dataclass(frozen=True, slots=True)
class Sweep:
    """The corpus score at every distinct threshold, highest threshold first (parallel arrays)."""

    thresholds: FloatArray
    scores: FloatArray
    tp: IntArray
    fp: IntArray
    n_in_windows: int
    n_outside: int

    def row(self, k: int) -> ThresholdScore:
        tp, fp = int(self.tp[k]), int(self.fp[k])
        return ThresholdScore(
            float(self.thresholds[k]), float(self.scores[k]), tp, self.n_outside - fp, fp, self.n_in_windows - tp
        )


def sweep(files: Iterable[ScoredFile], cost: CostMatrix) -> Sweep:
    """Score every distinct threshold at once, walking the rows from the highest score down."""
    scores, weights, windows, _ = _concat(files)
    order = np.argsort(-scores, kind="stable")
    a, w, win = scores[order], weights[order], windows[order]
    in_window = win >= 0
    delta = np.where(in_window, 0.0, w)
    # A window counts its best weight so far; record each improvement as an increment.
    present = np.unique(win[in_window])
    by_window = np.argsort(win, kind="stable")
    lows = np.searchsorted(win[by_window], present, side="left")
    highs = np.searchsorted(win[by_window], present, side="right")
    for lo, hi in zip(lows.tolist(), highs.tolist(), strict=True):
        rows = by_window[lo:hi]
        best = np.maximum.accumulate(np.maximum(w[rows], -cost.fn_weight))
        previous = np.concatenate(([-cost.fn_weight], best[:-1]))
        delta[rows] = best - previous
    base = -cost.fn_weight * len(present)
    ends = np.append(np.flatnonzero(a[1:] != a[:-1]), a.size - 1) if a.size else np.empty(0, dtype=np.int64)
    return Sweep(
        thresholds=np.concatenate(([START_THRESHOLD], a[ends])),
        scores=np.concatenate(([base], base + np.cumsum(delta)[ends])),
        tp=np.concatenate(([0], np.cumsum(in_window)[ends])).astype(np.int64),
        fp=np.concatenate(([0], np.cumsum(~in_window)[ends])).astype(np.int64),
        n_in_windows=int(in_window.sum()),
        n_outside=int((~in_window).sum()),
    )


def score_at(files: Iterable[ScoredFile], cost: CostMatrix, threshold: float) -> ThresholdScore:
    """The corpus score when rows with ``anomaly_score >= threshold`` fire."""
    scores, weights, windows, n_windows = _concat(files)
    fire = scores >= threshold
    in_window = windows >= 0
    total = float(weights[fire & ~in_window].sum())
    best = np.full(n_windows, -np.inf)
    np.maximum.at(best, windows[fire & in_window], weights[fire & in_window])
    present = np.zeros(n_windows, dtype=bool)
    present[windows[in_window]] = True
    total += float(np.where(best[present] > -np.inf, np.maximum(best[present], -cost.fn_weight), -cost.fn_weight).sum())
    tp = int((fire & in_window).sum())
    fp = int((fire & ~in_window).sum())
    return ThresholdScore(threshold, total, tp, int((~in_window).sum()) - fp, fp, int(in_window.sum()) - tp)


def optimize(files: Iterable[ScoredFile], cost: CostMatrix) -> ThresholdScore:
    """The threshold with the best corpus score (the highest such threshold on ties)."""
    result = sweep(files, cost)
    return result.row(int(np.argmax(result.scores)))


def normalize(raw: float, *, null: float, n_windows: int, cost: CostMatrix) -> float:
    """NAB's final 0-100 figure: 0 for the null detector, 100 for the perfect one."""
    perfect = n_windows * cost.tp_weight
    return 100.0 * (raw - null) / (perfect - null)


def null_score(files: Iterable[ScoredFile], cost: CostMatrix) -> float:
    """The raw score of a detector that never fires: every scored window is missed."""
    return -cost.fn_weight * sum(f.n_windows for f in files)


def load_cost_matrices(profiles: Mapping[str, Mapping[str, Mapping[str, float]]]) -> dict[str, CostMatrix]:
    """NAB ``profiles.json`` content → one cost matrix per profile name."""
    out: dict[str, CostMatrix] = {}
    for name, profile in profiles.items():
        m = profile["CostMatrix"]
        out[name] = CostMatrix(
            tp_weight=float(m["tpWeight"]), fp_weight=float(m["fpWeight"]), fn_weight=float(m["fnWeight"])
        )
    return out

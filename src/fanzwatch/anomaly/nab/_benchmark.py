"""Scoring a whole set of detector results against the NAB labels, per profile."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ._corpus import NabFormatError, Series, read_csv_columns
from ._scorer import CostMatrix, normalize, null_score, optimize, prepare_file, score_at, window_rows


@dataclass(frozen=True, slots=True)
class ProfileScore:
    """One profile's result: the threshold, raw and normalised NAB scores, row counts."""

    profile: str
    threshold: float
    raw: float
    null: float
    normalized: float
    tp: int
    fp: int
    fn: int
    tn: int


def read_results_dir(results_dir: Path, names: list[str], *, prefix: str = "") -> dict[str, Series]:
    """Read ``<results_dir>/<category>/<prefix><file>.csv`` (column ``anomaly_score``) per name.

    ``prefix`` is ``"<detector>_"`` for NAB's own result layout, empty for ours.
    """
    out: dict[str, Series] = {}
    for name in names:
        category, _, file = name.partition("/")
        out[name] = read_csv_columns(results_dir / category / f"{prefix}{file}", "anomaly_score")
    return out


def _window_rows(
    results: Mapping[str, Series], windows: Mapping[str, list[tuple[str, str]]]
) -> dict[str, list[tuple[int, int]]]:
    out = {}
    for name, series in results.items():
        if name not in windows:
            raise NabFormatError(f"{name}: no entry in the labels file")
        try:
            out[name] = window_rows(series.timestamps, windows[name])
        except ValueError as exc:
            raise NabFormatError(f"{name}: {exc}") from None
    return out


def score_results(
    results: Mapping[str, Series],
    windows: Mapping[str, list[tuple[str, str]]],
    profiles: Mapping[str, CostMatrix],
    *,
    thresholds: Mapping[str, float] | None = None,
) -> dict[str, ProfileScore]:
    """NAB scores of one detector's results, per profile.

    Without ``thresholds`` each profile's threshold is found by the sweep (NAB's
    ``optimize`` step); with them, the given threshold is scored (NAB's ``score`` step).
    """
    n_windows = sum(len(windows[name]) for name in results if name in windows)
    out: dict[str, ProfileScore] = {}
    rows = _window_rows(results, windows)
    for profile, cost in profiles.items():
        files = [prepare_file(name, series.values, rows[name], cost) for name, series in results.items()]
        best = optimize(files, cost) if thresholds is None else score_at(files, cost, thresholds[profile])
        null = null_score(files, cost)
        out[profile] = ProfileScore(
            profile=profile,
            threshold=best.threshold,
            raw=best.score,
            null=null,
            normalized=normalize(best.score, null=null, n_windows=n_windows, cost=cost),
            tp=best.tp,
            fp=best.fp,
            fn=best.fn,
            tn=best.tn,
        )
    return out

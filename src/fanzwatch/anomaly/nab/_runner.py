"""Running a detector over a NAB-style corpus, writing one results CSV per series."""

from __future__ import annotations

import csv
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..detectors import BatchScores, make_detector
from ._benchmark import ProfileScore, read_results_dir, score_results
from ._corpus import NabFormatError, Series, list_data_files, load_profiles, load_windows, read_csv_columns

RESULT_COLUMNS = ("timestamp", "value", "anomaly_score", "lower", "upper", "is_anomaly")

Progress = Callable[[int, int, str, int, float], None]
"""Called after each series: ``(done, total, name, points, seconds)``."""


def _cell(x: float) -> str:
    return "" if math.isnan(x) else repr(x)


def write_scores_csv(path: Path, series: Series, scores: BatchScores) -> None:
    """Write ``timestamp,value,anomaly_score,lower,upper,is_anomaly`` rows.

    Floats are written with ``repr`` so reading them back gives the same numbers; NaN
    (no expected range yet, missing value) is an empty cell.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    stamps = series.stamps or tuple(str(t).replace("T", " ") for t in series.timestamps)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(RESULT_COLUMNS)
        writer.writerows(
            zip(
                stamps,
                map(_cell, series.values.tolist()),
                map(repr, scores.scores.tolist()),
                map(_cell, scores.lower.tolist()),
                map(_cell, scores.upper.tolist()),
                map(int, scores.is_anomaly.tolist()),
                strict=True,
            )
        )


def score_series(series: Series, detector_name: str) -> BatchScores:
    """Run a fresh detector over one series."""
    detector = make_detector(detector_name)
    return detector.score_batch(series.seconds, series.values)


@dataclass(frozen=True, slots=True)
class NabRun:
    """What ``run_nab`` did: per-profile scores, how many points, how long detection took."""

    scores: dict[str, ProfileScore]
    files: int
    points: int
    detect_seconds: float


def detect_corpus(data_dir: Path, out_dir: Path, detector_name: str, *, progress: Progress | None = None) -> list[str]:
    """Score every ``<category>/<file>.csv`` under ``data_dir`` into ``out_dir``; return the names."""
    names = list_data_files(data_dir)
    if not names:
        raise NabFormatError(f"{data_dir}: no <category>/<file>.csv series found")
    make_detector(detector_name)  # fail fast on an unknown name
    for done, name in enumerate(names, start=1):
        series = read_csv_columns(data_dir / name, "value")
        started = time.perf_counter()
        scores = score_series(series, detector_name)
        elapsed = time.perf_counter() - started
        write_scores_csv(out_dir / name, series, scores)
        if progress is not None:
            progress(done, len(names), name, len(series.values), elapsed)
    return names


def run_nab(
    data_dir: Path,
    out_dir: Path,
    detector_name: str,
    *,
    labels: Path,
    profiles: Path,
    progress: Progress | None = None,
) -> NabRun:
    """Detect over the corpus, write the results, then score them with the threshold sweep."""
    list_data_files(data_dir)  # a missing data directory is the first error to report
    windows = load_windows(labels)
    cost = load_profiles(profiles)
    timings: list[tuple[int, float]] = []

    def _track(done: int, total: int, name: str, points: int, seconds: float) -> None:
        timings.append((points, seconds))
        if progress is not None:
            progress(done, total, name, points, seconds)

    names = detect_corpus(data_dir, out_dir, detector_name, progress=_track)
    missing = [n for n in names if n not in windows]
    if missing:
        raise NabFormatError(f"{labels}: no labels for {', '.join(missing[:3])}{' …' if len(missing) > 3 else ''}")
    results = read_results_dir(out_dir, names)
    points = int(np.sum([p for p, _ in timings]))
    return NabRun(
        scores=score_results(results, windows, cost),
        files=len(names),
        points=points,
        detect_seconds=float(np.sum([s for _, s in timings])),
    )

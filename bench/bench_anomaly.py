"""NAB scores and throughput of every fanzwatch detector, beside NAB's reference detectors.

Usage: ``.venv/bin/python bench/bench_anomaly.py [NAB_DIR]`` (default ``../shared/nab``).

For each of our detectors (the guide's ``seed`` z-score included) it runs the 58 NAB
series in memory, one fresh detector per series, timing detection alone with the process
CPU clock (so the figure is points per second per core, whatever else the machine runs),
then scores the results with our NAB scorer (threshold sweep, three profiles). NAB's own
stored results for Numenta HTM, its windowed Gaussian and the null detector are scored by
the same code in the same run. Prints a markdown table; takes about a minute.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from fanzwatch.anomaly.detectors import DETECTORS, make_detector
from fanzwatch.anomaly.nab import (
    PROFILES,
    ProfileScore,
    Series,
    list_data_files,
    load_profiles,
    load_windows,
    read_csv_columns,
    read_results_dir,
    score_results,
)

REFERENCES = ("numenta", "windowedGaussian", "null")


def _row(label: str, scores: dict[str, ProfileScore], rate: str) -> str:
    figures = " | ".join(f"{scores[p].normalized:.2f}" for p in PROFILES)
    return f"| {label} | {figures} | {scores['standard'].threshold:.4f} | {rate} |"


def main(nab: Path) -> None:
    names = list_data_files(nab / "data")
    windows = load_windows(nab / "labels" / "combined_windows.json")
    profiles = load_profiles(nab / "config" / "profiles.json")
    corpus = {name: read_csv_columns(nab / "data" / name, "value") for name in names}
    points = sum(len(s.values) for s in corpus.values())
    print(f"NAB corpus: {len(names)} series, {points} points\n")
    print("| detector | standard | reward low FP | reward low FN | threshold (std) | points/s per core |")
    print("|---|---|---|---|---|---|")
    for name in DETECTORS:
        results: dict[str, Series] = {}
        cpu = 0.0
        for file, series in corpus.items():
            seconds = series.seconds
            started = time.process_time()
            batch = make_detector(name).score_batch(seconds, series.values)
            cpu += time.process_time() - started
            results[file] = Series(series.timestamps, batch.scores)
        scores = score_results(results, windows, profiles)
        print(_row(f"fanzwatch `{name}`", scores, f"{points / cpu:,.0f} ({cpu:.1f} s CPU)"), flush=True)
        if name == "seed":  # the guide alerts at confidence 0.8: what that costs
            fixed = score_results(results, windows, profiles, thresholds=dict.fromkeys(profiles, 0.8))
            print(_row("fanzwatch `seed` at the guide's own threshold 0.8", fixed, "same"), flush=True)
    for ref in REFERENCES:
        stored = read_results_dir(nab / "results" / ref, names, prefix=f"{ref}_")
        print(_row(f"NAB stored `{ref}` (rescored here)", score_results(stored, windows, profiles), "n/a"), flush=True)


if __name__ == "__main__":
    default = Path(__file__).resolve().parents[2] / "shared" / "nab"
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else default)

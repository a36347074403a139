"""The anomaly detectors on the product's own evaluation set and on NAB, side by side, in one run.

Usage: ``.venv/bin/python bench/bench_anomaly_events.py [--seeds 1,2] [--nab DIR] [--no-nab]``

For every detector (the default ``seasonal-cusum``, the default as it was on main before
its unprecedented-texture rule ``seasonal-cusum@main``, ``seasonal``, the guide's ``seed`` z-score, the
windowed Gaussian) it prints, per seed of the evaluation set
(``fanzwatch.anomaly.evaluation``: 8 platforms × 6 creator-platform signals, 5 weeks at
5 minutes, the first week history), the event figures of what people would receive
(recall, false alarms per series-week, median delay, event F1, alarms per caught
incident), the same detector's NAB scores (threshold sweep, three profiles), and the
detection CPU rate. Then the per-shape recall of the default, and the 90 % forecast
interval coverage on the evaluation set (``forecast``: 7 days of history, 24 hours
ahead, incident windows left out). Targets: recall ≥ 0.90, ≤ 0.5 false alarms per
series-week, median delay ≤ 15 min; NAB standard ≥ 75, low-FP ≥ 70.

Results of a detector on a seed are cached under ``.cache/bench-anomaly/`` keyed by the
source of ``fanzwatch/anomaly``; delete it to force a re-run.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import numpy as np

from fanzwatch.anomaly.detectors import Detector, SeasonalCusumDetector, SeasonalCusumParams, make_detector
from fanzwatch.anomaly.evaluation import GRACE, EvalSet, evaluate, generate_eval_set
from fanzwatch.anomaly.forecast import forecast
from fanzwatch.anomaly.nab import (
    PROFILES,
    Series,
    list_data_files,
    load_profiles,
    load_windows,
    read_csv_columns,
    score_results,
)

ROOT = Path(__file__).resolve().parents[1]
PREVIOUS = "seasonal-cusum@main"
"""The default as it was on main before the unprecedented-texture rule (issue 15, fourth session)."""
DETECTORS = ("seasonal-cusum", PREVIOUS, "seasonal", "seed", "gaussian")


def _factory(name: str) -> Callable[[], Detector]:
    if name == PREVIOUS:
        return lambda: SeasonalCusumDetector(SeasonalCusumParams(texture=None, rule_evidence=1.0))
    return lambda: make_detector(name)


DAY = 86400.0


def _source_hash() -> str:
    digest = hashlib.sha256()
    for path in sorted((ROOT / "src" / "fanzwatch" / "anomaly").rglob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _cached(key: str, compute: object) -> dict[str, object]:
    cache = ROOT / ".cache" / "bench-anomaly" / f"{key}-{_source_hash()}.json"
    if cache.exists():
        return dict(json.loads(cache.read_text()))
    assert callable(compute)
    value: dict[str, object] = compute()
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps(value))
    return value


def _events(data: EvalSet, detector: str) -> dict[str, object]:
    r = evaluate(data, detector, make=_factory(detector))
    s = r.score
    hits: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for i in data.incidents:
        key = f"{i.series.split(':')[0]}/{i.shape}"
        hits[key][1] += 1
        hits[key][0] += any(i.start <= a <= i.end + GRACE for a in r.alarms[i.series])
    return {
        "recall": s.recall,
        "fa": s.false_alarms_per_series_week,
        "fa_n": s.false_alarms,
        "delay": s.median_delay,
        "f1": s.f1,
        "per_incident": s.alarms_per_incident,
        "caught": s.caught,
        "incidents": s.incidents,
        "rate": r.points / r.cpu_seconds,
        "shapes": dict(hits),
    }


def _nab(nab: Path, detector: str) -> dict[str, object]:
    names = list_data_files(nab / "data")
    windows = load_windows(nab / "labels" / "combined_windows.json")
    profiles = load_profiles(nab / "config" / "profiles.json")
    results = {}
    cpu = 0.0
    points = 0
    for name in names:
        series = read_csv_columns(nab / "data" / name, "value")
        began = time.process_time()
        batch = _factory(detector)().score_batch(series.seconds, series.values)
        cpu += time.process_time() - began
        points += len(series.values)
        results[name] = Series(series.timestamps, batch.scores)
    scores = score_results(results, windows, profiles)
    at_half = score_results(results, windows, profiles, thresholds=dict.fromkeys(profiles, 0.5))
    return (
        {p: scores[p].normalized for p in PROFILES}
        | {f"{p}@0.5": at_half[p].normalized for p in PROFILES}
        | {"threshold": scores["standard"].threshold, "rate": points / cpu}
    )


def _coverage(
    data: EvalSet, *, history_days: float = 7, horizon_hours: float = 24, origins: int = 3
) -> dict[str, float]:
    """Share of future points inside the 90 % interval, per signal kind (incident windows left out)."""
    inside: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for s in data.series:
        t, v = s.timestamps, s.values
        for k in range(origins):
            origin = data.scored_from + (k * 7 + 3) * DAY
            past = (t > origin - history_days * DAY) & (t <= origin)
            ahead = (t > origin) & (t <= origin + horizon_hours * 3600)
            for i in s.incidents:
                ahead &= (t < i.start) | (t > i.end + GRACE)
            ahead &= np.isfinite(v)
            if np.isfinite(v[past]).sum() < 100 or not ahead.any():
                continue
            fc = forecast(t[past], v[past], horizon_seconds=horizon_hours * 3600, level=0.9, max_points=10_000)
            lo = np.interp(t[ahead], fc.timestamps, fc.lower)
            hi = np.interp(t[ahead], fc.timestamps, fc.upper)
            inside[s.kind][0] += int(((v[ahead] >= lo) & (v[ahead] <= hi)).sum())
            inside[s.kind][1] += int(ahead.sum())
    out = {kind: a / b for kind, (a, b) in inside.items() if b}
    total = [sum(x) for x in zip(*inside.values(), strict=True)]
    out["all"] = total[0] / total[1]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="1,2")
    parser.add_argument("--nab", type=Path, default=ROOT.parent.parent / "shared" / "nab")
    parser.add_argument("--no-nab", action="store_true")
    parser.add_argument("--detectors", default=",".join(DETECTORS))
    args = parser.parse_args()
    nab = args.nab if args.nab.exists() else Path("/work/shared/nab")
    seeds = [int(x) for x in args.seeds.split(",")]
    detectors = args.detectors.split(",")
    sets = {seed: generate_eval_set(seed) for seed in seeds}
    first = sets[seeds[0]]
    print(
        f"evaluation set: {len(first.series)} series × {first.days} days at {first.step:.0f} s "
        f"({first.learn_days} days history, {first.days - first.learn_days} scored); "
        + ", ".join(f"seed {s}: {len(d.incidents)} incidents" for s, d in sets.items())
    )
    print()
    head = "| detector | seed | recall | false alarms / series-week | median delay | event F1 | alarms / incident |"
    head += " NAB standard | NAB low FP | NAB low FN | points/s per core |"
    print(head)
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for det in detectors:
        ref = {} if args.no_nab else _cached(f"nab-{det}", lambda d=det: _nab(nab, d))  # type: ignore[misc]
        for seed, data in sets.items():
            e = _cached(f"events-{det}-{seed}", lambda d=det, x=data: _events(x, d))  # type: ignore[misc]
            nab_cells = (
                " | ".join(f"{float(ref[p]):.2f}" for p in PROFILES) if ref else "n/a | n/a | n/a"  # type: ignore[arg-type]
            )
            recall = f"{e['recall']:.3f} ({e['caught']}/{e['incidents']})"
            print(
                f"| `{det}` | {seed} | {recall} | {e['fa']:.3f} ({e['fa_n']}) "
                f"| {float(e['delay']) / 60:.0f} min | {e['f1']:.3f} | {e['per_incident']:.2f} | {nab_cells} "  # type: ignore[arg-type]
                f"| {float(e['rate']):,.0f} |",  # type: ignore[arg-type]
                flush=True,
            )
    if not args.no_nab:
        print("\nNAB at the sweep's threshold and at the product's alarm threshold 0.5 (what the engine posts):")
        print("| detector | sweep threshold (std) | standard / low FP / low FN (sweep) | same at 0.5 |")
        print("|---|---|---|---|")
        for det in detectors:
            ref = _cached(f"nab-{det}", lambda d=det: _nab(nab, d))  # type: ignore[misc]
            swept = " / ".join(f"{float(ref[p]):.2f}" for p in PROFILES)  # type: ignore[arg-type]
            half = " / ".join(f"{float(ref[f'{p}@0.5']):.2f}" for p in PROFILES)  # type: ignore[arg-type]
            print(f"| `{det}` | {float(ref['threshold']):.4f} | {swept} | {half} |")  # type: ignore[arg-type]
    print("\nper-shape recall of the default (seed, caught/incidents):")
    for seed in seeds:
        e = _cached(f"events-{detectors[0]}-{seed}", lambda: {})
        shapes = e.get("shapes", {})
        assert isinstance(shapes, dict)
        print(f"  seed {seed}: " + ", ".join(f"{k} {a}/{b}" for k, (a, b) in sorted(shapes.items())))
    print("\n90 % forecast interval coverage (7 days history, 24 h ahead, 3 origins per series):")
    for seed, data in sets.items():
        cov = _coverage(data)
        print(f"  seed {seed}: " + ", ".join(f"{k} {v:.1%}" for k, v in cov.items()))


if __name__ == "__main__":
    sys.exit(main())

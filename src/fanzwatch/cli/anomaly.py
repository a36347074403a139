"""``fanzwatch anomaly``: score a CSV series, or run and score the NAB benchmark."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..anomaly.detectors import DEFAULT_DETECTOR, DETECTORS, UnknownDetectorError
from ..anomaly.nab import PROFILES, NabFormatError, read_csv_columns, run_nab, score_series, write_scores_csv
from .anomaly_insights import forecast as anomaly_forecast
from .anomaly_insights import insights as anomaly_insights

anomaly_app = typer.Typer(help="Anomaly detectors: score series, benchmark on NAB.", no_args_is_help=True)

_DETECTOR_HELP = f"Detector: {', '.join(DETECTORS)}."


def _fail(message: str) -> typer.Exit:
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    return typer.Exit(2)


def _check_detector(name: str) -> None:
    if name not in DETECTORS:
        raise _fail(str(UnknownDetectorError(name)))


@anomaly_app.command("score")
def score(
    input_csv: Annotated[Path, typer.Argument(metavar="IN.csv", help="CSV with columns timestamp,value.")],
    output_csv: Annotated[Path, typer.Argument(metavar="OUT.csv", help="Where to write the scored rows.")],
    detector: Annotated[str, typer.Option(help=_DETECTOR_HELP)] = DEFAULT_DETECTOR,
) -> None:
    """Score one series: writes timestamp,value,anomaly_score,lower,upper,is_anomaly."""
    _check_detector(detector)
    try:
        series = read_csv_columns(input_csv, "value")
        if len(series.values) == 0:
            raise NabFormatError(f"{input_csv}: no data rows")
        seconds = series.seconds
        if len(seconds) > 1 and not bool((seconds[1:] > seconds[:-1]).all()):
            raise NabFormatError(f"{input_csv}: timestamps must be strictly increasing")
        scores = score_series(series, detector)
        write_scores_csv(output_csv, series, scores)
    except NabFormatError as exc:
        raise _fail(str(exc)) from None
    except OSError as exc:
        raise _fail(f"{output_csv}: cannot write ({exc.strerror})") from None
    typer.echo(f"{len(series.values)} points, {int(scores.is_anomaly.sum())} anomalies → {output_csv}")


@anomaly_app.command("nab")
def nab(
    data_dir: Annotated[Path, typer.Argument(metavar="DATA_DIR", help="NAB data: <category>/<file>.csv.")],
    out: Annotated[Path, typer.Option("--out", metavar="RESULTS_DIR", help="Where results CSVs go.")],
    detector: Annotated[str, typer.Option(help=_DETECTOR_HELP)] = DEFAULT_DETECTOR,
    labels: Annotated[
        Path | None, typer.Option(help="Windows JSON [default: DATA_DIR/../labels/combined_windows.json].")
    ] = None,
    profiles: Annotated[
        Path | None, typer.Option(help="Profiles JSON [default: DATA_DIR/../config/profiles.json].")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No per-series progress.")] = False,
) -> None:
    """Run a detector over a NAB corpus, write RESULTS_DIR/<category>/<file>.csv, print the scores."""
    _check_detector(detector)
    labels = labels or data_dir.parent / "labels" / "combined_windows.json"
    profiles = profiles or data_dir.parent / "config" / "profiles.json"

    def progress(done: int, total: int, name: str, points: int, seconds: float) -> None:
        if not quiet:
            typer.echo(f"[{done:>3}/{total}] {name}: {points} points in {seconds:.2f} s", err=True)

    try:
        run = run_nab(data_dir, out, detector, labels=labels, profiles=profiles, progress=progress)
    except NabFormatError as exc:
        raise _fail(str(exc)) from None
    except OSError as exc:
        raise _fail(f"cannot write results ({exc.strerror}: {exc.filename})") from None
    rate = run.points / run.detect_seconds if run.detect_seconds > 0 else float("inf")
    typer.echo(f"detector {detector}: {run.files} series, {run.points} points, {rate:,.0f} points/s")
    for name in (*[p for p in PROFILES if p in run.scores], *[p for p in run.scores if p not in PROFILES]):
        s = run.scores[name]
        typer.echo(
            f"{name:<20} {s.normalized:7.2f}  (threshold {s.threshold:.4f}, raw {s.raw:.2f}, TP {s.tp}, FP {s.fp})"
        )


# Insights and forecasts over live Prometheus data live in their own module.
anomaly_app.command("insights")(anomaly_insights)
anomaly_app.command("forecast")(anomaly_forecast)

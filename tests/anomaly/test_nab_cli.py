"""``fanzwatch anomaly score`` and ``fanzwatch anomaly nab``, through the real CLI app."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from fanzwatch.anomaly.detectors import DEFAULT_DETECTOR, DETECTORS, make_detector
from fanzwatch.anomaly.nab import run_nab
from fanzwatch.cli import app

from ._synthetic import with_incidents
from .test_nab_scorer import NAB

runner = CliRunner()


def _write_series(path: Path, t: np.ndarray, v: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    stamps = np.datetime_as_string((t * 1e6).astype("datetime64[us]"), unit="s")
    with path.open("w", newline="") as handle:
        w = csv.writer(handle)
        w.writerow(["timestamp", "value"])
        w.writerows(zip([s.replace("T", " ") for s in stamps], v.tolist(), strict=True))


def test_score_writes_every_column(tmp_path: Path) -> None:
    t, v, incidents = with_incidents(300.0)
    _write_series(tmp_path / "in.csv", t, v)
    result = runner.invoke(app, ["anomaly", "score", str(tmp_path / "in.csv"), str(tmp_path / "out.csv")])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader((tmp_path / "out.csv").open()))
    assert list(rows[0]) == ["timestamp", "value", "anomaly_score", "lower", "upper", "is_anomaly"]
    assert len(rows) == len(t)
    assert rows[0]["timestamp"] == "2023-11-13 00:00:00"
    expected = make_detector(DEFAULT_DETECTOR).score_batch(t, v)
    assert [float(r["anomaly_score"]) for r in rows] == expected.scores.tolist()
    assert "1" in [rows[incidents.spike + k]["is_anomaly"] for k in range(3)]
    assert rows[0]["lower"] == ""  # warm-up: no expected range yet
    anomalies = int(expected.is_anomaly.sum())
    assert result.output == f"{len(t)} points, {anomalies} anomalies → {tmp_path / 'out.csv'}\n"


def test_score_accepts_unix_seconds_and_other_detectors(tmp_path: Path) -> None:
    (tmp_path / "in.csv").write_text("timestamp,value\n" + "".join(f"{60 * i},{i % 5}\n" for i in range(300)))
    result = runner.invoke(
        app, ["anomaly", "score", str(tmp_path / "in.csv"), str(tmp_path / "o.csv"), "--detector", "seed"]
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader((tmp_path / "o.csv").open()))
    assert rows[5]["timestamp"] == "300"
    assert float(rows[250]["anomaly_score"]) == pytest.approx(
        make_detector("seed").score_batch(np.arange(300) * 60.0, np.arange(300) % 5.0).scores[250]
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "empty file, expected a header with timestamp,value"),
        ("time,value\n1,2\n", "header ['time', 'value'] lacks 'timestamp' and 'value'"),
        ("timestamp,value\n2020-01-01 00:00:00,abc\n", "in.csv:2: expected a number in 'value'"),
        ("timestamp,value\nyesterday,1\n", "bad timestamp"),
        ("timestamp,value\n", "no data rows"),
        ("timestamp,value\n2020-01-01 00:05:00,1\n2020-01-01 00:00:00,2\n", "timestamps must be strictly increasing"),
    ],
)
def test_score_bad_csv_is_a_clear_error(tmp_path: Path, content: str, message: str) -> None:
    (tmp_path / "in.csv").write_text(content)
    result = runner.invoke(app, ["anomaly", "score", str(tmp_path / "in.csv"), str(tmp_path / "out.csv")])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "out.csv").exists()


def test_score_missing_file_and_unknown_detector(tmp_path: Path) -> None:
    result = runner.invoke(app, ["anomaly", "score", str(tmp_path / "nope.csv"), str(tmp_path / "out.csv")])
    assert result.exit_code == 2
    assert "nope.csv: cannot open (No such file or directory)" in result.output
    result = runner.invoke(app, ["anomaly", "score", "a.csv", "b.csv", "--detector", "magic"])
    assert result.exit_code == 2
    assert f"unknown detector 'magic'; choose one of: {', '.join(DETECTORS)}" in result.output


def _tiny_corpus(root: Path) -> None:
    t, v, incidents = with_incidents(300.0)
    _write_series(root / "data" / "synthetic" / "incidents.csv", t, v)
    _write_series(root / "data" / "synthetic" / "quiet.csv", t[:3000], v[:3000])
    stamp = lambda i: str(np.datetime64(int(t[i]), "s")).replace("T", " ")  # noqa: E731
    windows = {
        "synthetic/incidents.csv": [
            [stamp(i - 30), stamp(i + 30)] for i in (incidents.spike, incidents.night_drop, incidents.level_shift)
        ],
        "synthetic/quiet.csv": [],
    }
    (root / "labels").mkdir()
    (root / "labels" / "combined_windows.json").write_text(json.dumps(windows))
    (root / "config").mkdir()
    (root / "config" / "profiles.json").write_text((NAB / "config" / "profiles.json").read_text())


def test_nab_command_runs_writes_and_scores(tmp_path: Path) -> None:
    _tiny_corpus(tmp_path)
    out = tmp_path / "results"
    result = runner.invoke(app, ["anomaly", "nab", str(tmp_path / "data"), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*.csv")) == [
        "synthetic/incidents.csv",
        "synthetic/quiet.csv",
    ]
    assert "[  1/2] synthetic/incidents.csv: 8064 points in" in result.output
    lines = result.stdout.splitlines() if hasattr(result, "stdout") else result.output.splitlines()
    scored = [
        line.split()[0:2]
        for line in lines
        if line.split() and line.split()[0] in {"standard", "reward_low_FP_rate", "reward_low_FN_rate"}
    ]
    assert [name for name, _ in scored] == ["standard", "reward_low_FP_rate", "reward_low_FN_rate"]
    direct = run_nab(
        tmp_path / "data",
        tmp_path / "again",
        DEFAULT_DETECTOR,
        labels=tmp_path / "labels" / "combined_windows.json",
        profiles=tmp_path / "config" / "profiles.json",
    )
    assert [float(s) for _, s in scored] == [round(direct.scores[p].normalized, 2) for p, _ in scored]
    assert direct.scores["standard"].tp > 0
    assert direct.points == 8064 + 3000


def test_nab_command_errors(tmp_path: Path) -> None:
    result = runner.invoke(app, ["anomaly", "nab", str(tmp_path / "missing"), "--out", str(tmp_path / "r")])
    assert result.exit_code == 2
    assert "missing: not a directory" in result.output
    _tiny_corpus(tmp_path)
    (tmp_path / "labels" / "combined_windows.json").write_text("{}")
    result = runner.invoke(app, ["anomaly", "nab", str(tmp_path / "data"), "--out", str(tmp_path / "r"), "-q"])
    assert result.exit_code == 2
    assert "no labels for synthetic/incidents.csv" in result.output


@pytest.mark.slow
def test_default_detector_on_the_whole_nab_corpus(tmp_path: Path) -> None:
    """The default detector's NAB figures in docs/benchmarks.md, as a regression test (exact)."""
    run = run_nab(
        NAB / "data",
        tmp_path,
        DEFAULT_DETECTOR,
        labels=NAB / "labels" / "combined_windows.json",
        profiles=NAB / "config" / "profiles.json",
    )
    assert run.files == 58
    assert run.points == 365_558
    assert round(run.scores["standard"].normalized, 2) == 72.38
    assert round(run.scores["reward_low_FP_rate"].normalized, 2) == 65.33
    assert round(run.scores["reward_low_FN_rate"].normalized, 2) == 77.27

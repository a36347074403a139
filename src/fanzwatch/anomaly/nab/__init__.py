"""The Numenta Anomaly Benchmark: a scorer that reproduces NAB's numbers, and a runner.

>>> from pathlib import Path
>>> from fanzwatch.anomaly.nab import CostMatrix, normalize
>>> normalize(-116.0, null=-116.0, n_windows=116, cost=CostMatrix(1.0, 0.11, 1.0))
0.0
"""

from __future__ import annotations

from ._benchmark import ProfileScore, read_results_dir, score_results
from ._corpus import (
    NabFormatError,
    Series,
    list_data_files,
    load_profiles,
    load_windows,
    read_csv_columns,
)
from ._runner import RESULT_COLUMNS, NabRun, detect_corpus, run_nab, score_series, write_scores_csv
from ._scorer import (
    CostMatrix,
    ScoredFile,
    Sweep,
    ThresholdScore,
    normalize,
    null_score,
    optimize,
    prepare_file,
    scaled_sigmoid,
    score_at,
    sweep,
    window_rows,
)

PROFILES = ("standard", "reward_low_FP_rate", "reward_low_FN_rate")
"""NAB's three application profiles, in the order its scoreboard lists them."""

__all__ = [
    "PROFILES",
    "RESULT_COLUMNS",
    "CostMatrix",
    "NabFormatError",
    "NabRun",
    "ProfileScore",
    "ScoredFile",
    "Series",
    "Sweep",
    "ThresholdScore",
    "detect_corpus",
    "list_data_files",
    "load_profiles",
    "load_windows",
    "normalize",
    "null_score",
    "optimize",
    "prepare_file",
    "read_csv_columns",
    "read_results_dir",
    "run_nab",
    "scaled_sigmoid",
    "score_at",
    "score_results",
    "score_series",
    "sweep",
    "window_rows",
    "write_scores_csv",
]

"""Reading NAB's files: series (``timestamp,value``), labels, profiles and result CSVs."""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from ._scorer import CostMatrix, load_cost_matrices

FloatArray = npt.NDArray[np.float64]
TimeArray = npt.NDArray[np.datetime64]


class NabFormatError(ValueError):
    """A NAB file is missing, unreadable or malformed; the message names the file and row."""


@dataclass(frozen=True, slots=True)
class Series:
    """One CSV's rows: timestamps (``datetime64[us]``), one float column, the raw stamps."""

    timestamps: TimeArray
    values: FloatArray
    stamps: tuple[str, ...] = ()

    @property
    def seconds(self) -> FloatArray:
        """Timestamps as unix seconds."""
        seconds: FloatArray = self.timestamps.astype("datetime64[us]").astype(np.int64) / 1e6
        return seconds


def _parse_times(path: Path, stamps: list[str]) -> TimeArray:
    """ISO-8601 date-times, or unix seconds when every stamp is a number."""
    try:
        seconds = np.array([float(s) for s in stamps], dtype=np.float64)
    except ValueError:
        pass
    else:
        if not np.all(np.isfinite(seconds)):
            raise NabFormatError(f"{path}: timestamps must be finite")
        micros: TimeArray = np.round(seconds * 1e6).astype(np.int64).astype("datetime64[us]")
        return micros
    try:
        times: TimeArray = np.array(stamps, dtype="datetime64[us]")
    except ValueError as exc:
        raise NabFormatError(f"{path}: bad timestamp ({exc}); use ISO 8601 or unix seconds") from None
    return times


def read_csv_columns(path: Path, value_column: str) -> Series:
    """Read ``timestamp`` and ``value_column`` from a CSV with a header row.

    An empty value or ``nan`` is a missing point (NaN); anything else that is not a number
    is an error naming the line. Timestamps are ISO 8601 or unix seconds.
    """
    try:
        handle = path.open(newline="", encoding="utf-8")
    except OSError as exc:
        raise NabFormatError(f"{path}: cannot open ({exc.strerror})") from None
    stamps: list[str] = []
    values: list[float] = []
    with handle:
        reader = csv.reader(handle)
        try:
            header = next(reader, None)
            if header is None:
                raise NabFormatError(f"{path}: empty file, expected a header with timestamp,{value_column}")
            columns = [h.strip() for h in header]
            if "timestamp" not in columns or value_column not in columns:
                raise NabFormatError(f"{path}: header {columns} lacks 'timestamp' and '{value_column}'")
            ti, vi = columns.index("timestamp"), columns.index(value_column)
            for row in reader:
                if not row:
                    continue
                try:
                    raw = row[vi].strip()
                    values.append(float(raw) if raw else math.nan)
                    stamps.append(row[ti].strip())
                except (IndexError, ValueError):
                    raise NabFormatError(
                        f"{path}:{reader.line_num}: expected a number in '{value_column}', got {row!r}"
                    ) from None
        except (csv.Error, UnicodeDecodeError) as exc:
            raise NabFormatError(f"{path}:{reader.line_num}: not a readable CSV ({exc})") from None
    return Series(_parse_times(path, stamps), np.array(values, dtype=np.float64), tuple(stamps))


def list_data_files(data_dir: Path) -> list[str]:
    """Relative paths ``<category>/<file>.csv`` of every series under ``data_dir``, sorted."""
    if not data_dir.is_dir():
        raise NabFormatError(f"{data_dir}: not a directory")
    return sorted(p.relative_to(data_dir).as_posix() for p in data_dir.glob("*/*.csv"))


def load_windows(path: Path) -> dict[str, list[tuple[str, str]]]:
    """``combined_windows.json``: relative path → list of ``(start, end)`` timestamps."""
    try:
        raw = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise NabFormatError(f"{path}: cannot read labels ({exc})") from None
    if not isinstance(raw, dict):
        raise NabFormatError(f"{path}: expected an object of file → windows")
    return {str(k): [(str(w[0]), str(w[1])) for w in v] for k, v in raw.items()}


def load_profiles(path: Path) -> dict[str, CostMatrix]:
    """``profiles.json``: profile name → cost matrix."""
    try:
        return load_cost_matrices(json.loads(path.read_text()))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise NabFormatError(f"{path}: cannot read profiles ({exc!r})") from None

"""Newest-first windows: contiguous, newest first, growing, covering exactly the range."""

from __future__ import annotations

import itertools

import pytest

from fanzwatch.telemetry.reader import FIRST_SLICE_NS, newest_first_slices

MIN = 60 * 10**9


@pytest.mark.parametrize(
    ("minutes", "sizes"),
    [
        (10, [10]),
        (15, [15]),
        (24 * 60, [15, 60, 240, 960, 165]),
        (7 * 24 * 60, [15, 60, 240, 960, 3840, 4965]),
    ],
)
def test_windows_cover_the_range_newest_first(minutes: int, sizes: list[int]) -> None:
    end = 1_800_000_000 * 10**9
    start = end - minutes * MIN
    slices = newest_first_slices(start, end)
    assert [(e - s) // MIN for s, e in slices] == sizes
    assert slices[0][1] == end and slices[-1][0] == start
    assert all(a[0] == b[1] for a, b in itertools.pairwise(slices))
    assert FIRST_SLICE_NS == 15 * MIN

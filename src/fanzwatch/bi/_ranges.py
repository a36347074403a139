"""Sets of epoch hours/days as compact half-open ranges, for ``WHERE`` clauses and loops."""

from __future__ import annotations

from collections.abc import Iterable


def to_ranges(values: Iterable[int]) -> list[tuple[int, int]]:
    """``{1, 2, 3, 7}`` → ``[(1, 4), (7, 8)]``."""
    out: list[tuple[int, int]] = []
    for v in sorted(set(values)):
        if out and out[-1][1] == v:
            out[-1] = (out[-1][0], v + 1)
        else:
            out.append((v, v + 1))
    return out


def chunks(ranges: list[tuple[int, int]], size: int = 200) -> Iterable[list[tuple[int, int]]]:
    """Ranges in groups small enough for one statement."""
    for i in range(0, len(ranges), size):
        yield ranges[i : i + size]

"""Column batches: what the model produces and the writers store (numpy arrays, typed by kind).

Kinds: ``int`` (int64), ``time`` (int64 microseconds since the epoch, UTC), ``money``
(int64 in units of 0.0001, the schema's four places: exact), ``text`` (str). Each column
may carry a ``nulls`` mask.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

Kind = Literal["int", "time", "money", "text"]
MONEY_UNITS = 10_000  # the schema keeps money to 4 places


@dataclass(frozen=True, slots=True)
class Column:
    kind: Kind
    values: np.ndarray
    nulls: np.ndarray | None = None

    def take(self, index: np.ndarray) -> Column:
        return Column(self.kind, self.values[index], None if self.nulls is None else self.nulls[index])


def ints(values: np.ndarray, nulls: np.ndarray | None = None) -> Column:
    return Column("int", np.asarray(values, dtype=np.int64), nulls)


def times(values: np.ndarray, nulls: np.ndarray | None = None) -> Column:
    return Column("time", np.asarray(values, dtype=np.int64), nulls)


def money(values: np.ndarray, nulls: np.ndarray | None = None) -> Column:
    return Column("money", np.asarray(values, dtype=np.int64), nulls)


def texts(values: np.ndarray, nulls: np.ndarray | None = None) -> Column:
    return Column("text", np.asarray(values, dtype=object), nulls)


def const(value: str, n: int) -> Column:
    return Column("text", np.full(n, value, dtype=object))


@dataclass(slots=True)
class Batch:
    """Rows of one table, column by column (every column of the same length)."""

    table: str
    columns: dict[str, Column] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(next(iter(self.columns.values())).values) if self.columns else 0

    def take(self, index: np.ndarray) -> Batch:
        return Batch(self.table, {k: c.take(index) for k, c in self.columns.items()})


def concat(batches: list[Batch]) -> Batch:
    """One batch of the same table from several (columns missing in one are NULL there)."""
    names = list(dict.fromkeys(k for b in batches for k in b.columns))
    out = Batch(batches[0].table)
    for name in names:
        kind = next(b.columns[name].kind for b in batches if name in b.columns)
        parts, nulls = [], []
        for b in batches:
            n = len(b)
            col = b.columns.get(name)
            if col is None:
                parts.append(np.zeros(n, dtype=object if kind == "text" else np.int64))
                nulls.append(np.ones(n, dtype=bool))
            else:
                parts.append(col.values)
                nulls.append(col.nulls if col.nulls is not None else np.zeros(n, dtype=bool))
        mask = np.concatenate(nulls)
        out.columns[name] = Column(kind, np.concatenate(parts), mask if mask.any() else None)
    return out

"""Bulk loading of column batches: ``COPY`` on PostgreSQL, ``executemany`` on SQLite.

Values are stored exactly as the platform's SQLAlchemy types store them, so BI cannot tell
generated rows from written ones: on SQLite timestamps are ``YYYY-MM-DD HH:MM:SS.ffffff``
text (UTC) and money is a REAL (SQLAlchemy binds ``Numeric`` as float there); on
PostgreSQL ``timestamptz`` and exact ``numeric`` text.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

from ._columns import MONEY_UNITS, Batch, Column

_CHUNK = 100_000


class BatchWriter(Protocol):
    """Stores batches inside the caller's open transaction; returns the rows written."""

    def write(self, batch: Batch) -> int: ...


def _iso(values: np.ndarray, sep: str) -> np.ndarray:
    text = np.datetime_as_string(values.astype("datetime64[us]"), unit="us")
    return np.char.replace(text, "T", sep) if sep != "T" else text


def _with_nulls(values: list[Any], nulls: np.ndarray | None, null: object) -> list[Any]:
    if nulls is None or not nulls.any():
        return values
    arr = np.array(values, dtype=object)
    arr[nulls] = null
    out: list[Any] = arr.tolist()
    return out


class SqliteWriter:
    """``executemany`` through the SQLite DB-API connection (one statement per table chunk)."""

    def __init__(self, dbapi_connection: Any) -> None:
        self._conn = dbapi_connection

    @staticmethod
    def _python(col: Column) -> list[Any]:
        if col.kind == "time":
            values: list[Any] = _iso(col.values, " ").tolist()
        elif col.kind == "money":
            values = (col.values / MONEY_UNITS).tolist()  # the nearest float, as float(Decimal) gives
        else:
            values = col.values.tolist()
        return _with_nulls(values, col.nulls, None)

    def write(self, batch: Batch) -> int:
        names = list(batch.columns)
        sql = f"INSERT INTO {batch.table} ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)})"
        cur = self._conn.cursor()
        try:
            for lo in range(0, len(batch), _CHUNK):
                part = batch.take(np.arange(lo, min(lo + _CHUNK, len(batch))))
                cur.executemany(sql, zip(*(self._python(part.columns[n]) for n in names), strict=True))
        finally:
            cur.close()
        return len(batch)


class PostgresWriter:
    """``COPY ... FROM STDIN`` (text format) through the psycopg connection."""

    def __init__(self, dbapi_connection: Any) -> None:
        self._conn = dbapi_connection

    @staticmethod
    def _text(col: Column) -> list[str]:
        if col.kind == "time":
            values: list[Any] = np.char.add(_iso(col.values, "T"), "Z").tolist()
        elif col.kind == "money":
            whole, frac = np.divmod(col.values, MONEY_UNITS)
            values = np.char.add(np.char.add(whole.astype(str), "."), np.char.zfill(frac.astype(str), 4)).tolist()
        elif col.kind == "int":
            values = col.values.astype(str).tolist()
        else:
            values = col.values.tolist()  # enum values and platform slugs: nothing to escape
        return _with_nulls(values, col.nulls, "\\N")

    def write(self, batch: Batch) -> int:
        names = list(batch.columns)
        with self._conn.cursor() as cur, cur.copy(f"COPY {batch.table} ({', '.join(names)}) FROM STDIN") as copy:
            for lo in range(0, len(batch), _CHUNK):
                part = batch.take(np.arange(lo, min(lo + _CHUNK, len(batch))))
                rows = zip(*(self._text(part.columns[n]) for n in names), strict=True)
                copy.write("".join("\t".join(r) + "\n" for r in rows))
        return len(batch)

"""Typed keys of the report statement's parts: what a row is, without parsing strings.

A report is one SQL statement of many small aggregates (``_statement``). Each aggregate is
registered under a ``Tag`` — *what* it computes (``Part``) for *which* window, instant or
count (``Key``) — and the statement carries only the tag's integer code; readers ask the
result for a ``Tag`` and get its rows. A typo is a type error, not an empty result.

>>> Tag(FactPart("tx"), WindowKey(0))
Tag(part=FactPart(fact='tx'), key=WindowKey(index=0))
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeVar


@dataclass(frozen=True, slots=True)
class WindowKey:
    """The ``index``-th window of the plan (facts, cohorts)."""

    index: int


@dataclass(frozen=True, slots=True)
class InstantKey:
    """The ``index``-th instant of the plan (subscriptions recurring then)."""

    index: int


@dataclass(frozen=True, slots=True)
class CountKey:
    """The ``index``-th distinct-user count of the plan."""

    index: int


Key = WindowKey | InstantKey | CountKey


@dataclass(frozen=True, slots=True)
class FactPart:
    """Sums of one fact's measures (``facts.Fact.name``)."""

    fact: str


SubsSource = Literal["raw", "balance", "start", "stop"]


@dataclass(frozen=True, slots=True)
class SubsPart:
    """Subscriptions at an instant: straight from the table (raw), or a midnight balance plus deltas."""

    source: SubsSource


@dataclass(frozen=True, slots=True)
class CohortPart:
    """A sign-up cohort's size and day-N retention."""


@dataclass(frozen=True, slots=True)
class UsersPart:
    """Distinct users of one activity kind (``facts.Activity.kind``)."""

    kind: str


Part = FactPart | SubsPart | CohortPart | UsersPart


@dataclass(frozen=True, slots=True)
class Tag:
    part: Part
    key: Key


Row = dict[str, Any]
T = TypeVar("T")


class ReportRows(Mapping[Tag, list[Row]]):
    """The statement's aggregated rows by tag; a tag without rows reads as ``[]``."""

    def __init__(self, rows: dict[Tag, list[Row]]) -> None:
        self._rows = rows
        self._derived: dict[Any, Any] = {}

    def derived(self, key: Any, compute: Callable[[], T]) -> T:
        """A value computed from these rows once per ``key`` (several families read the same instant)."""
        if key not in self._derived:
            self._derived[key] = compute()
        value: T = self._derived[key]
        return value

    def __getitem__(self, tag: Tag) -> list[Row]:
        return self._rows.get(tag, [])

    def __iter__(self) -> Iterator[Tag]:
        return iter(self._rows)

    def __len__(self) -> int:
        return len(self._rows)

    def of(self, part: Part, key: Key) -> list[Row]:
        return self[Tag(part, key)]

"""Distinct users in a window, and cohort retention: the method, and the readers of their rows.

Counting distinct users cannot add hourly counts (a user active in two hours would count
twice). Instead every user is counted once, on the first day of the window they were
active, using each user-day's previous active day and hour (``bi_user_days``):

- the window's middle ``[hs, me)`` is whole hours covered by rollups; it has an optional
  partial first day ``D0``, whole days ``[D1, D2)`` and an optional partial last day ``D2``;
- first day: users whose last active hour on ``D0`` is ``>= hs``;
- whole days: ``bi_first_active`` gives, per day, the users with no activity since an
  anchor day, so a run of days is summed without touching users; users whose previous
  activity is on ``D0`` itself are checked against ``hs`` at hour precision;
- last day: users active before ``me`` on ``D2`` whose previous activity is before ``hs``;
- the partial hours at both ends come from raw rows, with each of those users probed
  against the middle so nobody counts twice.

Windows whose middle lies inside one UTC day or spans more than ``LOOKBACK_DAYS`` days are
counted from raw rows directly; the result is the same, only the cost differs. The
parameters are worked out in ``_layout.DistinctCount`` and the SQL is in ``_statement``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .rollup_tables import RETENTION_DAYS


@dataclass(frozen=True, slots=True)
class Retention:
    """Day-N retention of a sign-up cohort: members whose day N has fully passed, and how many came back."""

    day: int
    eligible: int
    retained: int

    @property
    def rate(self) -> float | None:
        return None if self.eligible == 0 else self.retained / self.eligible


def read_cohort(rows: list[dict[str, Any]]) -> tuple[int, list[Retention]]:
    """(cohort size, retention per day N) from the statement's ``cohort`` rows."""
    sums: dict[str, int] = {}
    for row in rows:
        for key, value in row.items():
            sums[key] = sums.get(key, 0) + int(value or 0)
    return sums.get("size", 0), [Retention(n, sums.get(f"e{n}", 0), sums.get(f"r{n}", 0)) for n in RETENTION_DAYS]

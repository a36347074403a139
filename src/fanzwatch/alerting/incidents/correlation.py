"""Correlation: alerts with one probable cause become one incident.

An alert that would open a new incident first looks for an unresolved incident holding
an alert *related* to it that started within ``correlation_window`` of it:

- **the same alert elsewhere**: equal labels except where it fires (``platform``,
  ``instance``, ``job``) and how bad (``severity``, ``priority``) — one processor
  outage seen by three platforms is one incident;
- **a severity twin**: a rule like Alertmanager's ``inhibit_rules`` (a critical
  explains its warning on the same thing), so a hand-over is never a new incident;
- **a dependency and its symptoms**, or two symptoms of one dependency: the
  dependency's own alert (a failing payment-processor health check) explains
  ``PaymentFailureRate`` and ``HighErrorRate`` on the platforms using it, and those
  symptoms firing together point at it even before its own alert fires.

The rules come from provisioning (``routing.inhibit_rules``, ``dependencies.DEPENDENCIES``),
converted where the server is composed; ``alerting`` never imports provisioning. The
incident is then titled by its probable cause and lists every platform it touches; its
priority is its highest alert's (as for any joining alert).

Correlation is decided inside the alert's transaction, but not serialised across
replicas: two related alerts applied at the same instant on two replicas may open two
incidents. Each stays valid; the next related alert joins the older one.

>>> correlator = Correlator([Explains("Payment processor", source, symptoms)], window=timedelta(minutes=15))
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ..matchers import LabelMatcher, match_all
from ..payload import AlertmanagerAlert
from ..tables import alerts, incidents
from .records import IncidentStatus

WHERE_LABELS = frozenset({"platform", "instance", "job"})
HOW_BAD_LABELS = frozenset({"severity", "priority"})
_CANDIDATES = 500  # alerts of unresolved incidents looked at per decision


@dataclass(frozen=True, slots=True)
class Explains:
    """Alerts matching ``source`` explain alerts matching ``target`` that agree on every label in ``equal``.

    ``cause`` names the probable cause in the incident's title (empty: none, e.g. a severity twin).
    """

    cause: str
    source: tuple[LabelMatcher, ...]
    target: tuple[LabelMatcher, ...]
    equal: tuple[str, ...] = ()
    symptoms_correlate: bool = True  # two targets firing together are one incident too

    def _agree(self, a: Mapping[str, str], b: Mapping[str, str]) -> bool:
        return all(a.get(name, "") == b.get(name, "") for name in self.equal)

    def relates(self, a: Mapping[str, str], b: Mapping[str, str]) -> bool:
        if not self._agree(a, b):
            return False
        src_a, src_b = match_all(self.source, a), match_all(self.source, b)
        tgt_a, tgt_b = match_all(self.target, a), match_all(self.target, b)
        return (src_a and tgt_b) or (src_b and tgt_a) or (self.symptoms_correlate and tgt_a and tgt_b)

    def explains_any(self, labels: Sequence[Mapping[str, str]]) -> bool:
        """Whether ``labels`` (an incident's alerts) point at this cause: its own alert, or two symptoms."""
        if any(match_all(self.source, m) for m in labels):
            return True
        return self.symptoms_correlate and len({m.get("alertname") for m in labels if match_all(self.target, m)}) > 1


def same_alert_elsewhere(a: Mapping[str, str], b: Mapping[str, str]) -> bool:
    ignored = WHERE_LABELS | HOW_BAD_LABELS
    return {k: v for k, v in a.items() if k not in ignored} == {k: v for k, v in b.items() if k not in ignored}


class Correlator:
    """Finds the incident an alert belongs to by probable cause, and names incidents by it."""

    def __init__(self, explains: Sequence[Explains], window: timedelta) -> None:
        self.explains = tuple(explains)
        self.window = window

    def related(self, a: Mapping[str, str], b: Mapping[str, str]) -> bool:
        return same_alert_elsewhere(a, b) or any(rule.relates(a, b) for rule in self.explains)

    async def find(self, conn: AsyncConnection, alert: AlertmanagerAlert) -> int | None:
        """The oldest unresolved incident with an alert related to ``alert``, started within the window."""
        if self.window <= timedelta(0):
            return None
        window = self.window
        rows = (
            await conn.execute(
                sa.select(alerts.c.incident_id, alerts.c.labels)
                .join(incidents, incidents.c.id == alerts.c.incident_id)
                .where(
                    incidents.c.status != IncidentStatus.RESOLVED.value,
                    alerts.c.fingerprint != alert.fingerprint,
                    alerts.c.starts_at >= alert.starts_at - window,
                    alerts.c.starts_at <= alert.starts_at + window,
                )
                .order_by(alerts.c.incident_id, alerts.c.id)
                .limit(_CANDIDATES)
            )
        ).all()
        for row in rows:
            if self.related(alert.labels, row.labels):
                return int(row.incident_id)
        return None

    def title(self, members: Sequence[Mapping[str, str]]) -> str:
        """``Payment processor: PaymentFailureRate, HighErrorRate on fanz-1, fanz-2``."""
        names = list(dict.fromkeys(m.get("alertname", "") for m in members))
        platforms = sorted({m["platform"] for m in members if m.get("platform")})
        cause = next((r.cause for r in self.explains if r.cause and r.explains_any(members)), "")
        text = (f"{cause}: " if cause else "") + ", ".join(names) + (f" on {', '.join(platforms)}" if platforms else "")
        return text[:512]


async def member_labels(conn: AsyncConnection, incident_id: int) -> list[dict[str, Any]]:
    rows = await conn.execute(
        sa.select(alerts.c.labels).where(alerts.c.incident_id == incident_id).order_by(alerts.c.id)
    )
    return [dict(r.labels) for r in rows]

"""Correlation: alerts with one probable cause become one incident, and only those.

An alert that would open a new incident first looks for an unresolved incident it
belongs to, among those holding an alert that started within ``correlation_window`` of
it. What an incident accepts depends on what it is about:

- **a dependency's incident** (it holds the dependency's own alert — a failing
  payment-processor health check — or two different symptoms of it): an alert joins
  only if it is one of the dependency's *declared* symptoms (``PaymentFailureRate``,
  ``HighErrorRate``, ``JourneyFailing``, the payment SLOs' burns; each side of a rule is any
  of several matcher sets, ``AnyOf``), on a platform the dependency serves, agreeing with the
  dependency's alert on its ``equal`` labels (a platform's database explains that
  platform's symptoms only), and began at most ``symptom_lead`` (1 min: scrape and
  evaluation skew) before the dependency's problem and at most ``symptom_window`` (5 min)
  after it. "Began" is when the alert's condition first held: its ``startsAt`` (when it
  fired) less its rule's hold, carried on the alert as the ``hold`` annotation — the
  processor's 5-minute-hold health check fires minutes after its 1-minute-hold symptoms,
  although it began first. Until the dependency's own alert fires, its symptoms are timed
  against each other (within ``symptom_window``). Another alert of the dependency itself (or a severity
  twin of a member) joins too; nothing else, however alike: "the same alert elsewhere"
  does not reach into a dependency's incident. Symptoms are shared, so a cause seen only
  through them is a guess (the dependency explaining most of them, then the first declared):
  an alert that, with all of them, makes it another dependency's incident joins and the
  cause changes; once the dependency's own alert is there, it stays.
- **any other incident**: the **same alert elsewhere** (equal labels except where it
  fires, ``platform``/``instance``/``job``, and how bad, ``severity``/``priority``) — one
  processor outage seen by three platforms is one incident, whose priority is its
  alerts' highest as for any incident; a **severity twin** (a rule like Alertmanager's
  ``inhibit_rules``: a critical explains its warning on the same thing), so a hand-over
  is never a new incident; or a symptom of a dependency that, with every alert already
  there, makes the incident that dependency's (all of them its symptoms or its alerts).
- **meta alerts** (the anomaly engine's ``MetricAnomaly``: a series looks unusual) never
  join a dependency's incident, never make one, and never raise the priority of an
  incident they join (``firing.py``).

The rules come from provisioning (``routing.inhibit_rules``, ``dependencies.DEPENDENCIES``),
converted where the server is composed; ``alerting`` never imports provisioning. The
incident is then titled by its probable cause, its alerts and its platforms — at most
three of each by name, then a count (``PaymentFailureRate on 12 platforms``); the
incident's ``platforms`` list has them all.

**Serialised across replicas.** Before deciding, the alert's transaction takes a lock on
each of its *correlation keys* (``correlation_keys``): the same-alert identity, and one
per rule it takes part in (with the rule's ``equal`` values). Two related alerts always
share a key, so of two replicas receiving the cause and a symptom at the same instant
one decides first and the other sees its incident. Whether an alert joins an incident
also depends on the incident's other alerts, so it then locks every candidate incident
(in id order) before reading their alerts: two unrelated alerts that could each join the
same incident — a processor alert and a database symptom, both fitting an incident of
one ``HighErrorRate`` — are decided one after the other, the second seeing the first.
On PostgreSQL the locks are ``pg_advisory_xact_lock`` (released at commit or rollback;
alert keys in key order, then incidents in id order, so two transactions never wait on
each other in a circle); on SQLite the alert's transaction already started with a write
(its event key), which makes it the database's only writer until it commits.

>>> correlator = Correlator([Explains("Payment processor", source, symptoms)], window=timedelta(minutes=15))
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ...core.models import HOLD_ANNOTATION, parse_hold
from ..matchers import AnyOf
from ..payload import AlertmanagerAlert
from ..tables import alerts, incidents
from .records import IncidentStatus

WHERE_LABELS = frozenset({"platform", "instance", "job"})
HOW_BAD_LABELS = frozenset({"severity", "priority"})
SYMPTOM_WINDOW = timedelta(minutes=5)
SYMPTOM_LEAD = timedelta(minutes=1)
TITLE_NAMES = 3  # alert names and platforms named in a title; more are counted
_CANDIDATES = 50  # unresolved incidents looked at per decision
_MEMBERS = 200  # alerts read per candidate incident (the oldest); a bigger incident is joined by twins only


@dataclass(frozen=True, slots=True)
class Explains:
    """Alerts matching ``source`` explain alerts matching ``target`` that agree on every label in ``equal``.

    ``cause`` names the probable cause in the incident's title; a rule without one is a
    severity twin (``symptoms_correlate=False``), with one a dependency, whose symptoms
    are those on a platform in ``serves`` (None: any platform). ``source`` and ``target``
    are each any of several matcher sets (a dependency's own alerts are its health checks,
    its probes or its scrape target being down).
    """

    cause: str
    source: AnyOf
    target: AnyOf
    equal: tuple[str, ...] = ()
    symptoms_correlate: bool = True  # two targets firing together are one incident too
    serves: frozenset[str] | None = None

    @property
    def is_dependency(self) -> bool:
        return bool(self.cause)

    def agree(self, a: Mapping[str, str], b: Mapping[str, str]) -> bool:
        return all(a.get(name, "") == b.get(name, "") for name in self.equal)

    def is_source(self, labels: Mapping[str, str]) -> bool:
        return self.source.matches(labels)

    def is_symptom(self, labels: Mapping[str, str]) -> bool:
        """A target; for a dependency, only on a platform it serves."""
        if not self.target.matches(labels):
            return False
        if not self.is_dependency or self.serves is None:
            return True
        return labels.get("platform", "") in self.serves

    def relates(self, a: Mapping[str, str], b: Mapping[str, str]) -> bool:
        """Whether ``a`` and ``b`` are related by this rule, timing aside."""
        if not self.agree(a, b):
            return False
        src_a, src_b = self.is_source(a), self.is_source(b)
        tgt_a, tgt_b = self.is_symptom(a), self.is_symptom(b)
        return (src_a and tgt_b) or (src_b and tgt_a) or (self.symptoms_correlate and tgt_a and tgt_b)

    def explains_any(self, labels: Sequence[Mapping[str, str]]) -> bool:
        """Whether ``labels`` (an incident's alerts) point at this cause: its own alert, or two symptoms."""
        if any(self.is_source(m) for m in labels):
            return True
        return self.symptoms_correlate and len({m.get("alertname") for m in labels if self.is_symptom(m)}) > 1

    def covers(self, labels: Sequence[Mapping[str, str]]) -> int:
        """How many of ``labels`` are this dependency's own alerts or symptoms."""
        return sum(1 for m in labels if self.is_source(m) or self.is_symptom(m))


@dataclass(frozen=True, slots=True)
class Member:
    """An alert of a candidate incident: what the decision needs of it."""

    labels: Mapping[str, str]
    starts_at: datetime  # when it fired (Alertmanager's startsAt)
    hold: timedelta = timedelta(0)  # its rule's ``for:``, from the ``hold`` annotation

    @classmethod
    def of(cls, labels: Mapping[str, str], starts_at: datetime, annotations: object) -> Member:
        """``annotations`` as stored or received: a hold that is missing, malformed or unbelievable
        (``parse_hold``) counts as none, so one member's bad annotation never fails a decision."""
        hold = annotations.get(HOLD_ANNOTATION) if isinstance(annotations, Mapping) else None
        return cls(labels, starts_at, parse_hold(hold if isinstance(hold, str) else None))

    @property
    def began(self) -> datetime:
        """When its condition first held: fired less its hold (as fired, when that would precede year 1)."""
        try:
            return self.starts_at - self.hold
        except OverflowError:
            return self.starts_at


def _identity(labels: Mapping[str, str]) -> dict[str, str]:
    ignored = WHERE_LABELS | HOW_BAD_LABELS
    return {k: v for k, v in labels.items() if k not in ignored}


def same_alert_elsewhere(a: Mapping[str, str], b: Mapping[str, str]) -> bool:
    return _identity(a) == _identity(b)


def lock_key(text: str) -> int:
    """A stable signed 64-bit advisory-lock key (the same in every process, unlike ``hash()``)."""
    return int.from_bytes(hashlib.sha256(f"fanzwatch.correlation:{text}".encode()).digest()[:8], "big", signed=True)


def _count(things: Sequence[str], noun: str) -> str:
    if len(things) <= TITLE_NAMES:
        return ", ".join(things)
    return f"{len(things)} {noun}"


class Correlator:
    """Finds the incident an alert belongs to by probable cause, and names incidents by it."""

    def __init__(
        self,
        explains: Sequence[Explains],
        window: timedelta,
        *,
        symptom_window: timedelta = SYMPTOM_WINDOW,
        symptom_lead: timedelta = SYMPTOM_LEAD,
        meta_alerts: Iterable[str] = (),
    ) -> None:
        self.explains = tuple(explains)
        self.window = window
        self.symptom_window = symptom_window
        self.symptom_lead = symptom_lead
        self.meta_alerts = frozenset(meta_alerts)
        self._twins = tuple(r for r in self.explains if not r.is_dependency)
        self._dependencies = tuple(r for r in self.explains if r.is_dependency)

    @property
    def enabled(self) -> bool:
        return self.window > timedelta(0)

    def is_meta(self, labels: Mapping[str, str]) -> bool:
        return labels.get("alertname", "") in self.meta_alerts

    # --- serialising ----------------------------------------------------------------

    def correlation_keys(self, labels: Mapping[str, str]) -> list[int]:
        """The lock keys of ``labels``: two alerts this correlator may relate share at least one."""
        texts = ["same:" + json.dumps(_identity(labels), sort_keys=True)]
        for index, rule in enumerate(self.explains):
            if rule.is_source(labels) or rule.target.matches(labels):
                texts.append(f"rule:{index}:" + json.dumps([labels.get(n, "") for n in rule.equal]))
        return sorted({lock_key(t) for t in texts})

    async def serialise(self, conn: AsyncConnection, alert: AlertmanagerAlert) -> None:
        """Hold ``alert``'s correlation keys until this transaction ends (PostgreSQL; SQLite: see above)."""
        if not self.enabled or conn.dialect.name != "postgresql":
            return
        for key in self.correlation_keys(alert.labels):
            await conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})

    # --- deciding -------------------------------------------------------------------

    def cause_of(self, members: Sequence[Mapping[str, str]]) -> Explains | None:
        """The dependency an incident's alerts point at, if any.

        Of several (symptoms are shared: ``HighErrorRate`` is the processor's, a platform
        service's and a database's), the one whose own alert is there, then the one explaining
        the most of them, then the first declared.
        """
        if any(self.is_meta(m) for m in members):
            return None
        pointing = [r for r in self._dependencies if r.explains_any(members)]
        if not pointing:
            return None
        return max(pointing, key=lambda r: (any(r.is_source(m) for m in members), r.covers(members)))

    def _timely(self, rule: Explains, alert: Member, member: Member) -> bool:
        """``alert`` and ``member`` related by dependency ``rule``, in the order and time a cause and symptom are."""
        a, m = alert.labels, member.labels
        if not rule.relates(a, m):
            return False
        after = alert.began - member.began  # a difference: no datetime arithmetic that could leave the range
        if rule.is_source(m) and rule.is_symptom(a):  # a symptom after its cause
            return -self.symptom_lead <= after <= self.symptom_window
        if rule.is_source(a) and rule.is_symptom(m):  # the cause, after some of its symptoms
            return -self.symptom_lead <= -after <= self.symptom_window
        return abs(after) <= self.symptom_window  # two symptoms, the cause not yet seen

    def _twin(self, alert: Member, members: Sequence[Member]) -> bool:
        return any(rule.relates(alert.labels, m.labels) for rule in self._twins for m in members)

    def _elsewhere_of(self, alert: Member, members: Sequence[Member]) -> bool:
        """The same alert elsewhere as a member of an incident that is no dependency's."""
        labels = [m.labels for m in members]
        return self.cause_of(labels) is None and any(same_alert_elsewhere(alert.labels, m) for m in labels)

    def joins(self, alert: Member, members: Sequence[Member]) -> bool:
        """Whether ``alert`` belongs to the unresolved incident whose alerts are ``members``."""
        labels = [m.labels for m in members]
        cause = self.cause_of(labels)
        if cause is not None:
            if self.is_meta(alert.labels):
                return False
            if self._twin(alert, members):
                return True
            if cause.is_source(alert.labels) and any(
                cause.is_source(m) and cause.agree(alert.labels, m) for m in labels
            ):
                return True  # another alert of the failing dependency itself
            sources = [m for m in members if cause.is_source(m.labels)]
            if any(self._timely(cause, alert, m) for m in (sources or members)):
                return True
            # A cause seen only through its symptoms is a guess: an alert that, with all of them,
            # makes the incident another dependency's (its own alert, a symptom it alone explains) joins.
            return not sources and self._makes_dependency(alert, members)
        if self._twin(alert, members) or any(same_alert_elsewhere(alert.labels, m) for m in labels):
            return True
        if self.is_meta(alert.labels) or any(self.is_meta(m) for m in labels):
            return False
        return self._makes_dependency(alert, members)

    def _makes_dependency(self, alert: Member, members: Sequence[Member]) -> bool:
        """Whether ``alert`` with every member is one dependency's alerts and symptoms, in time."""
        for rule in self._dependencies:
            fits = all(
                (rule.is_source(m.labels) or rule.is_symptom(m.labels)) and rule.agree(alert.labels, m.labels)
                for m in members
            )
            if fits and any(self._timely(rule, alert, m) for m in members):
                return True
        return False

    async def find(self, conn: AsyncConnection, alert: AlertmanagerAlert) -> int | None:
        """The oldest unresolved incident ``alert`` belongs to, among those with an alert started within the window."""
        if not self.enabled:
            return None
        window = self.window
        try:
            earliest, latest = alert.starts_at - window, alert.starts_at + window
        except OverflowError:  # started at the edge of time (year 1 or 9999): nothing is that close
            return None
        candidates = (
            sa.select(alerts.c.incident_id)
            .join(incidents, incidents.c.id == alerts.c.incident_id)
            .where(
                incidents.c.status != IncidentStatus.RESOLVED.value,
                alerts.c.fingerprint != alert.fingerprint,
                alerts.c.starts_at >= earliest,
                alerts.c.starts_at <= latest,
            )
            .distinct()
            .order_by(alerts.c.incident_id)
            .limit(_CANDIDATES)
        )
        ids = sorted(int(r.incident_id) for r in await conn.execute(candidates))
        if not ids:
            return None
        if conn.dialect.name == "postgresql":  # their alerts decide: read them only once no one else is deciding
            for incident_id in ids:
                await conn.execute(
                    sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock_key(f"incident:{incident_id}")}
                )
        numbered = (
            sa.select(
                alerts.c.incident_id,
                alerts.c.labels,
                alerts.c.annotations,
                alerts.c.starts_at,
                sa.func.row_number().over(partition_by=alerts.c.incident_id, order_by=alerts.c.id).label("n"),
            )
            .where(alerts.c.incident_id.in_(ids), alerts.c.fingerprint != alert.fingerprint)
            .subquery()
        )
        rows = await conn.execute(
            sa.select(
                numbered.c.incident_id, numbered.c.labels, numbered.c.annotations, numbered.c.starts_at, numbered.c.n
            )
            .where(numbered.c.n <= _MEMBERS + 1)
            .order_by(numbered.c.incident_id, numbered.c.n)
        )
        by_incident: dict[int, list[Member]] = {}
        for row in rows:
            by_incident.setdefault(int(row.incident_id), []).append(
                Member.of(dict(row.labels), row.starts_at, row.annotations)
            )
        joining = Member.of(alert.labels, alert.starts_at, alert.annotations)
        for incident_id, members in by_incident.items():
            if len(members) > _MEMBERS:  # too big to judge whole: a twin, or the same alert elsewhere, joins
                if self._twin(joining, members) or self._elsewhere_of(joining, members):
                    return incident_id
            elif self.joins(joining, members):
                return incident_id
        return None

    def title(self, members: Sequence[Mapping[str, str]]) -> str:
        """``Payment processor: PaymentFailureRate, HighErrorRate on fanz-1, fanz-2`` (or ``on 12 platforms``)."""
        names = list(dict.fromkeys(m.get("alertname", "") for m in members))
        platforms = sorted({m["platform"] for m in members if m.get("platform")})
        cause = self.cause_of(members)
        text = (f"{cause.cause}: " if cause else "") + _count(names, "alerts")
        return (text + (f" on {_count(platforms, 'platforms')}" if platforms else ""))[:512]


async def member_labels(conn: AsyncConnection, incident_id: int) -> list[dict[str, Any]]:
    rows = await conn.execute(
        sa.select(alerts.c.labels).where(alerts.c.incident_id == incident_id).order_by(alerts.c.id)
    )
    return [dict(r.labels) for r in rows]

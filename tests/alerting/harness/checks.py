"""What must hold after replicas shared a store: read from the store and from the receivers' side.

Each check returns a list of problems (empty when all is well), so a test shows all of them at once.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from typing import Any

import sqlalchemy as sa

from fanzwatch.store import create_sync_engine

from .._fakes import FakeHttpService, FakePagerDuty, FakeSlack

Event = tuple[int, str]  # (incident id, event: trigger / acknowledge / resolve / ...)
SLACK_VERBS = {"triggered": "trigger", "reopened": "reopen", "acknowledged": "acknowledge", "resolved": "resolve"}
# The incident state machine as its timeline records it: kind -> (states it may follow, state after).
TRANSITIONS = {
    "opened": ({None}, "triggered"),
    "acknowledged": ({"triggered"}, "acknowledged"),
    "resolved": ({"triggered", "acknowledged"}, "resolved"),
    "reopened": ({"resolved"}, "triggered"),
}


def slack_events(slack: FakeSlack) -> list[Event]:
    out = []
    for r in slack.accepted:
        m = re.search(r"Incident #(\d+) (\w+)", r.body["text"])
        assert m, r.body["text"]
        out.append((int(m.group(1)), SLACK_VERBS.get(m.group(2), m.group(2))))
    return out


def pagerduty_events(pd: FakePagerDuty) -> list[Event]:
    return [(int(key.rsplit("-", 1)[1]), action) for action, key in pd.events()]


def webhook_events(hook: FakeHttpService) -> list[Event]:
    return [(int(r.body["incident_id"]), r.body["event"]) for r in hook.accepted]


def delivered_once(channel: str, events: list[Event], incidents: list[int]) -> list[str]:
    """Every incident's trigger and resolve reached the channel exactly once."""
    counts = Counter(events)
    problems = [f"{channel}: incident {i} {e} delivered {n} times" for (i, e), n in sorted(counts.items()) if n != 1]
    for incident in incidents:
        for event in ("trigger", "resolve"):
            if counts[(incident, event)] == 0:
                problems.append(f"{channel}: incident {incident} {event} never delivered")
    return problems


def in_order(channel: str, events: list[Event]) -> list[str]:
    """Per incident, nothing reaches the channel before its trigger, nor after its resolve."""
    problems = []
    per_incident: dict[int, list[str]] = defaultdict(list)
    for incident, event in events:
        per_incident[incident].append(event)
    for incident, seq in sorted(per_incident.items()):
        if seq[0] != "trigger" or seq[-1] != "resolve":
            problems.append(f"{channel}: incident {incident} received {seq}")
    return problems


def _rows(url: str, query: str) -> list[Any]:
    engine = create_sync_engine(url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(sa.text(query)).all())
    finally:
        engine.dispose()


def incident_ids(url: str) -> list[int]:
    return [int(r.id) for r in _rows(url, "SELECT id FROM alerting_incidents ORDER BY id")]


def incident_problems(url: str) -> list[str]:
    """Every incident's timeline is a valid walk of the state machine, ending where its row is."""
    problems = []
    timeline: dict[int, list[str]] = defaultdict(list)
    for row in _rows(url, "SELECT incident_id, kind FROM alerting_timeline ORDER BY id"):
        if row.kind in TRANSITIONS:
            timeline[row.incident_id].append(row.kind)
    for inc in _rows(url, "SELECT id, status, resolved_at, open_group_key FROM alerting_incidents ORDER BY id"):
        state: str | None = None
        for kind in timeline[inc.id]:
            allowed, after = TRANSITIONS[kind]
            if state not in allowed:
                problems.append(f"incident {inc.id}: {kind} after {state} ({timeline[inc.id]})")
            state = after
        if state != inc.status:
            problems.append(f"incident {inc.id}: timeline ends {state}, row says {inc.status}")
        resolved = inc.status == "resolved"
        if resolved != (inc.resolved_at is not None) or resolved != (inc.open_group_key is None):
            problems.append(f"incident {inc.id}: {inc.status} with resolved_at={inc.resolved_at}, open key set")
    return problems


def remediation_problems(url: str, target: FakeHttpService) -> list[str]:
    """Every remediation ran once: one ``executed`` per run, each run's key answered once by the target."""
    problems = []
    executed = Counter(
        r.remediation_id
        for r in _rows(url, "SELECT remediation_id, decision FROM alerting_remediation_audit")
        if r.decision == "executed"
    )
    accepted = Counter(r.headers.get("Idempotency-Key") for r in target.accepted)
    for rem in _rows(url, "SELECT id, status, runs FROM alerting_remediations ORDER BY id"):
        if executed[rem.id] != 1 or rem.runs != 1:
            problems.append(f"remediation {rem.id}: executed {executed[rem.id]} times, runs={rem.runs}")
        key = f"fanzwatch-remediation-{rem.id}-1"
        if accepted[key] != 1:
            problems.append(f"remediation {rem.id}: the target accepted run {key} {accepted[key]} times")
        if rem.status != "done":
            problems.append(f"remediation {rem.id}: ended {rem.status}")
    extra = set(accepted) - {
        f"fanzwatch-remediation-{r.id}-1" for r in _rows(url, "SELECT id FROM alerting_remediations")
    }
    if extra:
        problems.append(f"the target accepted unknown runs {sorted(map(str, extra))}")
    return problems


def pending_notifications(url: str) -> int:
    (row,) = _rows(url, "SELECT count(*) AS n FROM alerting_outbox WHERE status = 'pending'")
    return int(row.n)


def quiet(url: str) -> bool:
    """Nothing left to do: every payload processed, notification sent, remediation and incident closed."""
    (row,) = _rows(
        url,
        "SELECT (SELECT count(*) FROM alerting_inbox WHERE processed_at IS NULL) AS inbox,"
        " (SELECT count(*) FROM alerting_outbox WHERE status = 'pending') AS outbox,"
        " (SELECT count(*) FROM alerting_remediations WHERE status NOT IN ('done', 'gave_up', 'refused')) AS rem,"
        " (SELECT count(*) FROM alerting_incidents WHERE status != 'resolved') AS open",
    )
    return row.inbox == row.outbox == row.rem == row.open == 0

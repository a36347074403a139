"""What must hold after replicas shared a store: read from the store and from the receivers' side.

Each check returns a list of problems (empty when all is well), so a test shows all of them at once.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from typing import Any

import sqlalchemy as sa

from fanzwatch.store import create_sync_engine

from .._fakes import FakeHttpService, FakePagerDuty, FakeSlack, Received

Event = tuple[int, str]  # (incident id, event: trigger / acknowledge / resolve / ...)
SLACK_VERBS = {"triggered": "trigger", "reopened": "reopen", "acknowledged": "acknowledge", "resolved": "resolve"}
# The incident state machine as its timeline records it: kind -> (states it may follow, state after).
# "still_open" (an alert fired again during the hold-down) returns to the state before "resolving".
TRANSITIONS: dict[str, tuple[set[str | None], str | None]] = {
    "opened": ({None}, "triggered"),
    "acknowledged": ({"triggered", "resolving"}, "acknowledged"),
    "resolving": ({"triggered", "acknowledged"}, "resolving"),
    "still_open": ({"resolving"}, None),
    "resolved": ({"triggered", "acknowledged", "resolving"}, "resolved"),
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


def channel_problems(channel: str, events: list[Event], incidents: list[int], *, unhurt: set[int]) -> list[str]:
    """Per incident, the channel accepted its trigger then its resolve (an acknowledge between), once each, or nothing.

    Nothing is right only where the trigger never got through before the incident resolved
    (a stale trigger is superseded, and a resolve is not sent for a trigger nobody saw); for
    the ``unhurt`` incidents, whose trigger was delivered, both must be there.
    """
    problems = []
    per_incident: dict[int, list[str]] = defaultdict(list)
    for incident, event in events:
        per_incident[incident].append(event)
    for incident in incidents:
        seq = per_incident.pop(incident, [])
        if seq not in (["trigger", "resolve"], ["trigger", "acknowledge", "resolve"]) and (seq or incident in unhurt):
            problems.append(f"{channel}: incident {incident} received {seq}")
    problems += [f"{channel}: unknown incident {i} received {seq}" for i, seq in per_incident.items()]
    return problems


def incidents_in(requests: list[Received]) -> set[int]:
    """The incidents named by Slack messages, answered or not."""
    return {int(m.group(1)) for r in requests if (m := re.search(r"Incident #(\d+)", r.body["text"]))}


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
        before_hold_down: str | None = None
        for kind in timeline[inc.id]:
            allowed, after = TRANSITIONS[kind]
            if state not in allowed:
                problems.append(f"incident {inc.id}: {kind} after {state} ({timeline[inc.id]})")
            if kind == "resolving":
                before_hold_down = state
            state = after if after is not None else before_hold_down
        if state != inc.status:
            problems.append(f"incident {inc.id}: timeline ends {state}, row says {inc.status}")
        resolved = inc.status == "resolved"
        if resolved != (inc.resolved_at is not None) or resolved != (inc.open_group_key is None):
            problems.append(f"incident {inc.id}: {inc.status} with resolved_at={inc.resolved_at}, open key set")
    for row in _rows(url, "SELECT fingerprint, count(*) AS n FROM alerting_alerts GROUP BY fingerprint"):
        if row.n != 1:
            problems.append(f"alert {row.fingerprint} belongs to {row.n} incidents")
    return problems


def remediation_problems(url: str, target: FakeHttpService) -> list[str]:
    """Every remediation ran once: one ``executed``, its key accepted by the target at most once.

    Exactly once, unless the alert resolved while a run cut short by a crash waited to be resumed
    (then it is ``not_needed``, and resuming it would have been wrong).
    """
    problems = []
    decisions: dict[int, list[str]] = defaultdict(list)
    for r in _rows(url, "SELECT remediation_id, decision FROM alerting_remediation_audit ORDER BY id"):
        decisions[r.remediation_id].append(r.decision)
    accepted = Counter(r.headers.get("Idempotency-Key") for r in target.accepted)
    known = set()
    for rem in _rows(url, "SELECT id, status, runs FROM alerting_remediations ORDER BY id"):
        key = f"fanzwatch-remediation-{rem.id}-1"
        known.add(key)
        executed = decisions[rem.id].count("executed")
        expected = int("succeeded" in decisions[rem.id])  # a run cut short and then not needed: 0
        if executed != 1 or rem.runs != 1 or accepted[key] != expected or rem.status != "done":
            problems.append(
                f"remediation {rem.id}: {rem.status}, runs={rem.runs}, target accepted {key} {accepted[key]} times,"
                f" decisions {decisions[rem.id]}"
            )
    if set(accepted) - known:
        problems.append(f"the target accepted unknown runs {sorted(map(str, set(accepted) - known))}")
    return problems


def running_remediation(url: str) -> tuple[int, str, str] | None:
    """(id, platform, owner) of the one remediation being run now, if exactly one is."""
    rows = _rows(url, "SELECT id, platform, claimed_by FROM alerting_remediations WHERE status = 'running'")
    return (int(rows[0].id), rows[0].platform, rows[0].claimed_by) if len(rows) == 1 else None


def incident_on_another_platform(url: str, platform: str) -> int:
    rows = _rows(url, f"SELECT id FROM alerting_incidents WHERE platform != '{platform}' ORDER BY id")
    return int(rows[0].id)


def remediation_status(url: str, rid: int) -> str:
    (row,) = _rows(url, f"SELECT status FROM alerting_remediations WHERE id = {int(rid)}")
    return str(row.status)


def settled_but(url: str, *, deliveries: int, remediations: int) -> bool:
    """All is done except up to that many deliveries and that many remediation actions, in flight."""
    (row,) = _rows(
        url,
        "SELECT (SELECT count(*) FROM alerting_inbox WHERE processed_at IS NULL) AS inbox,"
        " (SELECT count(*) FROM alerting_outbox WHERE status = 'pending') AS pending,"
        " (SELECT count(*) FROM alerting_outbox WHERE status = 'pending' AND claimed_by IS NOT NULL) AS held,"
        " (SELECT count(*) FROM alerting_remediations WHERE status = 'verifying') AS verifying,"
        " (SELECT count(*) FROM alerting_remediations WHERE status = 'running') AS running,"
        " (SELECT count(*) FROM alerting_remediations) AS total",
    )
    return (
        row.inbox == 0
        and row.pending == row.held <= deliveries
        and row.running == remediations
        and row.verifying == row.total - remediations
    )


def describe(url: str) -> str:
    """The store's work in progress, for a message when a wait times out."""
    pending = _rows(
        url,
        "SELECT id, incident_id, channel, event, claimed_by, attempts FROM alerting_outbox WHERE status = 'pending'",
    )
    work = _rows(
        url, "SELECT id, platform, status, claimed_by, runs, interrupted FROM alerting_remediations ORDER BY id"
    )
    inbox = _rows(url, "SELECT count(*) AS n FROM alerting_inbox WHERE processed_at IS NULL")[0].n
    return (
        f"inbox {inbox} unprocessed; pending notifications {[tuple(r) for r in pending]};"
        f" remediations {[tuple(r) for r in work]}"
    )


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

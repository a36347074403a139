"""Escalation policies and their snapshots.

When an incident opens, the policy for its priority is copied into the incident (the
*snapshot*, as Grafana OnCall does): later configuration changes never alter the
escalation of an incident already running. Targets are resolved to people only when a
step runs, so a rotation that hands over meanwhile pages whoever is on call then.

>>> snap = EscalationSnapshot.take(settings, Priority.P0, taken_at=now)
>>> snap.steps[0].name, snap.steps[0].wait
('primary', datetime.timedelta(seconds=900))
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ...core.models import Priority
from ...settings.alerting import AlertingSettings
from .schedules import on_call


@dataclass(frozen=True, slots=True)
class Step:
    name: str
    targets: tuple[str, ...]  # "schedule:NAME" or "user:NAME"
    wait: timedelta


@dataclass(frozen=True, slots=True)
class EscalationSnapshot:
    priority: Priority
    steps: tuple[Step, ...]
    taken_at: datetime

    @classmethod
    def take(cls, settings: AlertingSettings, priority: Priority, *, taken_at: datetime) -> EscalationSnapshot:
        steps = tuple(
            Step(s.name, s.targets, s.wait if s.wait is not None else priority.response_target)
            for s in settings.steps_for(priority)
        )
        return cls(priority, steps, taken_at)

    def to_json(self) -> dict[str, Any]:
        return {
            "priority": self.priority.value,
            "taken_at": self.taken_at.isoformat(),
            "steps": [
                {"name": s.name, "targets": list(s.targets), "wait_seconds": s.wait.total_seconds()} for s in self.steps
            ],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> EscalationSnapshot:
        return cls(
            Priority(data["priority"]),
            tuple(Step(s["name"], tuple(s["targets"]), timedelta(seconds=s["wait_seconds"])) for s in data["steps"]),
            datetime.fromisoformat(data["taken_at"]),
        )


@dataclass(frozen=True, slots=True)
class Recipient:
    """A person to notify and the channels to use, as configured now."""

    user: str
    email: str | None
    channels: tuple[str, ...]
    via: str  # the target that selected them, e.g. "schedule:primary"


def resolve_targets(
    settings: AlertingSettings, targets: tuple[str, ...], at: datetime
) -> tuple[list[Recipient], list[str]]:
    """People behind ``targets`` at ``at``, and the targets that no longer resolve (with why)."""
    users = {u.name: u for u in settings.users}
    schedules = {s.name: s for s in settings.schedules}
    found: list[Recipient] = []
    problems: list[str] = []
    for target in targets:
        kind, name = target.split(":", 1)
        if kind == "schedule":
            if name not in schedules:
                problems.append(f"schedule {name!r} is no longer configured")
                continue
            name = on_call(schedules[name], at)
        user = users.get(name)
        if user is None:
            problems.append(f"user {name!r} is no longer configured")
        elif all(r.user != user.name for r in found):
            found.append(Recipient(user.name, user.email, user.notify, target))
    return found, problems

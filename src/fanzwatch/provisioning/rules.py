"""Typed Prometheus rules: recording rules, alert rules, groups, and their YAML form.

An :class:`AlertRule` always carries ``severity``, ``priority`` (derived from the
severity, never chosen separately), ``service``, ``summary``, ``description`` and a
``runbook_url``; the model makes a rule without them impossible to write.

>>> rule = AlertRule(
...     name="HighErrorRate", expr="platform:http_server_5xx:ratio_rate5m > 0.05",
...     hold=timedelta(minutes=2), severity=Severity.CRITICAL, service="fanz-platform",
...     summary="5xx on {{ $labels.platform }}", description="...")
>>> rule.labels()["priority"]
'P0'
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from ..core import Severity
from ..core.models import HOLD_ANNOTATION
from ._output import prom_duration

_ALERT_NAME = re.compile(r"^[A-Z][A-Za-z0-9]*$")
_RECORD_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
_RESERVED_LABELS = frozenset({"severity", "priority", "service", "alertname"})
_FOREIGN_RECORD_NAMES = frozenset({"sloth_slo_info"})
"""Names kept from another tool's convention (Sloth's dashboards read its info series)."""


@dataclass(frozen=True, slots=True)
class RecordingRule:
    """``record: <name>`` computed from ``expr`` every evaluation interval, with ``labels`` added."""

    record: str
    expr: str
    labels: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        foreign = self.record in _FOREIGN_RECORD_NAMES
        if not _RECORD_NAME.match(self.record) or (":" not in self.record and not foreign):
            raise ValueError(f"recording rule {self.record!r}: use the level:metric:operations form")

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"record": self.record, "expr": self.expr}
        if self.labels:
            out["labels"] = dict(sorted(self.labels.items()))
        return out


@dataclass(frozen=True, slots=True)
class AlertRule:
    """One alerting rule.

    ``hold`` is Prometheus's ``for:``: how long the condition must hold before the alert
    fires (it is ``pending`` until then). ``runbook`` names the runbook page (default: the
    alert's name) and ``runbook_anchor`` a section in it. ``extra_labels`` may not
    override the labels the model sets itself.
    """

    name: str
    expr: str
    hold: timedelta
    severity: Severity
    service: str
    summary: str
    description: str
    extra_labels: Mapping[str, str] = field(default_factory=dict)
    runbook: str | None = None

    def __post_init__(self) -> None:
        if not _ALERT_NAME.match(self.name):
            raise ValueError(f"alert name {self.name!r} must be UpperCamelCase")
        if _RESERVED_LABELS & set(self.extra_labels):
            raise ValueError(
                f"{self.name}: extra_labels may not set {sorted(_RESERVED_LABELS & set(self.extra_labels))}"
            )
        if not self.summary or not self.description or not self.service:
            raise ValueError(f"{self.name}: summary, description and service are required")

    @property
    def runbook_page(self) -> str:
        return self.runbook or self.name

    def labels(self) -> dict[str, str]:
        return {
            "severity": self.severity.value,
            "priority": self.severity.priority.value,
            "service": self.service,
            **dict(sorted(self.extra_labels.items())),
        }

    def to_dict(self, *, runbook_base_url: str, for_scale: float = 1.0) -> dict[str, Any]:
        hold = prom_duration(scaled_hold(self.hold, for_scale))
        return {
            "alert": self.name,
            "expr": self.expr,
            "for": hold,
            "labels": self.labels(),
            "annotations": {
                "summary": self.summary,
                "description": self.description,
                "runbook_url": f"{runbook_base_url}/{self.runbook_page}.md",
                HOLD_ANNOTATION: hold,  # correlation compares when problems began, not when they fired
            },
        }


def owner_routed_alerts(
    owned: Iterable[tuple[str, str, Severity]], *, label: str, build: Callable[[str, str, Severity], AlertRule]
) -> tuple[AlertRule, ...]:
    """One alert per (service, severity) among ``owned``, in first-seen order.

    ``owned`` is ``(name, owning service, severity)`` per monitored thing (a scrape job, a
    probe kind); ``build(selector, service, severity)`` makes each rule, ``selector`` being
    ``label="name"`` (or ``label=~"a|b"`` for several). So each outage reaches the team that
    owns it with the severity it deserves (``TargetDown``, ``ProbeFailing``).
    """
    owners: dict[tuple[str, Severity], list[str]] = {}
    for name, service, severity in owned:
        owners.setdefault((service, severity), []).append(name)
    return tuple(
        build(f'{label}="{names[0]}"' if len(names) == 1 else f'{label}=~"{"|".join(names)}"', service, severity)
        for (service, severity), names in owners.items()
    )


def scaled_hold(hold: timedelta, for_scale: float) -> timedelta:
    """``hold × for_scale`` rounded to whole milliseconds (at least 1 ms when ``hold`` > 0)."""
    if for_scale == 1.0:
        return hold
    ms = round(hold / timedelta(milliseconds=1) * for_scale)
    return timedelta(milliseconds=max(ms, 1 if hold else 0))


@dataclass(frozen=True, slots=True)
class RuleGroup:
    """A Prometheus rule group, rendered to ``rules/<file>.yml``.

    Rules in a group are evaluated in order; ``interval`` defaults to the global
    evaluation interval.
    """

    name: str
    file: str
    rules: tuple[RecordingRule | AlertRule, ...]
    interval: timedelta | None = None

    def __post_init__(self) -> None:
        if not re.match(r"^[a-z0-9_-]+$", self.file):
            raise ValueError(f"rule file name {self.file!r}: lowercase letters, digits, - and _ only")

    def alerts(self) -> tuple[AlertRule, ...]:
        return tuple(r for r in self.rules if isinstance(r, AlertRule))

    def recordings(self) -> tuple[RecordingRule, ...]:
        return tuple(r for r in self.rules if isinstance(r, RecordingRule))

    def to_dict(self, *, runbook_base_url: str, for_scale: float = 1.0) -> dict[str, Any]:
        rules = [
            r.to_dict(runbook_base_url=runbook_base_url, for_scale=for_scale)
            if isinstance(r, AlertRule)
            else r.to_dict()
            for r in self.rules
        ]
        out: dict[str, Any] = {"name": self.name}
        if self.interval is not None:
            out["interval"] = prom_duration(self.interval)
        out["rules"] = rules
        return out

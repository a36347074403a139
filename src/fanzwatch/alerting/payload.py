"""Alertmanager's webhook payload, version 4, exactly as Alertmanager sends it.

See Alertmanager's ``notify/webhook`` (``Message``) and ``template.Data``: every field is
always present; ``endsAt`` of a firing alert is the zero time ``0001-01-01T00:00:00Z``.
Unknown extra fields are tolerated (newer Alertmanagers may add some); a missing field,
a wrong type or another ``version`` is refused.

>>> AlertmanagerPayload.model_validate_json(body).alerts[0].fingerprint
'c6b1f6e2a3b4d5e6'
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from ..core.scrubbing import ScrubRules, scrub_mapping

Labels = dict[Annotated[str, Field(max_length=256)], Annotated[str, Field(max_length=4096)]]
Annotations = dict[Annotated[str, Field(max_length=256)], Annotated[str, Field(max_length=65536)]]
AlertStatus = Literal["firing", "resolved"]


class _Base(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)


def _scrubbed(values: dict[str, str], info: ValidationInfo) -> dict[str, str]:
    """Annotations without personal data when parsed with ``context={"scrub": ScrubRules}``
    (the webhook does, and stores what it parsed)."""
    rules = info.context.get("scrub") if isinstance(info.context, dict) else None
    return scrub_mapping(values, rules=rules) if isinstance(rules, ScrubRules) else values


class AlertmanagerAlert(_Base):
    """One alert of a notification."""

    status: AlertStatus
    labels: Labels
    annotations: Annotations
    starts_at: datetime = Field(alias="startsAt")
    ends_at: datetime = Field(alias="endsAt")
    generator_url: str = Field(alias="generatorURL", max_length=4096)
    fingerprint: str = Field(pattern=r"^[0-9a-f]{1,64}$")

    @field_validator("starts_at", "ends_at")
    @classmethod
    def _aware(cls, v: datetime) -> datetime:
        return v.replace(tzinfo=UTC) if v.tzinfo is None else v.astimezone(UTC)

    @field_validator("annotations")
    @classmethod
    def _scrub(cls, v: dict[str, str], info: ValidationInfo) -> dict[str, str]:
        return _scrubbed(v, info)

    @field_validator("labels")
    @classmethod
    def _alertname(cls, v: dict[str, str]) -> dict[str, str]:
        if not v.get("alertname"):
            raise ValueError("an alert needs an alertname label")
        return v

    @property
    def alertname(self) -> str:
        return self.labels["alertname"]


class AlertmanagerPayload(_Base):
    """The body of one webhook call: a group of alerts and what they have in common."""

    version: Literal["4"]
    group_key: str = Field(alias="groupKey", max_length=8192)
    truncated_alerts: int = Field(default=0, alias="truncatedAlerts", ge=0)
    status: AlertStatus
    receiver: str = Field(max_length=256)
    group_labels: Labels = Field(alias="groupLabels")
    common_labels: Labels = Field(alias="commonLabels")
    common_annotations: Annotations = Field(alias="commonAnnotations")
    external_url: str = Field(alias="externalURL", max_length=4096)
    alerts: list[AlertmanagerAlert] = Field(min_length=1, max_length=10_000)

    @field_validator("common_annotations")
    @classmethod
    def _scrub(cls, v: dict[str, str], info: ValidationInfo) -> dict[str, str]:
        return _scrubbed(v, info)

    @property
    def ungrouped(self) -> bool:
        """Whether the route grouped by every label (``group_by: ['...']``): one alert per group."""
        return all(set(a.labels) <= set(self.group_labels) for a in self.alerts)

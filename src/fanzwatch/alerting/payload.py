"""Alertmanager's webhook payload, version 4, exactly as Alertmanager sends it.

See Alertmanager's ``notify/webhook`` (``Message``) and ``template.Data``: every field is
always present; ``endsAt`` of a firing alert is the zero time ``0001-01-01T00:00:00Z``.
Unknown extra fields are tolerated (newer Alertmanagers may add some); a missing field,
a wrong type or another ``version`` is refused.

Every string (label and annotation names and values, ``groupKey``, ``receiver``, the URLs)
is passed through ``core.text.sanitize_text`` while it is parsed: NUL, control characters
and lone surrogates never reach the store (PostgreSQL refuses NUL in ``text``). Pass the
raw body through :func:`decode_webhook_body` first: it turns invalid UTF-8 and lone
surrogate escapes into U+FFFD instead of letting them refuse the whole payload.

>>> AlertmanagerPayload.model_validate_json(body).alerts[0].fingerprint
'c6b1f6e2a3b4d5e6'
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from ..core.scrubbing import ScrubRules, scrub_mapping
from ..core.text import repair_json_surrogates, sanitize_text

_Clean = AfterValidator(sanitize_text)
Labels = dict[Annotated[str, Field(max_length=256), _Clean], Annotated[str, Field(max_length=4096), _Clean]]
Annotations = dict[Annotated[str, Field(max_length=256), _Clean], Annotated[str, Field(max_length=65536), _Clean]]
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
    generator_url: Annotated[str, _Clean] = Field(alias="generatorURL", max_length=4096)
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
    group_key: Annotated[str, _Clean] = Field(alias="groupKey", max_length=8192)
    truncated_alerts: int = Field(default=0, alias="truncatedAlerts", ge=0)
    status: AlertStatus
    receiver: Annotated[str, _Clean] = Field(max_length=256)
    group_labels: Labels = Field(alias="groupLabels")
    common_labels: Labels = Field(alias="commonLabels")
    common_annotations: Annotations = Field(alias="commonAnnotations")
    external_url: Annotated[str, _Clean] = Field(alias="externalURL", max_length=4096)
    alerts: list[AlertmanagerAlert] = Field(min_length=1, max_length=10_000)

    @field_validator("common_annotations")
    @classmethod
    def _scrub(cls, v: dict[str, str], info: ValidationInfo) -> dict[str, str]:
        return _scrubbed(v, info)

    @property
    def ungrouped(self) -> bool:
        """Whether the route grouped by every label (``group_by: ['...']``): one alert per group."""
        return all(set(a.labels) <= set(self.group_labels) for a in self.alerts)


def decode_webhook_body(body: bytes) -> bytes:
    """``body`` as JSON a strict parser accepts: invalid UTF-8 and lone surrogate escapes → U+FFFD.

    Alertmanager copies label values and annotations from anything a rule or an exporter
    produced; one bad byte must not cost the whole notification.
    """
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        body = body.decode("utf-8", errors="replace").encode("utf-8")
    return repair_json_surrogates(body)

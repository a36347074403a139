"""The beacon wire format (version 1): pydantic models with a bound on every field.

A batch (what fanz-rum.js sends to ``/api/v1/analytics/batch``)::

    {"v": 1, "sid": "9f0c...", "platform": "fanz-1", "sent": 1764158400000,
     "url": "https://fanz-1.example/creator/42", "events": [
        {"type": "vital", "t": 1764158399000, "name": "LCP", "value": 1830.5,
         "attribution": {"target": "main>img#hero"}}]}

The guide's single-event endpoints take the envelope fields and one event's fields
in one flat object (``type`` may be left out). Times inside events are milliseconds,
as the browser measures them; ``t`` (event) and ``sent`` (batch) are the client's
``Date.now()``: the server uses only their difference, so a wrong client clock does
not move events in time. JSON's ``NaN``/``Infinity`` extensions are refused, and types are strict (no
``true`` for a number, no ``1.0`` for an integer).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, model_validator

EPOCH_MS_MIN = 1_577_836_800_000  # 2020-01-01T00:00:00Z: older clocks are broken clocks
EPOCH_MS_MAX = 4_102_444_800_000  # 2100-01-01T00:00:00Z
MAX_TIMING_MS = 600_000.0  # ten minutes: any longer page timing is not a measurement
MAX_CLS = 100.0
HARD_MAX_EVENTS = 1000  # the settings' max_events_per_batch is checked on top of this

_CONFIG = ConfigDict(extra="forbid", allow_inf_nan=False, frozen=True, strict=True)

EpochMs = Annotated[int, Field(ge=EPOCH_MS_MIN, le=EPOCH_MS_MAX)]
TimingMs = Annotated[float, Field(ge=0.0, le=MAX_TIMING_MS)]
PageUrl = Annotated[str, Field(min_length=8, max_length=2048, pattern=r"^https?://")]
AnyUrlText = Annotated[str, Field(max_length=2048)]
TraceId = Annotated[str, Field(pattern=r"^[0-9a-f]{32}$")]
"""A W3C trace id, lower-case hex; the all-zero (invalid) id is refused by the model."""
SessionId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{8,64}$")]
PlatformSlug = Annotated[str, Field(min_length=1, max_length=32)]
Selector = Annotated[str, Field(min_length=1, max_length=256, pattern=r'^[A-Za-z0-9_#>:\[\]=".() -]+$')]
VitalName = Literal["LCP", "INP", "CLS", "FCP", "TTFB"]
NavigationType = Literal[
    "navigate", "reload", "back-forward", "back-forward-cache", "prerender", "restore", "soft-navigation"
]


class _Model(BaseModel):
    model_config = _CONFIG


class VitalAttribution(_Model):
    """What web-vitals says caused the value; element targets are text-free selectors."""

    target: Selector | None = None
    url: AnyUrlText | None = None
    load_state: Literal["loading", "dom-interactive", "dom-content-loaded", "complete"] | None = None
    interaction_type: Literal["pointer", "keyboard"] | None = None
    ttfb: TimingMs | None = None
    resource_load_delay: TimingMs | None = None
    resource_load_duration: TimingMs | None = None
    element_render_delay: TimingMs | None = None
    first_byte_to_fcp: TimingMs | None = None
    input_delay: TimingMs | None = None
    processing_duration: TimingMs | None = None
    presentation_delay: TimingMs | None = None
    waiting: TimingMs | None = None
    cache: TimingMs | None = None
    dns: TimingMs | None = None
    connection: TimingMs | None = None
    request: TimingMs | None = None
    largest_shift_value: Annotated[float, Field(ge=0.0, le=MAX_CLS)] | None = None
    largest_shift_time: TimingMs | None = None


class VitalEvent(_Model):
    """One web-vitals report: milliseconds, except CLS (unitless)."""

    type: Literal["vital"] = "vital"
    t: EpochMs | None = None
    url: PageUrl | None = None
    name: VitalName
    value: Annotated[float, Field(ge=0.0, le=MAX_TIMING_MS)]
    rating: Literal["good", "needs-improvement", "poor"] | None = None
    id: Annotated[str, Field(max_length=64)] | None = None
    nav: NavigationType | None = None
    attribution: VitalAttribution | None = None

    @model_validator(mode="after")
    def _cls_bound(self) -> VitalEvent:
        if self.name == "CLS" and self.value > MAX_CLS:
            raise ValueError(f"CLS {self.value} is out of range (0..{MAX_CLS:g})")
        return self


class PageLoadEvent(_Model):
    """Navigation timing, in ms from the navigation entry's start."""

    type: Literal["page_load"] = "page_load"
    t: EpochMs | None = None
    url: PageUrl | None = None
    nav: NavigationType | None = None
    dns: TimingMs = 0.0
    connect: TimingMs = 0.0
    tls: TimingMs = 0.0
    ttfb: TimingMs = 0.0
    response: TimingMs = 0.0
    dom_interactive: TimingMs = 0.0
    dom_content_loaded: TimingMs = 0.0
    load: TimingMs
    transfer_size: Annotated[int, Field(ge=0, le=1_000_000_000)] | None = None
    trace_id: TraceId | None = None
    """The page view's W3C trace id: the backend spans of the page's calls carry it."""

    @model_validator(mode="after")
    def _valid_trace(self) -> PageLoadEvent:
        if self.trace_id is not None and self.trace_id == "0" * 32:
            raise ValueError("trace_id 00000000000000000000000000000000 is not a valid trace id")
        return self


class ElementIdentity(_Model):
    """Which element: never its text, value, classes or href."""

    tag: Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{0,31}$")]
    id: Annotated[str, Field(pattern=r"^[A-Za-z][\w-]{0,63}$")] | None = None
    data: Annotated[str, Field(pattern=r"^[\w.:-]{1,64}$")] | None = None
    selector: Selector | None = None


class InteractionEvent(_Model):
    """A sampled click or form submit."""

    type: Literal["interaction"] = "interaction"
    t: EpochMs | None = None
    url: PageUrl | None = None
    kind: Literal["click", "submit"]
    target: ElementIdentity


class ErrorEvent(_Model):
    """An uncaught error or unhandled rejection; message and stack are scrubbed before storage."""

    type: Literal["error"] = "error"
    t: EpochMs | None = None
    url: PageUrl | None = None
    kind: Literal["error", "unhandledrejection"] = "error"
    message: Annotated[str, Field(min_length=1, max_length=1024)]
    source: AnyUrlText | None = None
    line: Annotated[int, Field(ge=0, le=10_000_000)] | None = None
    col: Annotated[int, Field(ge=0, le=10_000_000)] | None = None
    stack: Annotated[str, Field(max_length=8192)] | None = None


RumEvent = Annotated[VitalEvent | PageLoadEvent | InteractionEvent | ErrorEvent, Field(discriminator="type")]


class _EnvelopeFields(_Model):
    v: Literal[1] = 1
    sid: SessionId
    platform: PlatformSlug
    sent: EpochMs


class Batch(_EnvelopeFields):
    """What the script sends: one page's events, at most ``HARD_MAX_EVENTS``."""

    url: PageUrl
    events: Annotated[list[RumEvent], Field(min_length=1, max_length=HARD_MAX_EVENTS)]


class VitalBeacon(_EnvelopeFields, VitalEvent):
    """``POST /api/v1/analytics/rum``: one vital."""

    url: PageUrl


class PageLoadBeacon(_EnvelopeFields, PageLoadEvent):
    """``POST /api/v1/analytics/page-load``: one page load."""

    url: PageUrl


class InteractionBeacon(_EnvelopeFields, InteractionEvent):
    """``POST /api/v1/analytics/interaction``: one interaction."""

    url: PageUrl


class ErrorBeacon(_EnvelopeFields, ErrorEvent):
    """``POST /api/v1/analytics/error``: one error."""

    url: PageUrl


SingleBeacon = VitalBeacon | PageLoadBeacon | InteractionBeacon | ErrorBeacon
Event = VitalEvent | PageLoadEvent | InteractionEvent | ErrorEvent

# Validators built once; ``validate_json`` parses and validates in one pass (pydantic-core).
BATCH_ADAPTER: TypeAdapter[Batch] = TypeAdapter(Batch)
SINGLE_MODELS: dict[str, type[SingleBeacon]] = {
    "rum": VitalBeacon,
    "page-load": PageLoadBeacon,
    "interaction": InteractionBeacon,
    "error": ErrorBeacon,
}

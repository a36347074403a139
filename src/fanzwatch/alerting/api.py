"""HTTP surface of alerting: the Alertmanager webhook and the incident API.

- ``POST /api/v1/alerts/webhook``: Alertmanager payload v4 → 202 once stored;
  401 bad credentials, 413 too large, 400 malformed or another version (nothing stored);
- ``GET /api/v1/incidents`` (``status``, ``priority``, ``platform``, ``limit``, ``offset``, ``order``:
  ``money``, the default, most revenue at risk first; ``newest``);
- ``GET /api/v1/incidents/{id}``: alerts, timeline, notifications, remediation decisions;
- ``POST /api/v1/incidents/{id}/ack``, ``/resolve``, ``/notes``;
- ``GET|PUT /api/v1/remediation/kill-switch``, ``GET /api/v1/remediation/audit``.

Who may call what is the server's route policy (``server.auth``: reads need the viewer
role, ack/resolve/notes the responder role, the kill switch admin); the webhook checks
Alertmanager's own token. Annotations and notes are scrubbed of personal data
(``core.scrubbing``) where they enter, and every string of a webhook or request body is
sanitised (``core.text.sanitize_text``: no NUL, controls or lone surrogates reach the
store). The router takes a provider of the service, so it can be mounted when the app is
built and the service created in the lifespan:

>>> app.include_router(build_router(lambda: app.state.alerting))
"""

# No "from __future__ import annotations": FastAPI must see the closures' Annotated types at runtime.

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from ..core.models import Priority
from ..core.scrubbing import ScrubRules, scrub_optional, scrub_text
from ..core.text import sanitize_text
from .incidents.operations import IncidentNotFoundError, IncidentStateError
from .payload import AlertmanagerPayload, decode_webhook_body
from .service import AlertingService

WEBHOOK_PATH = "/api/v1/alerts/webhook"


def _sanitized(value: object) -> object:
    # Before type validation: a lone surrogate would otherwise fail it, and the 422 that
    # echoes the input could not even be encoded.
    return sanitize_text(value) if isinstance(value, str) else value


Clean = BeforeValidator(_sanitized)
Actor = Annotated[
    str, Clean, Field(min_length=1, max_length=128, pattern=r"^[^\x00-\x1f]+$", description="who does it")
]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AckRequest(_Body):
    by: Actor


class ResolveRequest(_Body):
    by: Actor
    note: Annotated[str | None, Clean] = Field(default=None, max_length=10_000)


class NoteRequest(_Body):
    by: Actor
    text: Annotated[str, Clean] = Field(min_length=1, max_length=10_000)


class KillSwitchRequest(_Body):
    engaged: bool
    by: Actor


class KillSwitchState(BaseModel):
    engaged: bool
    updated_at: datetime | None
    updated_by: str


ServiceProvider = Callable[[], AlertingService | None]


def _problem(status: int, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status, headers=headers)


async def _read_limited(request: Request, limit: int) -> bytes | None:
    """The body, or None once it exceeds ``limit`` bytes (the rest is not read)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        return None
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _version_of(body: bytes) -> object:
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    return data.get("version") if isinstance(data, dict) else None


def build_router(provider: ServiceProvider, *, scrub_rules: ScrubRules | None = None) -> APIRouter:
    """The webhook and incident endpoints, served by whatever service ``provider`` returns."""
    scrub = {"scrub": scrub_rules or ScrubRules()}  # validation context: annotations are scrubbed
    router = APIRouter(tags=["alerting"])

    def service() -> AlertingService:
        svc = provider()
        if svc is None:
            raise HTTPException(503, "alert handling is starting or disabled")
        return svc

    Service = Annotated[AlertingService, Depends(service)]

    @router.post(WEBHOOK_PATH, status_code=202, summary="Alertmanager webhook (payload version 4)")
    async def webhook(request: Request, svc: Service) -> JSONResponse:
        if not svc.webhook_credentials.check(request.headers.get("authorization")):
            svc.metrics.webhook_rejected("unauthorized")
            return _problem(
                401, "invalid or missing credentials", {"WWW-Authenticate": 'Bearer, Basic realm="fanzwatch"'}
            )
        body = await _read_limited(request, svc.settings.max_body_bytes)
        if body is None:
            svc.metrics.webhook_rejected("too_large")
            return _problem(413, f"payload larger than {svc.settings.max_body_bytes} bytes")
        body = decode_webhook_body(body)
        try:
            payload = AlertmanagerPayload.model_validate_json(body, context=scrub)
        except ValidationError as exc:
            version = _version_of(body)
            if version is not None and version != "4":
                svc.metrics.webhook_rejected("unsupported_version")
                return _problem(400, f"unsupported webhook payload version {str(version)[:20]!r}: only version 4")
            svc.metrics.webhook_rejected("malformed")
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "body"
            return _problem(400, f"malformed Alertmanager payload at {where}: {first['msg']}"[:500])
        # The scrubbed payload is what is kept, never the personal data in the raw body.
        stored = await svc.inbox.store(payload.model_dump_json(by_alias=True), svc.clock.now())
        platforms = {a.labels.get("platform") for a in payload.alerts}
        svc.metrics.webhook_payloads.labels(
            svc.metrics.platform(platforms.pop() if len(platforms) == 1 else None), "accepted"
        ).inc()
        svc.payload_stored()
        return JSONResponse({"status": "accepted", "inbox_id": stored, "alerts": len(payload.alerts)}, 202)

    @router.get("/api/v1/incidents", summary="List incidents, newest first")
    async def list_incidents(
        svc: Service,
        status: Annotated[
            Literal["active", "triggered", "acknowledged", "resolving", "resolved"] | None, Query()
        ] = None,
        priority: Annotated[Priority | None, Query()] = None,
        platform: Annotated[str | None, Query(max_length=32)] = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 50,
        offset: Annotated[int, Query(ge=0)] = 0,
        order: Annotated[Literal["money", "newest"], Query()] = "money",
    ) -> dict[str, Any]:
        items, total = await svc.queries.page(
            status=status,
            priority=priority.value if priority else None,
            platform=platform,
            limit=limit,
            offset=offset,
            order=order,
        )
        return {"total": total, "limit": limit, "offset": offset, "order": order, "incidents": items}

    IncidentId = Annotated[int, Path(ge=1, le=2**62)]

    @router.get("/api/v1/incidents/{incident_id}", summary="One incident with its timeline")
    async def get_incident(svc: Service, incident_id: IncidentId) -> dict[str, Any]:
        found = await svc.queries.get(incident_id)
        if found is None:
            raise HTTPException(404, f"incident {incident_id} does not exist")
        return found

    async def _guarded(call: Any) -> Any:
        try:
            return await call
        except IncidentNotFoundError as exc:
            raise HTTPException(404, str(exc)) from None
        except IncidentStateError as exc:
            raise HTTPException(409, str(exc)) from None

    @router.post("/api/v1/incidents/{incident_id}/ack", summary="Acknowledge")
    async def ack(svc: Service, incident_id: IncidentId, body: AckRequest) -> dict[str, Any]:
        incident, changed = await _guarded(svc.operations.acknowledge(incident_id, by=body.by, now=svc.clock.now()))
        svc.dispatcher.wake()
        return {
            "id": incident.id,
            "status": incident.status.value,
            "acknowledged_by": incident.acknowledged_by,
            "changed": changed,
        }

    @router.post("/api/v1/incidents/{incident_id}/resolve", summary="Resolve")
    async def resolve(svc: Service, incident_id: IncidentId, body: ResolveRequest) -> dict[str, Any]:
        incident = await _guarded(
            svc.operations.resolve(
                incident_id, by=body.by, note=scrub_optional(body.note, rules=scrub_rules), now=svc.clock.now()
            )
        )
        svc.dispatcher.wake()
        return {"id": incident.id, "status": incident.status.value, "resolved_by": incident.resolved_by}

    @router.post("/api/v1/incidents/{incident_id}/notes", status_code=201, summary="Add a note")
    async def add_note(svc: Service, incident_id: IncidentId, body: NoteRequest) -> dict[str, Any]:
        text = scrub_text(body.text, rules=scrub_rules)
        await _guarded(svc.operations.add_note(incident_id, by=body.by, text=text, now=svc.clock.now()))
        return {"id": incident_id, "noted_by": body.by}

    @router.get("/api/v1/remediation/kill-switch", summary="Is automatic remediation stopped?")
    async def get_kill_switch(svc: Service) -> KillSwitchState:
        async with svc.engine.connect() as conn:
            return KillSwitchState(**await svc.kill_switch.state(conn))

    @router.put("/api/v1/remediation/kill-switch", summary="Stop or allow remediation")
    async def put_kill_switch(svc: Service, body: KillSwitchRequest) -> KillSwitchState:
        async with svc.engine.begin() as conn:
            await svc.kill_switch.set(conn, body.engaged, by=body.by, now=svc.clock.now())
            return KillSwitchState(**await svc.kill_switch.state(conn))

    @router.get("/api/v1/remediation/audit", summary="Remediation decisions, newest first")
    async def audit_log(
        svc: Service,
        playbook: Annotated[str | None, Query(max_length=64)] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> dict[str, Any]:
        return {"decisions": await svc.queries.audit_log(playbook=playbook, limit=limit)}

    return router

"""Incidents pages: the list (status, priority, platform and time filters, resolved ones
included) and one incident with its alerts, affected platforms, timeline, notifications
and remediation decisions, where a responder acknowledges, resolves or adds a note.

The actions are HTML forms (they work without JavaScript), each CSRF-checked and
allowed to the responder role, as the silence forms are; the route policy
(``fanzwatch.server.auth``) has already refused callers without that role.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from ...core.models import Priority
from ..auth import Role
from .charts import chart
from .context import DashContext, Section, attempt
from .errors import SourceError, not_configured, not_running
from .incident_budget import BudgetSpent, incident_budget
from .incidents import IncidentMissingError
from .security import CSRF_FIELD, AccessDeniedError
from .sources import Incident, IncidentDetail, IncidentFilter, IncidentSource
from .telemetry_links import incident_links

PAGE_SIZE = 50
SINCE = {"24h": timedelta(hours=24), "7d": timedelta(days=7), "30d": timedelta(days=30), "all": None}
PRIORITIES = tuple(p.value for p in Priority)
MAX_NAME = 128
MAX_TEXT = 10_000
_MAX_FORM = 32_768
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
DONE = {"acknowledged": "Acknowledged: escalation stopped.", "resolved": "Resolved.", "noted": "Note added."}


def money_chart(impact: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """Expected (with its interval) and actual revenue per minute over the incident, if priced."""
    series = impact.get("series") if impact else None
    if not isinstance(series, dict) or not series.get("t"):
        return None
    cur = str(impact.get("reporting_currency", "")) if impact else ""
    t = [float(x) for x in series["t"]]
    return chart(
        "Revenue per minute: expected and actual",
        "currency",
        [
            (f"{cur} actual", t, series["actual"]),
            (f"{cur} expected low", t, series["lower"]),
            (f"{cur} expected high", t, series["upper"]),
            (f"{cur} expected", t, series["expected"]),
        ],
        band=(1, 2),
        dashed=(1, 2, 3),
    )


def _source(ctx: DashContext) -> IncidentSource:
    found = ctx.sources().incidents
    if found is None:
        raise not_running(
            "incidents",
            "Incident tracking is not running in this server: it comes with the alerting feature "
            "(Alertmanager's webhook to fanzwatch).",
        )
    return found


async def _form(request: Request) -> dict[str, str]:
    if int(request.headers.get("content-length") or 0) > _MAX_FORM:
        return {}
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


def _name(value: str) -> str:
    """Who acts, as typed: 1-128 characters, no control characters."""
    name = " ".join(value.split())
    if not name:
        raise ValueError("Say who you are (your name) so the timeline shows who did it.")
    if len(name) > MAX_NAME or _CONTROL.search(name):
        raise ValueError(f"Your name must be at most {MAX_NAME} printable characters.")
    return name


def _incident_id(raw: str) -> int | None:
    return int(raw) if raw.isdigit() and 0 < len(raw) <= 18 else None


async def _budget(ctx: DashContext, detail: IncidentDetail) -> Section[list[BudgetSpent]] | None:
    """The error budget the incident consumed, per SLO of its alerts; None when it has none."""
    if not any(isinstance(labels := a.get("labels"), dict) and labels.get("sloth_id") for a in detail.alerts):
        return None
    prom = ctx.sources().prometheus
    i = detail.incident
    end = (i.resolved_at or ctx.clock.now()).timestamp()

    async def read() -> list[BudgetSpent]:
        if prom is None:
            raise not_configured("Prometheus", "FANZWATCH_DASH_PROMETHEUS_URL", "the SLO series")
        return await incident_budget(prom, detail.alerts, start=i.opened_at.timestamp(), end=end)

    return await attempt("the error budget", read())


def register(router: APIRouter, ctx: DashContext) -> None:
    @router.get("/incidents", response_class=HTMLResponse, summary="Incidents")
    async def incidents(request: Request) -> HTMLResponse:
        q = request.query_params
        problems: list[str] = []
        status = q.get("status", "active")
        source = ctx.sources().incidents
        statuses = source.statuses if source is not None else ()
        open_statuses = source.open_statuses if source is not None else ()
        if status not in ("active", "all", *statuses):
            problems.append(
                f"status {status[:20]!r} is not offered; choose active, all or one of {', '.join(statuses)}"
            )
            status = "active"
        priority = q.get("priority") or None
        if priority is not None and priority not in PRIORITIES:
            problems.append(f"priority {priority[:10]!r} is not offered; choose one of {', '.join(PRIORITIES)}")
            priority = None
        platform = q.get("platform") or None
        if platform is not None and platform not in ctx.platforms:
            problems.append(f"platform {platform[:40]!r} is not configured; choose one of {', '.join(ctx.platforms)}")
            platform = None
        since = q.get("since") or "7d"
        if since not in SINCE:
            problems.append(f"since {since[:10]!r} is not offered; choose one of {', '.join(SINCE)}")
            since = "7d"
        page_raw = q.get("page") or "1"
        page = int(page_raw) if page_raw.isdigit() and 0 < len(page_raw) < 6 else 0
        if page < 1:
            problems.append("page must be a whole number from 1")
            page = 1
        window = SINCE[since]
        wanted = IncidentFilter(
            statuses=open_statuses if status == "active" else () if status == "all" else (status,),
            priority=priority,
            platform=platform,
            opened_after=ctx.clock.now() - window if window is not None else None,
            limit=PAGE_SIZE,
            offset=(page - 1) * PAGE_SIZE,
        )

        async def read() -> tuple[list[Incident], int]:
            return await _source(ctx).search(wanted)

        result = await attempt("incidents", read())
        chosen = {"status": status, "priority": priority or "", "platform": platform or "", "since": since}
        total = result.data[1] if result.data else 0

        def page_url(n: int) -> str:
            return ctx.url("/incidents?" + urlencode({**{k: v for k, v in chosen.items() if v}, "page": n}))

        return ctx.render(
            request,
            "incidents.html",
            page="incidents",
            title="Incidents",
            status=400 if problems else 200,
            problems=problems,
            result=result,
            chosen=chosen,
            statuses=statuses,
            priorities=PRIORITIES,
            since_choices=tuple(SINCE),
            page_number=page,
            pages=max(1, -(-total // PAGE_SIZE)),
            page_url=page_url,
        )

    async def detail_page(
        request: Request,
        raw_id: str,
        *,
        status: int = 200,
        notice: str | None = None,
        problem: str | None = None,
        sign_in: bool = False,
        values: dict[str, str] | None = None,
    ) -> HTMLResponse:
        incident_id = _incident_id(raw_id)

        async def read() -> IncidentDetail | None:
            if incident_id is None:
                return None
            return await _source(ctx).detail(incident_id)

        result: Section[IncidentDetail | None] = await attempt("the incident", read())
        if result.ok and result.data is None:
            return ctx.render(
                request,
                "message.html",
                page="incidents",
                title="No such incident",
                status=404,
                message=f"There is no incident {raw_id[:20]!r}.",
                link=(ctx.url("/incidents?status=all&since=all"), "See every incident"),
            )
        title = result.data.incident.title if result.data else "Incident"
        budget = await _budget(ctx, result.data) if result.data else None
        money = money_chart(result.data.impact) if result.data else None
        links = None
        if result.data:
            found = result.data.incident
            links = incident_links(
                ctx.prefix, list(result.data.platforms), found.opened_at, found.resolved_at or ctx.clock.now()
            )
        return ctx.render(
            request,
            "incident.html",
            page="incidents",
            title=title,
            status=status,
            result=result,
            incident_id=raw_id,
            flash=notice,
            problem=problem,
            sign_in=sign_in,
            values=values or {},
            max_name=MAX_NAME,
            max_text=MAX_TEXT,
            telemetry=links,
            budget=budget,
            money_chart=money,
        )

    @router.get("/incidents/{incident_id}/report", summary="The post-incident report draft (Markdown)")
    async def incident_report(incident_id: str) -> Response:
        number = _incident_id(incident_id)
        try:
            text = await _source(ctx).report(number) if number is not None else None
        except SourceError as exc:
            return Response(f"{exc}\n", status_code=503, media_type="text/plain; charset=utf-8")
        if text is None:
            return Response(
                f"There is no incident {incident_id[:20]!r}.\n", status_code=404, media_type="text/plain; charset=utf-8"
            )
        return Response(text, media_type="text/markdown; charset=utf-8")

    @router.get("/incidents/{incident_id}/budget", summary="The error budget one incident consumed (JSON)")
    async def incident_budget_json(incident_id: str) -> JSONResponse:
        """Per SLO of the incident's alerts: budget share consumed and money burnt, start to end (or now)."""
        number = _incident_id(incident_id)
        try:
            detail = await _source(ctx).detail(number) if number is not None else None
        except SourceError as exc:
            return JSONResponse({"detail": str(exc)}, status_code=503)
        if detail is None:
            return JSONResponse({"detail": f"there is no incident {incident_id[:20]!r}"}, status_code=404)
        i = detail.incident
        end = i.resolved_at or ctx.clock.now()
        budget = await _budget(ctx, detail)
        if budget is not None and not budget.ok:
            return JSONResponse({"detail": budget.error}, status_code=503)
        return JSONResponse(
            {
                "incident_id": i.id,
                "start": i.opened_at.isoformat(),
                "end": end.isoformat(),
                "ongoing": i.resolved_at is None,
                "slos": [b.as_dict() for b in (budget.data or [])] if budget is not None else [],
            }
        )

    @router.get("/incidents/{incident_id}", response_class=HTMLResponse, summary="One incident")
    async def incident(request: Request, incident_id: str) -> HTMLResponse:
        done = request.query_params.get("done", "")
        return await detail_page(request, incident_id, notice=DONE.get(done))

    async def act(request: Request, raw_id: str, action: str) -> Response:
        values = await _form(request)
        kept = {"by": values.get("by", "")[:MAX_NAME], "text": values.get("text", "")[:MAX_TEXT]}
        try:
            ctx.auth.check_csrf(request, values.get(CSRF_FIELD, ""))
            ctx.auth.require(request, Role.RESPONDER)
        except AccessDeniedError as exc:
            return await detail_page(
                request,
                raw_id,
                status=401 if exc.sign_in else 403,
                problem=str(exc),
                sign_in=exc.sign_in,
                values=kept,
            )
        incident_id = _incident_id(raw_id)
        if incident_id is None:
            return await detail_page(request, raw_id)  # the 404 page
        text = values.get("text", "").strip()
        try:
            by = _name(values.get("by", ""))
            if action == "notes" and not text:
                raise ValueError("Write the note first: it is empty.")
            if len(text) > MAX_TEXT:
                raise ValueError(f"Notes are at most {MAX_TEXT:,} characters.")
        except ValueError as exc:
            return await detail_page(request, raw_id, status=400, problem=str(exc), values=kept)
        try:
            source = _source(ctx)
            if action == "ack":
                changed = await source.acknowledge(incident_id, by=by)
                done = "acknowledged" if changed else ""
                notice = None if changed else "It was already acknowledged: nothing changed."
            elif action == "resolve":
                await source.resolve(incident_id, by=by, note=text or None)
                done, notice = "resolved", None
            else:
                await source.add_note(incident_id, by=by, text=text)
                done, notice = "noted", None
        except IncidentMissingError:
            return await detail_page(request, raw_id)
        except SourceError as exc:
            status = 409 if isinstance(exc, ValueError) else 503
            return await detail_page(request, raw_id, status=status, problem=str(exc), values=kept)
        if notice is not None:
            return await detail_page(request, raw_id, notice=notice)
        return RedirectResponse(ctx.url(f"/incidents/{incident_id}?done={done}#timeline"), status_code=303)

    @router.post("/incidents/{incident_id}/ack", response_class=HTMLResponse, summary="Acknowledge an incident")
    async def acknowledge(request: Request, incident_id: str) -> Response:
        return await act(request, incident_id, "ack")

    @router.post("/incidents/{incident_id}/resolve", response_class=HTMLResponse, summary="Resolve an incident")
    async def resolve(request: Request, incident_id: str) -> Response:
        return await act(request, incident_id, "resolve")

    @router.post("/incidents/{incident_id}/notes", response_class=HTMLResponse, summary="Add a note to an incident")
    async def add_note(request: Request, incident_id: str) -> Response:
        return await act(request, incident_id, "notes")

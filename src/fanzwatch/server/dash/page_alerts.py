"""Alerts page: firing and silenced alerts with runbook links; create and expire silences."""

from __future__ import annotations

import asyncio
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ..auth import Role
from .context import DashContext, attempt
from .errors import SourceError, not_configured
from .page_overview import sort_alerts
from .security import CSRF_FIELD, AccessDeniedError
from .silences import DURATIONS, SilenceForm, SilenceFormError, matchers_for
from .sources import Alert, AlertmanagerSource, Silence

_MAX_FORM = 16_384


def _am(ctx: DashContext) -> AlertmanagerSource:
    am = ctx.sources().alertmanager
    if am is None:
        raise not_configured("Alertmanager", "FANZWATCH_DASH_ALERTMANAGER_URL", "Alertmanager")
    return am


async def _form(request: Request) -> dict[str, str]:
    if int(request.headers.get("content-length") or 0) > _MAX_FORM:
        return {}
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


def register(router: APIRouter, ctx: DashContext) -> None:
    async def page(
        request: Request,
        *,
        form: SilenceForm | None = None,
        status: int = 200,
        notice: str | None = None,
        problem: str | None = None,
        sign_in: bool = False,
    ) -> HTMLResponse:
        async def alerts() -> list[Alert]:
            return await _am(ctx).alerts()

        async def silences() -> list[Silence]:
            return await _am(ctx).silences()

        alert_section, silence_section = await asyncio.gather(
            attempt("Alertmanager alerts", alerts()), attempt("Alertmanager silences", silences())
        )
        all_alerts = alert_section.data or []
        if form is None:
            form = SilenceForm(created_by="")
            wanted = request.query_params.get("silence")
            chosen = next((a for a in all_alerts if a.fingerprint == wanted), None)
            if chosen is not None:
                form.matchers = matchers_for(chosen)
                form.comment = f"Silenced from FanzDash while {chosen.name} is handled"
        silences_all = silence_section.data or []
        return ctx.render(
            request,
            "alerts.html",
            page="alerts",
            title="Alerts",
            status=status,
            alerts=alert_section,
            firing=sort_alerts([a for a in all_alerts if a.state == "active"]),
            suppressed=sort_alerts([a for a in all_alerts if a.state != "active"]),
            silences=silence_section,
            current_silences=sorted((s for s in silences_all if s.state != "expired"), key=lambda s: s.ends_at),
            expired_silences=sorted((s for s in silences_all if s.state == "expired"), key=lambda s: s.ends_at)[::-1][
                :20
            ],
            form=form,
            durations=DURATIONS,
            flash=notice,
            problem=problem,
            sign_in=sign_in,
            am_url=getattr(ctx.sources().alertmanager, "url", None),
        )

    @router.get("/alerts", response_class=HTMLResponse, summary="Alerts and silences")
    async def alerts_page(request: Request) -> HTMLResponse:
        q = request.query_params
        notice = None
        if q.get("created"):
            notice = f"Silence {q['created'][:36]} created."
        elif q.get("expired"):
            notice = f"Silence {q['expired'][:36]} expired."
        return await page(request, notice=notice)

    def _denied(exc: AccessDeniedError) -> int:
        return 401 if exc.sign_in else 403

    @router.post("/alerts/silences", response_class=HTMLResponse, summary="Create a silence")
    async def create_silence(request: Request) -> Response:
        values = await _form(request)
        form = SilenceForm(
            matchers=values.get("matchers", ""),
            duration=values.get("duration", "1h"),
            created_by=values.get("created_by", ""),
            comment=values.get("comment", ""),
        )
        try:
            ctx.auth.check_csrf(request, values.get(CSRF_FIELD, ""))
            ctx.auth.require(request, Role.RESPONDER)
        except AccessDeniedError as exc:
            return await page(request, form=form, status=_denied(exc), problem=str(exc), sign_in=exc.sign_in)
        try:
            silence = form.to_request(ctx.clock.now())
        except SilenceFormError as exc:
            return await page(request, form=form, status=400, problem=str(exc))
        try:
            silence_id = await _am(ctx).create_silence(silence)
        except SourceError as exc:
            status = 400 if isinstance(exc, ValueError) else 503
            return await page(request, form=form, status=status, problem=str(exc))
        return RedirectResponse(ctx.url(f"/alerts?created={quote(silence_id)}#silences"), status_code=303)

    @router.post("/alerts/silences/{silence_id}/expire", response_class=HTMLResponse, summary="Expire a silence")
    async def expire_silence(request: Request, silence_id: str) -> Response:
        values = await _form(request)
        try:
            ctx.auth.check_csrf(request, values.get(CSRF_FIELD, ""))
            ctx.auth.require(request, Role.RESPONDER)
        except AccessDeniedError as exc:
            return await page(request, status=_denied(exc), problem=str(exc), sign_in=exc.sign_in)
        try:
            await _am(ctx).expire_silence(silence_id)
        except SourceError as exc:
            status = 400 if isinstance(exc, ValueError) else 503
            return await page(request, status=status, problem=str(exc))
        return RedirectResponse(ctx.url(f"/alerts?expired={quote(silence_id)}#silences"), status_code=303)

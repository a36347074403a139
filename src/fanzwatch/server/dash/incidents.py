"""``AlertingIncidentSource``: FanzDash's incidents, read and worked through the alerting service.

Reads use the service's queries (``IncidentQueries.get``, ``search_incidents``); the
actions are the same ``IncidentOperations`` the incident API calls, so a change made in
FanzDash is the same transaction, guard and timeline entry as one made with the API or
the CLI. Notes are scrubbed of personal data like the API's. The service is found through
a provider: it starts in the server's lifespan, after the router is built.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from ...alerting import AlertingService
from ...alerting.incidents.operations import IncidentNotFoundError, IncidentStateError
from ...alerting.incidents.queries import ACTIVE
from ...alerting.incidents.records import IncidentStatus
from ...alerting.incidents.search import search_incidents
from ...core.scrubbing import ScrubRules, scrub_optional, scrub_text
from ...impact import render_report
from .errors import SourceRejectedError, SourceUnavailableError
from .sources import Incident, IncidentDetail, IncidentFilter

__all__ = ["AlertingIncidentSource", "IncidentMissingError"]


class IncidentMissingError(SourceRejectedError):
    """There is no incident with that id (the page answers 404)."""


def _incident(row: Mapping[str, Any]) -> Incident:
    return Incident(
        id=str(row["id"]),
        title=str(row["title"]),
        priority=str(row["priority"]),
        status=str(row["status"]),
        opened_at=row["opened_at"],
        platform=row.get("platform"),
        resolved_at=row.get("resolved_at"),
        acknowledged_by=row.get("acknowledged_by"),
        alert_count=row.get("alert_count"),
        revenue_at_risk=row.get("revenue_at_risk"),
        revenue_currency=row.get("revenue_currency"),
    )


def _store_down(exc: Exception) -> SourceUnavailableError:
    return SourceUnavailableError(
        "incidents",
        f"the incident store could not be read ({type(exc).__name__}) — check the server's store "
        "(FANZWATCH_STORE_URL) and the server log",
    )


class AlertingIncidentSource:
    """Incidents from the ``AlertingService`` that ``get_service`` returns (None: not started)."""

    statuses = tuple(s.value for s in IncidentStatus)
    open_statuses = tuple(ACTIVE)

    def __init__(
        self,
        get_service: Callable[[], AlertingService | None],
        *,
        scrub_rules: ScrubRules | None = None,
        open_limit: int = 50,
    ) -> None:
        self._get_service = get_service
        self._scrub = scrub_rules
        self.open_limit = open_limit

    def _service(self) -> AlertingService:
        svc = self._get_service()
        if svc is None:
            raise SourceUnavailableError("incidents", "alert handling is starting or stopped in this server: reload")
        return svc

    async def incidents(self) -> list[Incident]:
        found, _total = await self.search(IncidentFilter(statuses=self.open_statuses, limit=self.open_limit))
        return found

    async def search(self, wanted: IncidentFilter) -> tuple[list[Incident], int]:
        svc = self._service()
        try:
            rows, total = await search_incidents(
                svc.engine,
                statuses=wanted.statuses,
                priority=wanted.priority,
                platform=wanted.platform,
                opened_after=wanted.opened_after,
                limit=wanted.limit,
                offset=wanted.offset,
            )
        except (SQLAlchemyError, OSError) as exc:
            raise _store_down(exc) from None
        return [_incident(r) for r in rows], total

    async def detail(self, incident_id: int) -> IncidentDetail | None:
        svc = self._service()
        try:
            row = await svc.queries.get(incident_id)
        except (SQLAlchemyError, OSError) as exc:
            raise _store_down(exc) from None
        if row is None:
            return None
        alerts = list(row.get("alerts", []))
        platforms = {str(row["platform"])} | {
            str(a["labels"]["platform"])
            for a in alerts
            if isinstance(a.get("labels"), dict) and a["labels"].get("platform")
        }
        return IncidentDetail(
            incident=_incident(row),
            summary=str(row.get("summary") or ""),
            runbook_url=row.get("runbook_url"),
            acknowledged_at=row.get("acknowledged_at"),
            resolved_by=row.get("resolved_by"),
            reopen_count=int(row.get("reopen_count") or 0),
            labels=dict(row.get("labels") or {}),
            platforms=tuple(sorted(platforms)),
            alerts=alerts,
            timeline=list(row.get("timeline", [])),
            notifications=list(row.get("notifications", [])),
            remediation=list(row.get("remediation", [])),
            impact=row.get("impact") if isinstance(row.get("impact"), dict) else None,
        )

    async def report(self, incident_id: int) -> str | None:
        svc = self._service()
        try:
            row = await svc.queries.get(incident_id)
        except (SQLAlchemyError, OSError) as exc:
            raise _store_down(exc) from None
        return render_report(row) if row is not None else None

    async def _act(self, incident_id: int, call: Any) -> Any:
        try:
            return await call
        except IncidentNotFoundError as exc:
            raise IncidentMissingError("incidents", str(exc).capitalize() + ".") from None
        except IncidentStateError as exc:
            raise SourceRejectedError("incidents", str(exc).capitalize() + ": nothing was changed.") from None
        except (SQLAlchemyError, OSError) as exc:
            raise SourceUnavailableError(
                "incidents",
                f"incident {incident_id} could not be changed ({type(exc).__name__}): nothing was changed; "
                "try again, and check the server log",
            ) from None

    async def acknowledge(self, incident_id: int, *, by: str) -> bool:
        svc = self._service()
        _incident_row, changed = await self._act(
            incident_id, svc.operations.acknowledge(incident_id, by=by, now=svc.clock.now())
        )
        svc.dispatcher.wake()  # the acknowledgement notifications
        return bool(changed)

    async def resolve(self, incident_id: int, *, by: str, note: str | None) -> None:
        svc = self._service()
        note = scrub_optional(note, rules=self._scrub)
        await self._act(incident_id, svc.operations.resolve(incident_id, by=by, note=note, now=svc.clock.now()))
        svc.dispatcher.wake()

    async def add_note(self, incident_id: int, *, by: str, text: str) -> None:
        svc = self._service()
        text = scrub_text(text, rules=self._scrub)
        await self._act(incident_id, svc.operations.add_note(incident_id, by=by, text=text, now=svc.clock.now()))

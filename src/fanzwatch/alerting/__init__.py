"""Alert handling: Alertmanager webhook → incidents → escalation, notifications, remediation.

The server composes it (see docs/alerting.md)::

    service = AlertingService(settings.alerting, engine, http, registry, clock, platforms=settings.platforms)
    await service.start()
    app.include_router(build_router(lambda: app.state.alerting))
"""

from .api import WEBHOOK_PATH, build_router
from .incidents.correlation import Explains
from .incidents.operations import IncidentNotFoundError, IncidentStateError
from .incidents.records import IncidentRecord, IncidentStatus
from .notify.base import DeliveryResult, Notification, NotificationEvent, Notifier
from .payload import AlertmanagerAlert, AlertmanagerPayload
from .remediation.actions import ActionResult, RemediationAction
from .remediation.process import HttpProcessControl, ProcessControl, ProcessControlError
from .service import AlertingService

__all__ = [
    "WEBHOOK_PATH",
    "ActionResult",
    "AlertingService",
    "AlertmanagerAlert",
    "AlertmanagerPayload",
    "DeliveryResult",
    "Explains",
    "HttpProcessControl",
    "IncidentNotFoundError",
    "IncidentRecord",
    "IncidentStateError",
    "IncidentStatus",
    "Notification",
    "NotificationEvent",
    "Notifier",
    "ProcessControl",
    "ProcessControlError",
    "RemediationAction",
    "build_router",
]

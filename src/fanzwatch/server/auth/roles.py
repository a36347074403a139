"""Roles and the principal: who is calling, as the route policy and page handlers see it.

The server's ``AuthMiddleware`` puts a ``Principal`` on every request, anonymous or not,
before any route runs. A handler that wants to *show* something only to some roles (a
FanzDash button) reads it; *enforcing* is the middleware's job, by route::

    from fanzwatch.server.auth import Role, principal_of

    async def incident_page(request: Request) -> HTMLResponse:
        who = principal_of(request)        # == request.state.principal
        can_ack = who.allows(Role.RESPONDER)
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Literal

from starlette.requests import HTTPConnection


class Role(IntEnum):
    """Each role can do everything the roles below it can."""

    VIEWER = 1  # reads: pages, incidents, RUM, BI, anomalies, /metrics, detailed /health
    RESPONDER = 2  # acknowledge, resolve, notes, silences
    ADMIN = 3  # the remediation kill switch and remediation settings

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, value: str) -> Role:
        try:
            return cls[value.upper()]
        except KeyError:
            raise ValueError(f"unknown role {value!r}: viewer, responder or admin") from None


Via = Literal["anonymous", "bearer", "session", "open-loopback"]


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller: a role (``None`` when anonymous) and how it was established."""

    role: Role | None
    via: Via

    @property
    def authenticated(self) -> bool:
        return self.role is not None

    def allows(self, required: Role | None) -> bool:
        """Whether this caller may do what needs ``required`` (``None``: anyone may)."""
        return required is None or (self.role is not None and self.role >= required)

    @property
    def label(self) -> str:
        return self.role.label if self.role is not None else "anonymous"


ANONYMOUS = Principal(None, "anonymous")


def principal_of(request: HTTPConnection) -> Principal:
    """The principal the auth middleware put on ``request`` (anonymous if it did not run)."""
    found = getattr(request.state, "principal", None)
    return found if isinstance(found, Principal) else ANONYMOUS

"""The route policy: which role each route of the app needs, decided in one place.

Rules are ``(methods, pattern, role)``, tried in order; the first whose methods include
the request's and whose pattern matches the *route template* (``/api/v1/incidents/{incident_id}/ack``)
decides. ``role=None`` means public. Anything no rule names falls to the defaults:
reads (GET, HEAD, OPTIONS) need **viewer**, every other method **responder**. So a route
another feature adds tomorrow is covered the day it lands, and only the exceptions are
written down: what is public, and what needs **admin**.

Patterns are shell-style (``fnmatch``) on the template: ``/api/v1/remediation/*``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase

from fastapi.routing import iter_route_contexts
from starlette.routing import BaseRoute, Mount, compile_path

from .roles import Role

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
ANY = frozenset({"*"})


@dataclass(frozen=True, slots=True)
class PolicyRule:
    methods: frozenset[str]
    pattern: str
    role: Role | None
    why: str = ""

    def matches(self, method: str, template: str) -> bool:
        return ("*" in self.methods or method in self.methods) and fnmatchcase(template, self.pattern)


def rule(methods: str, pattern: str, role: Role | None, why: str = "") -> PolicyRule:
    """``rule("GET HEAD", "/health/live", None, "probes")``; methods ``*`` for any."""
    return PolicyRule(frozenset(methods.upper().split()), pattern, role, why)


def default_rules(
    *, dash_prefix: str = "/dash", anonymous_metrics: bool = False, anonymous_health: bool = False
) -> tuple[PolicyRule, ...]:
    """The server's policy. Public: probes, the RUM beacon path and script, the alert webhook
    (it checks Alertmanager's own token), FanzDash sign-in and assets. Admin: remediation."""
    public = [
        rule("GET HEAD", "/health/live", None, "liveness probe"),
        rule("GET HEAD", "/health/ready", None, "readiness probe"),
        rule("* ", "/api/v1/analytics/*", None, "RUM beacons: origin, public key and rate rules of their own"),
        rule("GET HEAD", "/rum/fanz-rum.js", None, "the RUM script every platform page loads"),
        rule("POST", "/api/v1/alerts/webhook", None, "Alertmanager: checked against the webhook token"),
        rule("POST", "/v1/traces", None, "OTLP/HTTP: checked against the otlp_token"),
        rule("POST", "/v1/logs", None, "OTLP/HTTP: checked against the otlp_token"),
        rule("GET HEAD POST", f"{dash_prefix}/login", None, "FanzDash sign-in"),
        rule("POST", f"{dash_prefix}/logout", None, "signing out needs no role (CSRF-checked)"),
        rule("GET HEAD", f"{dash_prefix}/static/*", None, "FanzDash styles and script (the sign-in page uses them)"),
        rule("GET HEAD", "/", None, "a redirect to FanzDash"),
    ]
    if anonymous_metrics:
        public.append(rule("GET HEAD", "/metrics", None, "FANZWATCH_AUTH_ANONYMOUS_METRICS"))
    if anonymous_health:
        public += [
            rule("GET HEAD", "/health", None, "FANZWATCH_AUTH_ANONYMOUS_HEALTH"),
            rule("GET HEAD", "/health/checks/*", None, "FANZWATCH_AUTH_ANONYMOUS_HEALTH"),
        ]
    admin = [
        rule("* ", "/api/v1/remediation/kill-switch", Role.ADMIN, "reading it is a viewer's, see below"),
        rule("* ", "/api/v1/remediation/settings*", Role.ADMIN, "remediation settings"),
        rule("* ", "/api/v1/remediation/playbooks*", Role.ADMIN, "remediation playbooks"),
        rule("POST PUT PATCH DELETE", f"{dash_prefix}/remediation*", Role.ADMIN, "FanzDash remediation controls"),
    ]
    # Reading the kill switch and the audit stays a viewer's (the admin rules above are for writes).
    reads_of_admin_things = [rule("GET HEAD OPTIONS", "/api/v1/remediation/*", Role.VIEWER, "reads")]
    return (*public, *reads_of_admin_things, *admin)


@dataclass(frozen=True)
class RoutePolicy:
    """Decides the role a (method, route template) needs."""

    rules: tuple[PolicyRule, ...]

    def required(self, method: str, template: str) -> Role | None:
        for r in self.rules:
            if r.matches(method, template):
                return r.role
        return Role.VIEWER if method in READ_METHODS else Role.RESPONDER


@dataclass(frozen=True, slots=True)
class RouteTemplate:
    """One route of the app as the policy sees it: its template and methods."""

    template: str
    methods: frozenset[str]
    regex: re.Pattern[str]
    prefix: bool = False  # a Mount: the template matches everything below it


def route_templates(routes: Sequence[BaseRoute]) -> list[RouteTemplate]:
    """Every route the app serves (included routers flattened), in matching order."""
    out: list[RouteTemplate] = []
    for ctx in iter_route_contexts(routes):
        path = ctx.path
        if path is None:
            continue
        if isinstance(ctx.original_route, Mount):
            out.append(
                RouteTemplate(path.rstrip("/") + "/*", ANY, re.compile(re.escape(path.rstrip("/")) + "(/.*)?$"), True)
            )
            continue
        regex, _, _ = compile_path(path)
        out.append(RouteTemplate(path, frozenset(ctx.methods or ANY), regex))
    return out


def find_template(templates: Iterable[RouteTemplate], path: str, method: str) -> str | None:
    """The template of the route serving ``path``: one allowing ``method`` first, else any match."""
    fallback = None
    for t in templates:
        if t.regex.match(path):
            if "*" in t.methods or method in t.methods or (method == "HEAD" and "GET" in t.methods):
                return t.template
            fallback = fallback or t.template
    return fallback

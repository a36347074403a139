"""Authentication and roles for every route of the fanzwatch server.

One mechanism, applied by the server to the whole route table: ``AuthMiddleware``
identifies the caller (bearer token or FanzDash session) and enforces the
``RoutePolicy`` (method + route template → role). Feature routers declare nothing.
Page handlers read the caller with ``principal_of(request)``. See docs/security.md.
"""

from .authenticator import SESSION_COOKIE, Authenticator, check_bind, is_loopback
from .middleware import AuthMiddleware
from .policy import PolicyRule, RoutePolicy, RouteTemplate, default_rules, route_templates, rule
from .roles import ANONYMOUS, Principal, Role, principal_of
from .tokens import RoleTokens

__all__ = [
    "ANONYMOUS",
    "SESSION_COOKIE",
    "AuthMiddleware",
    "Authenticator",
    "PolicyRule",
    "Principal",
    "Role",
    "RoleTokens",
    "RoutePolicy",
    "RouteTemplate",
    "check_bind",
    "default_rules",
    "is_loopback",
    "principal_of",
    "route_templates",
    "rule",
]

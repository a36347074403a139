"""Credentials checks for the webhook and the incident API, in constant time.

The webhook accepts a bearer token or HTTP basic auth (Alertmanager's ``http_config``
supports both, with the secret read from a file). Comparisons use
``hmac.compare_digest`` on every part, so timing does not reveal how much matched.
With no credentials configured the endpoint is open: fine on loopback, and the service
logs a warning at start.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from dataclasses import dataclass


def _eq(given: bytes, expected: bytes) -> bool:
    return hmac.compare_digest(given, expected)


@dataclass(frozen=True, slots=True)
class Credentials:
    bearer: bytes | None = None
    basic: tuple[bytes, bytes] | None = None

    @property
    def configured(self) -> bool:
        return self.bearer is not None or self.basic is not None

    def check(self, authorization: str | None) -> bool:
        """Whether the ``Authorization`` header carries valid credentials (True when none are required)."""
        if not self.configured:
            return True
        if not authorization:
            return False
        scheme, _, value = authorization.strip().partition(" ")
        scheme = scheme.lower()
        value = value.strip()
        if scheme == "bearer" and self.bearer is not None:
            return _eq(value.encode(), self.bearer)
        if scheme == "basic" and self.basic is not None:
            try:
                decoded = base64.b64decode(value.encode("ascii"), validate=True)
            except (binascii.Error, UnicodeEncodeError):
                return False
            user, sep, password = decoded.partition(b":")
            # Both comparisons always run: no early exit on a wrong user name.
            ok_user = _eq(user, self.basic[0])
            ok_password = _eq(password, self.basic[1])
            return bool(sep) and ok_user and ok_password
        return False

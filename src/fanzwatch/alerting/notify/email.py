"""E-mail over SMTP (aiosmtplib): one plain-text message per recipient.

SMTP replies decide: ``2xx`` delivered, ``4xx`` (try again later) retried, ``5xx``
rejected; connection problems and timeouts are retried.

Every message has its own ``Message-ID`` (the delivery's receipt); the later messages
about an incident to the same address carry ``In-Reply-To`` and ``References`` naming
the first one, so mail clients show one thread per incident.
"""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import make_msgid
from typing import Literal

import aiosmtplib

from .base import DeliveryResult, Notification


def email_message(n: Notification, sender: str) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = n.headline[:250]
    msg["From"] = sender
    msg["To"] = n.address or ""
    domain = sender.rpartition("@")[2] or "fanzwatch.invalid"
    msg["Message-ID"] = (  # the same on every attempt, so a duplicate after a crash is recognisable
        f"<{n.message_key}.incident-{n.incident_id}@{domain}>"
        if n.message_key
        else make_msgid(f"fanzwatch.incident-{n.incident_id}", domain=domain)
    )
    if n.thread:
        msg["In-Reply-To"] = n.thread
        msg["References"] = n.thread
    msg["X-Fanzwatch-Incident"] = str(n.incident_id)
    lines = [
        n.headline,
        "",
        n.summary,
        "",
        f"Priority: {n.priority}",
        f"Status:   {n.status}",
        f"Platform: {n.platform}",
        *([f"Service:  {n.service}"] if n.service else []),
        f"Why you:  {n.reason}",
        *([f"Money:    {n.money}"] if n.money else []),
        "",
        f"Incident: {n.incident_url}",
        *([f"Runbook:  {n.runbook_url}"] if n.runbook_url else []),
    ]
    msg.set_content("\n".join(lines) + "\n")
    return msg


class EmailNotifier:
    kind = "email"

    def __init__(
        self,
        name: str,
        *,
        host: str,
        port: int,
        sender: str,
        username: str | None,
        password: str | None,
        security: Literal["starttls", "tls", "none"],
        timeout: float,
        concurrency: int,
    ) -> None:
        self.name = name
        self._host = host
        self._port = port
        self._sender = sender
        self._username = username
        self._password = password
        self._security = security
        self.timeout = timeout
        self.concurrency = concurrency

    async def send(self, notification: Notification) -> DeliveryResult:
        if not notification.address:
            return DeliveryResult.rejected(f"{notification.recipient} has no e-mail address")
        message = email_message(notification, self._sender)
        try:
            await aiosmtplib.send(
                message,
                hostname=self._host,
                port=self._port,
                username=self._username,
                password=self._password,
                use_tls=self._security == "tls",
                start_tls=self._security == "starttls",
                timeout=self.timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [r.code for r in exc.recipients]
            if all(400 <= c < 500 for c in codes):
                return DeliveryResult.retry(f"recipient deferred: SMTP {codes}")
            return DeliveryResult.rejected(f"recipient refused: SMTP {codes}")
        except aiosmtplib.SMTPResponseException as exc:
            detail = f"SMTP {exc.code}: {exc.message[:200]}"
            return DeliveryResult.retry(detail) if 400 <= exc.code < 500 else DeliveryResult.rejected(detail)
        except (aiosmtplib.SMTPException, OSError) as exc:
            return DeliveryResult.retry(type(exc).__name__)
        return DeliveryResult.delivered("SMTP 250", receipt=notification.thread or message["Message-ID"])

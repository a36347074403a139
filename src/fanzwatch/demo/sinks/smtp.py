"""The demo's mail server: aiosmtpd accepting every message for any recipient.

It speaks real SMTP (EHLO, MAIL FROM, RCPT TO, DATA), so the fanzwatch server's
``EmailNotifier`` delivers exactly as it would to a company relay; the message is parsed
and logged, never relayed anywhere.
"""

from __future__ import annotations

import asyncio
import logging
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

from .messages import MessageLog

logger = logging.getLogger(__name__)
MAX_MESSAGE_BYTES = 1024 * 1024


class MailHandler:
    """aiosmtpd handler: ``DATA`` → one logged message per mail."""

    def __init__(self, log: MessageLog) -> None:
        self._log = log

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        mail = message_from_bytes(raw, policy=policy.default)
        body = mail.get_body(preferencelist=("plain",)) if isinstance(mail, EmailMessage) else None
        text = body.get_content() if body is not None else ""
        self._log.add(
            "email",
            to=", ".join(envelope.rcpt_tos),
            title=str(mail.get("Subject", "(no subject)")),
            text=str(text).strip(),
            detail={
                "from": envelope.mail_from,
                "incident": mail.get("X-Fanzwatch-Incident"),
                "bytes": len(raw),
            },
        )
        return "250 Message accepted for delivery"


async def start_smtp(log: MessageLog, host: str, port: int) -> asyncio.Server:
    """Listen for SMTP on ``host:port`` on the running loop (close the server to stop)."""
    loop = asyncio.get_running_loop()
    handler = MailHandler(log)

    def protocol() -> Any:
        return SMTP(handler, data_size_limit=MAX_MESSAGE_BYTES, hostname="fanzwatch-demo-sinks")

    return await loop.create_server(protocol, host=host, port=port)

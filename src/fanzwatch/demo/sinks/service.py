"""The sinks as one process: the HTTP receivers and page, and the SMTP server, on one loop."""

from __future__ import annotations

import asyncio
from pathlib import Path

import uvicorn

from .app import create_sinks_app
from .messages import MessageLog
from .smtp import start_smtp


async def serve_sinks(*, host: str, http_port: int, smtp_port: int, log_path: Path | None) -> None:
    """Run until cancelled or signalled (uvicorn handles SIGINT/SIGTERM and returns)."""
    log = MessageLog(log_path)
    smtp = await start_smtp(log, host, smtp_port)
    app = create_sinks_app(log, smtp_address=f"{host}:{smtp_port}")
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=http_port, log_level="warning", access_log=False))
    try:
        await server.serve()
    finally:
        smtp.close()
        await smtp.wait_closed()


def run_sinks(*, host: str, http_port: int, smtp_port: int, log_path: Path | None) -> None:
    asyncio.run(serve_sinks(host=host, http_port=http_port, smtp_port=smtp_port, log_path=log_path))

"""Log records as OTLP logs: the same fields as the JSON lines, with the active span's ids.

``OtlpLogHandler`` is a ``logging.Handler`` that turns each record into an OpenTelemetry
log record on the service's ``LoggerProvider`` (batched, exported by OTLP/HTTP). The
record's body is the formatted message; ``extra=`` fields become attributes, with the
same redaction of secret-looking names as :class:`~fanzwatch.sdk.JsonFormatter`; inside
a request, ``fanz.request.id`` and ``fanz.platform`` (the request's tenant, as on its
server span) are added. The trace and span ids come from the context the record was
logged in, so a log line links to its trace.

Records of the exporters themselves (``opentelemetry.*``, ``fanzwatch.sdk.export``, and
whatever an exporting thread logs during an export, e.g. urllib3's), uvicorn's access log,
and of the loggers in ``excluded`` (or added with :meth:`exclude`) are not exported: an
export failure must not feed the export it failed to make, and a receiver's own logs must
not come back to it as log records.

>>> handler = OtlpLogHandler(provider, level=logging.INFO)
>>> logging.getLogger().addHandler(handler)
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Sequence
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry._logs import Logger, SeverityNumber
from opentelemetry.sdk._logs import LoggerProvider

from .export import in_export
from .json_logs import _STANDARD, REDACTED, SECRET_KEY
from .request_id import REQUEST_ID, REQUEST_PLATFORM

EXCLUDED_LOGGERS = ("opentelemetry", "fanzwatch.sdk.export", "uvicorn.access")
MAX_ATTRIBUTE_CHARS = 4096
_SEVERITY = (
    (logging.CRITICAL, SeverityNumber.FATAL, "FATAL"),
    (logging.ERROR, SeverityNumber.ERROR, "ERROR"),
    (logging.WARNING, SeverityNumber.WARN, "WARN"),
    (logging.INFO, SeverityNumber.INFO, "INFO"),
    (logging.DEBUG, SeverityNumber.DEBUG, "DEBUG"),
)


def severity_of(levelno: int) -> tuple[SeverityNumber, str]:
    """The OTel severity of a ``logging`` level (WARNING is WARN, CRITICAL is FATAL)."""
    for floor, number, text in _SEVERITY:
        if levelno >= floor:
            return number, text
    return SeverityNumber.TRACE, "TRACE"


def _attribute(value: Any) -> Any:
    if isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        return value[:MAX_ATTRIBUTE_CHARS]
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        return [v[:MAX_ATTRIBUTE_CHARS] for v in value[:64]]
    return str(value)[:MAX_ATTRIBUTE_CHARS]


class OtlpLogHandler(logging.Handler):
    """Hands log records to an OpenTelemetry ``LoggerProvider``; never raises into the caller."""

    def __init__(
        self,
        provider: LoggerProvider,
        *,
        level: int = logging.INFO,
        excluded: Sequence[str] = EXCLUDED_LOGGERS,
    ) -> None:
        super().__init__(level=level)
        self.provider = provider
        self._excluded = tuple(excluded)
        self._loggers: dict[str, Logger] = {}

    def exclude(self, *names: str) -> None:
        """Also leave out these loggers and everything below them."""
        self._excluded = (*self._excluded, *names)

    def _skip(self, name: str) -> bool:
        return any(name == e or name.startswith(e + ".") for e in self._excluded)

    def emit(self, record: logging.LogRecord) -> None:
        if self._skip(record.name) or in_export():
            return
        try:
            otel_logger = self._loggers.get(record.name)
            if otel_logger is None:
                if len(self._loggers) >= 1024:  # logger names are code, but stay bounded anyway
                    self._loggers.clear()
                otel_logger = self._loggers[record.name] = self.provider.get_logger(record.name)
            number, text = severity_of(record.levelno)
            otel_logger.emit(
                timestamp=int(record.created * 1e9),
                context=otel_context.get_current(),
                severity_number=number,
                severity_text=text,
                body=record.getMessage(),
                attributes=self._attributes(record),
            )
        except Exception:
            self.handleError(record)

    def _attributes(self, record: logging.LogRecord) -> dict[str, Any]:
        attrs: dict[str, Any] = {"logger.name": record.name}
        request_id = REQUEST_ID.get()
        if request_id is not None:
            attrs["fanz.request.id"] = request_id
        platform = REQUEST_PLATFORM.get()
        if platform is not None:
            # The tenant of the request, as on its server span: one multi-tenant process's
            # resource names only its first platform.
            attrs["fanz.platform"] = platform()
        for key, value in record.__dict__.items():
            if key in _STANDARD or key.startswith("_") or key in attrs:
                continue
            attrs[key] = REDACTED if SECRET_KEY.search(key) else _attribute(value)
        if record.exc_info and record.exc_info[0] is not None:
            attrs["exception.type"] = record.exc_info[0].__name__
            attrs["exception.message"] = str(record.exc_info[1])[:MAX_ATTRIBUTE_CHARS]
            attrs["exception.stacktrace"] = "".join(traceback.format_exception(*record.exc_info))[-16_384:]
        return attrs

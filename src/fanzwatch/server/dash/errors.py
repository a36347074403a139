"""What can go wrong when FanzDash reads a source, in words that say what to do.

A page never fails because one of its sources did: each section catches a
``SourceError`` and shows its message in place of the data.
"""

from __future__ import annotations

from ...core.errors import FanzwatchError


class SourceError(FanzwatchError, RuntimeError):
    """A source could not answer. ``str(err)`` is a sentence for the page, with a hint."""

    def __init__(self, source: str, message: str) -> None:
        super().__init__(message)
        self.source = source


class SourceUnavailableError(SourceError):
    """The source is down, timed out, failed on its side, or is not configured."""


class SourceRejectedError(SourceError, ValueError):
    """The source understood the request and refused it (bad query, bad silence)."""


def not_running(source: str, message: str) -> SourceUnavailableError:
    """The error a page shows for a feature that this server does not run at all."""
    return SourceUnavailableError(source, message)


def not_configured(source: str, setting: str, what: str) -> SourceUnavailableError:
    """The error a page shows for a source the server was started without."""
    return SourceUnavailableError(source, f"{what} is not configured in this server: set {setting} and restart it.")

"""The error hierarchy: one root, each subclass also the built-in it refines."""

from __future__ import annotations


class FanzwatchError(Exception):
    """Root of every error fanzwatch raises on purpose."""


class ConfigError(FanzwatchError, ValueError):
    """A setting or definition is invalid.

    ``setting`` names what was wrong so the message can say what to change.
    """

    def __init__(self, message: str, *, setting: str | None = None) -> None:
        super().__init__(message)
        self.setting = setting


class UnknownMetricError(FanzwatchError, KeyError):
    """A metric name is not in the catalog."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name

    def __str__(self) -> str:
        return f"metric {self.name!r} is not in the fanzwatch catalog (see docs/metrics.md)"


class LabelError(FanzwatchError, ValueError):
    """Labels given for a metric do not match its catalog entry."""

    def __init__(self, metric: str, message: str) -> None:
        super().__init__(f"{metric}: {message}")
        self.metric = metric


class DependencyMissingError(FanzwatchError, RuntimeError):
    """An external program or package fanzwatch needs is not installed.

    ``install_hint`` is the command that installs it.
    """

    def __init__(self, what: str, install_hint: str) -> None:
        super().__init__(f"{what} is not installed; install it with: {install_hint}")
        self.what = what
        self.install_hint = install_hint

"""The registry: the named set of checks a runner runs."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from ..core.errors import ConfigError, FanzwatchError
from ._check import HealthCheck, validate_check_name


class UnknownCheckError(FanzwatchError, KeyError):
    """No check has this name; ``known`` lists the names that exist."""

    def __init__(self, name: str, known: Iterable[str]) -> None:
        super().__init__(name)
        self.name = name
        self.known = tuple(sorted(known))

    def __str__(self) -> str:
        known = ", ".join(self.known) or "none"
        return f"no health check named {self.name!r}; known checks: {known}"


class HealthCheckRegistry:
    """Checks by name, in registration order; names are unique and validated.

    >>> registry = HealthCheckRegistry()
    >>> registry.register(SqlCheck("database", url="sqlite:///app.db"))  # doctest: +SKIP
    """

    def __init__(self, checks: Iterable[HealthCheck] = ()) -> None:
        self._checks: dict[str, HealthCheck] = {}
        for check in checks:
            self.register(check)

    def register(self, check: HealthCheck) -> HealthCheck:
        """Add a check; a second check with the same name is a ``ConfigError``."""
        name = validate_check_name(check.name)
        if name in self._checks:
            raise ConfigError(f"a health check named {name!r} is already registered", setting="health.checks")
        if check.timeout is not None and check.timeout <= 0:
            raise ConfigError(f"health check {name!r}: timeout must be positive", setting="health.checks.timeout")
        self._checks[name] = check
        return check

    def get(self, name: str) -> HealthCheck:
        """The check called ``name``; ``UnknownCheckError`` (a ``KeyError``) if there is none."""
        try:
            return self._checks[name]
        except KeyError:
            raise UnknownCheckError(name, self._checks) from None

    def __iter__(self) -> Iterator[HealthCheck]:
        return iter(list(self._checks.values()))

    def __len__(self) -> int:
        return len(self._checks)

    def __contains__(self, name: object) -> bool:
        return name in self._checks

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._checks)

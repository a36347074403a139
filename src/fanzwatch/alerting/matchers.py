"""Alertmanager-style label matchers, evaluated against an alert's labels.

A missing label matches as the empty string (Alertmanager's rule), so ``team!="ops"``
matches an alert without a ``team`` label and ``team=""`` selects alerts without one.
Regular expressions are anchored at both ends.

>>> LabelMatcher.parse('service=~"pay.*"').matches({"service": "payments"})
True
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ..settings.alerting import MatcherConfig


@dataclass(frozen=True, slots=True)
class LabelMatcher:
    name: str
    op: str
    value: str
    _regex: re.Pattern[str] | None = None

    @classmethod
    def from_config(cls, config: MatcherConfig) -> LabelMatcher:
        regex = re.compile(config.value) if config.op in ("=~", "!~") else None
        return cls(config.name, config.op, config.value, regex)

    @classmethod
    def parse(cls, text: str) -> LabelMatcher:
        return cls.from_config(MatcherConfig.model_validate(text))

    def matches(self, labels: Mapping[str, str]) -> bool:
        actual = labels.get(self.name, "")
        if self.op == "=":
            return actual == self.value
        if self.op == "!=":
            return actual != self.value
        assert self._regex is not None
        hit = self._regex.fullmatch(actual) is not None
        return hit if self.op == "=~" else not hit

    def __str__(self) -> str:
        escaped = self.value.replace("\\", "\\\\").replace('"', '\\"')
        return f'{self.name}{self.op}"{escaped}"'


def compile_matchers(configs: Iterable[MatcherConfig]) -> tuple[LabelMatcher, ...]:
    return tuple(LabelMatcher.from_config(c) for c in configs)


def match_all(matchers: Iterable[LabelMatcher], labels: Mapping[str, str]) -> bool:
    """True when every matcher matches (an empty set matches everything)."""
    return all(m.matches(labels) for m in matchers)


@dataclass(frozen=True, slots=True)
class AnyOf:
    """Labels matching every matcher of at least one set of ``alternatives`` (an "or" of matcher sets).

    What one correlation rule takes part with: a payment processor's own alerts are its health
    checks *or* its probes *or* its scrape target being down, each a set of matchers.

    >>> down = AnyOf(((LabelMatcher.parse('alertname="TargetDown"'), LabelMatcher.parse('job="payment-processor"')),))
    >>> down.matches({"alertname": "TargetDown", "job": "payment-processor"})
    True
    """

    alternatives: tuple[tuple[LabelMatcher, ...], ...]

    @classmethod
    def of(cls, *alternatives: Iterable[LabelMatcher]) -> AnyOf:
        return cls(tuple(tuple(a) for a in alternatives))

    def matches(self, labels: Mapping[str, str]) -> bool:
        """True when one set matches whole (no set: nothing matches; an empty set: everything)."""
        return any(match_all(matchers, labels) for matchers in self.alternatives)

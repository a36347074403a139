"""Alert label values are untrusted input: check them before an action may use them.

A playbook lists ``label_rules`` (label → regex). Every rule's label must be present and
fully match its regex (and be at most ``MAX_VALUE`` characters) or the action is refused.
Only checked values reach templates, where ``{label}`` placeholders are substituted; in
URLs they are percent-encoded as well.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import quote

from ...core.errors import FanzwatchError
from ...settings.alerting import PLACEHOLDER

MAX_VALUE = 128


class LabelRejectedError(FanzwatchError, ValueError):
    def __init__(self, label: str, reason: str) -> None:
        super().__init__(f"label {label!r} {reason}")
        self.label = label
        self.reason = reason


class LabelRules:
    def __init__(self, rules: Mapping[str, str]) -> None:
        self._rules = {label: re.compile(pattern) for label, pattern in rules.items()}

    def check(self, labels: Mapping[str, str]) -> dict[str, str]:
        """The allow-listed values; raises ``LabelRejectedError`` naming the first bad label."""
        out = {}
        for label, pattern in self._rules.items():
            value = labels.get(label)
            if value is None:
                raise LabelRejectedError(label, "is missing")
            if len(value) > MAX_VALUE or pattern.fullmatch(value) is None:
                raise LabelRejectedError(label, f"value {value[:MAX_VALUE]!r} does not match {pattern.pattern!r}")
            out[label] = value
        return out


def render(template: str, values: Mapping[str, str], *, url: bool = False) -> str:
    """Substitute ``{label}`` placeholders (validated when the settings were loaded)."""
    return PLACEHOLDER.sub(lambda m: quote(values[m.group(1)], safe="") if url else values[m.group(1)], template)

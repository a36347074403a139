"""Reading the silence form: matchers in Alertmanager's own syntax, a duration, who and why.

>>> parse_matchers('alertname="HighErrorRate", platform=~"fanz-(1|2)"')[1].operator
'=~'
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from .sources import Alert, Matcher, SilenceRequest

DURATIONS = {
    "30m": timedelta(minutes=30),
    "1h": timedelta(hours=1),
    "2h": timedelta(hours=2),
    "4h": timedelta(hours=4),
    "8h": timedelta(hours=8),
    "1d": timedelta(days=1),
    "3d": timedelta(days=3),
    "1w": timedelta(weeks=1),
}
MAX_MATCHERS = 20
_MATCHER = re.compile(
    r"\s*(?P<name>[a-zA-Z_][a-zA-Z0-9_]*)\s*(?P<op>=~|!~|!=|=)\s*"
    r'(?:"(?P<quoted>(?:[^"\\]|\\.)*)"|(?P<bare>[^,"\s]+))\s*(?P<sep>,|\n|$)'
)


class SilenceFormError(ValueError):
    """The form cannot become a silence; the message says what to fix."""


def parse_matchers(text: str) -> tuple[Matcher, ...]:
    """``name="value"`` pairs separated by commas or new lines; ``=``, ``!=``, ``=~``, ``!~``."""
    text = text.strip()
    if not text:
        raise SilenceFormError('add at least one matcher, e.g. alertname="HighErrorRate"')
    if len(text) > 4000:
        raise SilenceFormError("matchers are too long (at most 4000 characters)")
    out: list[Matcher] = []
    pos = 0
    while pos < len(text):
        m = _MATCHER.match(text, pos)
        if m is None or m.end() == pos:
            shown = text[pos : pos + 40].strip()
            raise SilenceFormError(f'cannot read the matcher at "{shown}": write name="value" (or =~, !=, !~)')
        raw = m.group("quoted") if m.group("quoted") is not None else m.group("bare")
        value = re.sub(r"\\(.)", r"\1", raw)
        op = m.group("op")
        if op in ("=~", "!~"):
            try:
                re.compile(value)
            except re.error as exc:
                raise SilenceFormError(
                    f"{m.group('name')}: {value!r} is not a valid regular expression ({exc})"
                ) from None
        out.append(Matcher(m.group("name"), value, is_regex="~" in op, is_equal=not op.startswith("!")))
        pos = m.end()
    if len(out) > MAX_MATCHERS:
        raise SilenceFormError(f"at most {MAX_MATCHERS} matchers")
    if all(_matches_empty(m) for m in out):
        raise SilenceFormError("at least one matcher must need a non-empty value (a silence would match everything)")
    return tuple(out)


def _matches_empty(m: Matcher) -> bool:
    hit = re.fullmatch(m.value, "") is not None if m.is_regex else m.value == ""
    return hit == m.is_equal


@dataclass
class SilenceForm:
    """The form's values as typed (for re-display) and the problems found."""

    matchers: str = ""
    duration: str = "1h"
    created_by: str = ""
    comment: str = ""
    errors: list[str] = field(default_factory=list)

    def to_request(self, now: datetime) -> SilenceRequest:
        """The silence to create; ``SilenceFormError`` listing every problem otherwise."""
        problems: list[str] = []
        matchers: tuple[Matcher, ...] = ()
        try:
            matchers = parse_matchers(self.matchers)
        except SilenceFormError as exc:
            problems.append(f"Matchers: {exc}")
        if self.duration not in DURATIONS:
            problems.append(f"Duration: choose one of {', '.join(DURATIONS)}")
        if not self.created_by.strip():
            problems.append("Created by: say who you are, so others know whom to ask")
        elif len(self.created_by) > 100:
            problems.append("Created by: at most 100 characters")
        if not self.comment.strip():
            problems.append("Comment: say why (an incident link or a reason)")
        elif len(self.comment) > 1000:
            problems.append("Comment: at most 1000 characters")
        if problems:
            raise SilenceFormError("; ".join(problems))
        return SilenceRequest(
            matchers=matchers,
            starts_at=now,
            ends_at=now + DURATIONS[self.duration],
            created_by=self.created_by.strip(),
            comment=self.comment.strip(),
        )


def matchers_for(alert: Alert) -> str:
    """Matchers that silence exactly this alert (all of its labels)."""
    return ", ".join(str(Matcher(k, v)) for k, v in sorted(alert.labels.items()))

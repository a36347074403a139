"""Alert correlation rules for ``fanzwatch.alerting``, from provisioning's definitions.

What explains what is written once, in provisioning: ``routing.inhibit_rules`` (a
critical alert explains its warning twin) and ``dependencies.DEPENDENCIES`` (a failing
dependency explains its symptoms). Feature packages never import one another, so the
server converts them into alerting's ``Explains`` here.

>>> AlertingService(settings, engine, http, registry, clock, explains=correlation_rules())
"""

from __future__ import annotations

from collections.abc import Iterable

from ..alerting.incidents.correlation import Explains
from ..alerting.matchers import LabelMatcher
from ..provisioning.alertmanager import Matcher
from ..provisioning.definitions.dependencies import DEPENDENCIES
from ..provisioning.definitions.routing import inhibit_rules
from ..settings.alerting import MatcherConfig


def _matchers(matchers: Iterable[Matcher]) -> tuple[LabelMatcher, ...]:
    return tuple(LabelMatcher.from_config(MatcherConfig(name=m.name, op=m.op, value=m.value)) for m in matchers)


def correlation_rules() -> tuple[Explains, ...]:
    """Severity twins (no cause in the title), then dependencies (their name is the probable cause)."""
    twins = tuple(
        Explains("", _matchers(r.source), _matchers(r.target), r.equal, symptoms_correlate=False)
        for r in inhibit_rules()
    )
    dependencies = tuple(Explains(d.name, _matchers(d.alerts), _matchers(d.symptoms), d.equal) for d in DEPENDENCIES)
    return twins + dependencies

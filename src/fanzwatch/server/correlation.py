"""Alert correlation rules for ``fanzwatch.alerting``, from provisioning's definitions.

What explains what is written once, in provisioning: ``routing.twin_rules`` (a
critical alert explains its warning twin, a faster burn-rate tier its slower paging
tiers) and ``dependencies.DEPENDENCIES`` (a failing dependency explains its symptoms).
Feature packages never import one another, so the server converts them into alerting's
``Explains`` here.

The anomaly engine's alert is a *meta* alert (a judgement about series the rules watch
too): alerting is told its name, so it never joins a dependency's incident nor raises a
priority by itself.

>>> AlertingService(..., explains=correlation_rules(settings.platforms), meta_alerts=META_ALERTS)
"""

from __future__ import annotations

from collections.abc import Iterable

from ..alerting.incidents.correlation import Explains
from ..alerting.matchers import AnyOf, LabelMatcher
from ..anomaly.engine.alertmanager import ALERTNAME as ANOMALY_ALERTNAME
from ..provisioning.alertmanager import Matcher
from ..provisioning.definitions.dependencies import DEPENDENCIES
from ..provisioning.definitions.routing import twin_rules
from ..provisioning.definitions.slos import SLOS
from ..provisioning.slo import SLO
from ..settings.alerting import MatcherConfig


def _matchers(matchers: Iterable[Matcher]) -> tuple[LabelMatcher, ...]:
    return tuple(LabelMatcher.from_config(MatcherConfig(name=m.name, op=m.op, value=m.value)) for m in matchers)


META_ALERTS = frozenset({ANOMALY_ALERTNAME})


def correlation_rules(platforms: tuple[str, ...], slos: Iterable[SLO] = SLOS) -> tuple[Explains, ...]:
    """Severity twins (no cause in the title), then dependencies (their name is the probable cause).

    ``platforms``: the configured ones, which a dependency without its own list serves.
    ``slos``: whose burn-rate tiers are twins (a faster tier explains a slower paging one); the
    built-in definitions by default, the only ones that can choose their own tiers
    (OpenSLO files always get the default tiers, which the built-ins use too).
    """
    twins = tuple(
        Explains("", AnyOf.of(_matchers(r.source)), AnyOf.of(_matchers(r.target)), r.equal, symptoms_correlate=False)
        for r in twin_rules(slos)
    )
    dependencies = tuple(
        Explains(
            d.name,
            AnyOf.of(*map(_matchers, d.alerts)),
            AnyOf.of(*map(_matchers, d.symptoms)),
            d.equal,
            serves=frozenset(d.serves if d.serves is not None else platforms),
        )
        for d in DEPENDENCIES
    )
    return twins + dependencies

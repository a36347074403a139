"""An :class:`~fanzwatch.provisioning.slo.SLO` rendered to recording rules and burn-rate alerts.

The names and labels are Sloth's (``slo:sli_error:ratio_rate<W>``, ``slo:objective:ratio``,
``slo:error_budget:ratio``, ``slo:time_period:days``, ``slo:current_burn_rate:ratio``,
``slo:period_burn_rate:ratio``, ``slo:period_error_budget_remaining:ratio``,
``sloth_slo_info``; ``sloth_id``, ``sloth_slo``, ``sloth_service``, ``sloth_window``), so
Sloth's Grafana dashboards work unchanged. Two differences, both deliberate:

- the period's error ratio is counted from events (bad events in the period / all events
  in it), not averaged over 5-minute ratios, so a quiet night weighs what it weighs;
- the calendar month cannot be a PromQL range (its length changes), so its totals are
  5-minute steps of a subquery kept while their month is the evaluation's month
  (``@ end()`` pins "now" inside the subquery).

Money SLOs add ``slo:bad_events_value:currency`` (counted from the value's ``amount``
counter where it has one, else bad events × ``price``), ``slo:error_budget:currency`` and
``slo:error_budget_remaining:currency``, per the value's labels (platform and currency).
Everything of one SLO is one rule group, evaluated in order: SLI windows, period, metadata,
money, alerts.
"""

from __future__ import annotations

from ..core.catalog import slo as cat
from .rules import AlertRule, RecordingRule, RuleGroup
from .slo import SLO, BurnRateTier, SloPeriod, with_window

_NOW = "max_over_time(vector(time())[1s:1s] @ end())"
"""The evaluation time, even inside a subquery (``@ end()`` pins it)."""
_ID_LABELS = ("sloth_id", "sloth_slo", "sloth_service")


def _g(value: float) -> str:
    return f"{value:.12g}"


def _ids(slo: SLO) -> dict[str, str]:
    return {"sloth_id": slo.id, "sloth_service": slo.service, "sloth_slo": slo.name}


def _filter(slo: SLO) -> str:
    return "{" + ", ".join(f'{k}="{v}"' for k, v in _ids(slo).items()) + "}"


def _on(labels: tuple[str, ...]) -> str:
    return f"on ({', '.join(labels)})"


def _zero_filled(errors: str, total: str) -> str:
    """Bad events, or 0 wherever there are events but none bad (a ratio of 0 %, not a gap)."""
    return f"(\n  {errors}\n  or 0 * {total}\n)"


def _month(ts: str) -> str:
    return f"(year({ts}) * 12 + month({ts}))"


def period_events(query: str, period: SloPeriod) -> str:
    """Events in the period from a rate ``query``.

    Rolling: rate over the period × its seconds. Calendar month: the month's whole hours
    (1-hour steps of a subquery, kept while the hour *before* the step lies in the
    evaluation's month) plus the current hour's 5-minute steps. The filters test each
    step's own timestamp, so they cost nothing where there is no data.
    """
    if period.rolling:
        return f"({with_window(query, period.value)}) * {period.days * 86400}"
    hours, minutes = with_window(query, "1h"), with_window(query, "5m")
    full_hours = (
        f"sum_over_time((\n  {hours}\n  and {_month(f'timestamp({hours}) - 3600')} == scalar({_month(_NOW)})\n"
        f")[{period.days}d:1h]) * 3600"
    )
    this_hour = (
        f"sum_over_time((\n  {minutes}\n"
        f"  and floor((timestamp({minutes}) - 300) / 3600) == scalar(floor({_NOW} / 3600))\n"
        ")[1h:5m]) * 300"
    )
    return (
        "sum without (slo_part) (\n"
        f'label_replace({full_hours}, "slo_part", "hours", "", "")\n'
        f'or label_replace({this_hour}, "slo_part", "minutes", "", "")\n)'
    )


def _sli_rule(slo: SLO, window: str) -> RecordingRule:
    errors, total = with_window(slo.sli.errors, window), with_window(slo.sli.total, window)
    expr = f"{_zero_filled(errors, total)}\n/\n({total})"
    return RecordingRule(cat.sli_error_name(window), expr, labels={**_ids(slo), "sloth_window": window, **slo.labels})


def _period_rule(slo: SLO) -> RecordingRule:
    p = slo.period
    bad = period_events(_zero_filled(slo.sli.errors, slo.sli.total), p)
    expr = f"(\n{bad}\n)\n/\n(\n{period_events(slo.sli.total, p)}\n)"
    return RecordingRule(cat.sli_error_name(p.value), expr, labels={**_ids(slo), "sloth_window": p.value, **slo.labels})


def _burn(sli_metric: str, slo: SLO) -> str:
    f = _filter(slo)
    return f"{sli_metric}{f}\n/ {_on(_ID_LABELS)} group_left\n{cat.ERROR_BUDGET.name}{f}"


def _metadata_rules(slo: SLO) -> tuple[RecordingRule, ...]:
    labels = {**_ids(slo), **slo.labels}
    days = "days_in_month()" if slo.period is SloPeriod.CALENDAR_MONTH else f"vector({slo.period.days})"
    info = {
        **labels,
        "sloth_mode": slo.mode,
        "sloth_objective": _g(slo.objective * 100),
        "sloth_spec": "openslo/v1" if slo.mode == "openslo" else "fanzwatch/v1",
        "sloth_version": "fanzwatch",
    }
    return (
        RecordingRule(cat.OBJECTIVE.name, f"vector({_g(slo.objective)})", labels=labels),
        RecordingRule(cat.ERROR_BUDGET.name, f"vector({_g(slo.error_budget)})", labels=labels),
        RecordingRule(cat.TIME_PERIOD.name, days, labels=labels),
        RecordingRule(cat.CURRENT_BURN_RATE.name, _burn(cat.sli_error_name("5m"), slo), labels=labels),
        RecordingRule(cat.PERIOD_BURN_RATE.name, _burn(cat.sli_error_name(slo.period.value), slo), labels=labels),
        RecordingRule(
            cat.PERIOD_BUDGET_REMAINING.name, f"1 - {cat.PERIOD_BURN_RATE.name}{_filter(slo)}", labels=labels
        ),
        RecordingRule(cat.INFO.name, "vector(1)", labels=info),
    )


def _money_rules(slo: SLO) -> tuple[RecordingRule, ...]:
    if slo.value is None:
        return ()
    v, p = slo.value, slo.period
    labels = {**_ids(slo), **slo.labels}
    on = _on(v.labels)
    f = _filter(slo)
    if v.amount is None:
        bad = f"(\n{period_events(_zero_filled(v.errors, v.total), p)}\n)\n* {on}\n({v.price})"
    else:  # counted: what the bad events were worth, 0 where there were events but none bad
        bad = period_events(_zero_filled(v.amount, v.total), p)
    return (
        RecordingRule(cat.BAD_EVENTS_VALUE.name, bad, labels=labels),
        RecordingRule(
            cat.ERROR_BUDGET_VALUE.name,
            f"(\n{period_events(v.total, p)}\n) * {_g(slo.error_budget)}\n* {on}\n({v.price})",
            labels=labels,
        ),
        RecordingRule(
            cat.ERROR_BUDGET_REMAINING_VALUE.name,
            f"{cat.ERROR_BUDGET_VALUE.name}{f}\n- {on}\n{cat.BAD_EVENTS_VALUE.name}{f}",
            labels=labels,
        ),
    )


def _exhaustion(factor: float, period: SloPeriod) -> str:
    """How long a budget lasts at ``factor``: ``"52 hours"``, ``"5.2 days"``."""
    hours = period.days * 24 / factor
    return f"{hours:.0f} hours" if hours < 48 else f"{hours / 24:.1f} days"


def _alert(slo: SLO, tier: BurnRateTier) -> AlertRule:
    f = _filter(slo)
    threshold = f"({_g(tier.factor)} * {_g(slo.error_budget)})"
    long_, short = cat.sli_error_name(tier.long), cat.sli_error_name(tier.short)
    long_seconds = {"m": 60, "h": 3600, "d": 86400}[tier.long[-1]] * int(tier.long[:-1])
    guard = f"({with_window(slo.sli.total, tier.long)}) * {long_seconds} >= {slo.min_events}"
    expr = (
        f"max({long_}{f} > {threshold}) without (sloth_window)\n"
        f"and\nmax({short}{f} > {threshold}) without (sloth_window)\n"
        f"and {_on(slo.group_by)}\n{guard}"
    )
    where = (" on {{ $labels.platform }}" if "platform" in slo.group_by else "") + "".join(
        f" {label}={{{{ $labels.{label} }}}}" for label in slo.group_by if label != "platform"
    )
    period = "the calendar month" if slo.period is SloPeriod.CALENDAR_MONTH else f"{slo.period.days} days"
    return AlertRule(
        name=tier.alert,
        expr=expr,
        hold=tier.hold,
        severity=tier.severity,
        service=slo.service,
        summary=f"SLO {slo.name}{where} is burning its error budget at {_g(tier.factor)}x the sustainable rate",
        description=(
            f"{{{{ $value | humanizePercentage }}}} of the events of SLO {slo.name}{where} were bad over the last "
            f"{tier.long} (and still over {tier.short}); the objective {_g(slo.objective * 100)} % over {period} "
            f"allows {_g(slo.error_budget * 100)} %. At this pace the budget lasts "
            f"{_exhaustion(tier.factor, slo.period)}."
        ),
        extra_labels={
            "burn_tier": tier.name,
            "sloth_severity": "page" if tier.pages else "ticket",
        },
    )


def slo_rule_group(slo: SLO) -> RuleGroup:
    """Every rule of ``slo`` as one group (file ``rules/slo-<id>.yml``)."""
    rules: list[RecordingRule | AlertRule] = [_sli_rule(slo, w) for w in slo.windows()]
    rules.append(_period_rule(slo))
    rules.extend(_metadata_rules(slo))
    rules.extend(_money_rules(slo))
    rules.extend(_alert(slo, tier) for tier in slo.tiers)
    return RuleGroup(f"fanzwatch.slo-{slo.id}", f"slo-{slo.id}", tuple(rules))

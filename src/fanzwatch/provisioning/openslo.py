"""OpenSLO v1 documents read into :class:`~fanzwatch.provisioning.slo.SLO` definitions.

Accepted: ``kind: SLO`` with an inline ``indicator`` or an ``indicatorRef`` to a
``kind: SLI`` document in the same file; a ``ratioMetric`` whose ``good`` or ``bad`` and
``total`` are Prometheus queries of events per second over ``{{.window}}`` (Sloth's
convention); ``budgetingMethod: Occurrences``; one objective (``target`` or
``targetPercent``); a ``timeWindow`` of 7d, 28d or 30d rolling, or ``1M`` calendar.
``kind: Service`` and other documents are skipped. What OpenSLO has no field for is read
from ``metadata.annotations``:

- ``fanzwatch.io/group-by``: the expansion labels, comma-separated (default ``platform``);
- ``fanzwatch.io/min-events``: the minimum-traffic guard (default 20);
- ``fanzwatch.io/value-price``, ``fanzwatch.io/value-bad``, ``fanzwatch.io/value-total``,
  ``fanzwatch.io/value-labels`` (default ``platform,currency``) and, optionally,
  ``fanzwatch.io/value-amount`` (what the bad events were worth, per second): a money SLO's
  :class:`~fanzwatch.provisioning.slo.SloValue`.

Anything else that would change the rules' meaning (timeslices, several objectives, other
windows, non-Prometheus sources) is refused with a :class:`ConfigError` naming the field,
rather than approximated.

>>> slos = load_openslo(Path("checkout.yaml").read_text(), source="checkout.yaml")  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from ..core import ConfigError
from .slo import SLI, SLO, SloPeriod, SloValue

_ANNOTATION = "fanzwatch.io/"
_ROLLING = {"7d": SloPeriod.ROLLING_7D, "28d": SloPeriod.ROLLING_28D, "30d": SloPeriod.ROLLING_30D}


class _Doc:
    """One document and where it came from, for messages that say what to fix."""

    def __init__(self, body: Any, where: str) -> None:
        if not isinstance(body, Mapping):
            raise ConfigError(f"{where}: expected a mapping, got {type(body).__name__}", setting="slo_files")
        self.body = body
        self.where = where

    def get(self, path: str, default: Any = ..., *, kind: type | tuple[type, ...] = object) -> Any:
        node: Any = self.body
        for key in path.split("."):
            if not isinstance(node, Mapping) or key not in node:
                if default is not ...:
                    return default
                raise ConfigError(f"{self.where}: {path} is required", setting="slo_files")
            node = node[key]
        if not isinstance(node, kind):
            raise ConfigError(f"{self.where}: {path} has the wrong type ({type(node).__name__})", setting="slo_files")
        return node

    def fail(self, message: str) -> ConfigError:
        return ConfigError(f"{self.where}: {message}", setting="slo_files")


def _query(doc: _Doc, path: str) -> str:
    source = doc.get(f"{path}.metricSource", kind=Mapping)
    kind = str(source.get("type", "")).lower()
    if kind != "prometheus":
        raise doc.fail(f"{path}.metricSource.type must be Prometheus, not {source.get('type')!r}")
    query: str = doc.get(f"{path}.metricSource.spec.query", kind=str)
    return query.strip()


def _sli(slo: _Doc, indicators: Mapping[str, _Doc]) -> SLI:
    if "indicator" in slo.get("spec", kind=Mapping):
        ind = _Doc(slo.get("spec.indicator", kind=Mapping), f"{slo.where} spec.indicator")
    else:
        ref = slo.get("spec.indicatorRef", kind=str)
        if ref not in indicators:
            raise slo.fail(f"spec.indicatorRef {ref!r} names no kind: SLI document in this file")
        ind = indicators[ref]
    ratio = ind.get("spec.ratioMetric", None, kind=Mapping)
    if ratio is None:
        raise ind.fail("only spec.ratioMetric indicators are supported (thresholdMetric is not)")
    total = _query(ind, "spec.ratioMetric.total")
    has_good, has_bad = "good" in ratio, "bad" in ratio
    if has_good == has_bad:
        raise ind.fail("spec.ratioMetric needs exactly one of good and bad")
    if has_bad:
        return SLI(errors=_query(ind, "spec.ratioMetric.bad"), total=total)
    return SLI(errors=f"{total}\n-\n{_query(ind, 'spec.ratioMetric.good')}", total=total)


def _period(doc: _Doc) -> SloPeriod:
    windows = doc.get("spec.timeWindow", kind=list)
    if len(windows) != 1 or not isinstance(windows[0], Mapping):
        raise doc.fail("spec.timeWindow must list exactly one window")
    window = windows[0]
    duration, rolling = str(window.get("duration", "")), window.get("isRolling", False)
    if rolling and duration in _ROLLING:
        return _ROLLING[duration]
    if not rolling and duration == "1M":
        return SloPeriod.CALENDAR_MONTH
    raise doc.fail(
        f"spec.timeWindow {duration!r} (isRolling: {rolling}) is not supported: use 7d, 28d or 30d rolling, "
        "or 1M calendar"
    )


def _objective(doc: _Doc) -> float:
    method = doc.get("spec.budgetingMethod", "Occurrences", kind=str)
    if method != "Occurrences":
        raise doc.fail(f"spec.budgetingMethod {method!r} is not supported: only Occurrences")
    objectives = doc.get("spec.objectives", kind=list)
    if len(objectives) != 1 or not isinstance(objectives[0], Mapping):
        raise doc.fail("spec.objectives must list exactly one objective")
    objective = objectives[0]
    if "target" in objective:
        target = objective["target"]
    elif "targetPercent" in objective:
        target = objective["targetPercent"] / 100 if isinstance(objective["targetPercent"], int | float) else None
    else:
        raise doc.fail("spec.objectives[0] needs target (0-1) or targetPercent")
    if isinstance(target, bool) or not isinstance(target, int | float):
        raise doc.fail("spec.objectives[0].target must be a number")
    return float(target)


def _annotations(doc: _Doc) -> dict[str, str]:
    raw = doc.get("metadata.annotations", {}, kind=Mapping)
    return {str(k).removeprefix(_ANNOTATION): str(v) for k, v in raw.items() if str(k).startswith(_ANNOTATION)}


def _labels(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _value(doc: _Doc, notes: Mapping[str, str]) -> SloValue | None:
    keys = ("value-price", "value-bad", "value-total")
    present = [k for k in keys if k in notes]
    if not present:
        return None
    if len(present) != len(keys):
        missing = ", ".join(_ANNOTATION + k for k in keys if k not in notes)
        raise doc.fail(f"a money SLO needs all of the value annotations; missing {missing}")
    return SloValue(
        price=notes["value-price"].strip(),
        errors=notes["value-bad"].strip(),
        total=notes["value-total"].strip(),
        labels=_labels(notes.get("value-labels", "platform,currency")),
        amount=notes["value-amount"].strip() if "value-amount" in notes else None,
    )


def _slo(doc: _Doc, indicators: Mapping[str, _Doc]) -> SLO:
    notes = _annotations(doc)
    try:
        min_events = int(notes.get("min-events", "20"))
    except ValueError:
        raise doc.fail(f"{_ANNOTATION}min-events must be a whole number") from None
    name = doc.get("metadata.name", kind=str)
    try:
        return SLO(
            name=name,
            service=doc.get("spec.service", kind=str),
            sli=_sli(doc, indicators),
            objective=_objective(doc),
            description=doc.get("spec.description", None, kind=(str, type(None))) or name,
            period=_period(doc),
            group_by=_labels(notes.get("group-by", "platform")),
            min_events=min_events,
            value=_value(doc, notes),
            mode="openslo",
        )
    except ConfigError as exc:
        if str(exc).startswith(doc.where):
            raise
        raise doc.fail(str(exc)) from None


def load_openslo(text: str, *, source: str) -> tuple[SLO, ...]:
    """Every ``kind: SLO`` of an OpenSLO v1 YAML stream, in file order."""
    try:
        bodies = [b for b in yaml.safe_load_all(text) if b is not None]
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source}: not valid YAML: {exc}", setting="slo_files") from None
    docs = [_Doc(body, f"{source} document {i + 1}") for i, body in enumerate(bodies)]
    for doc in docs:
        version = doc.get("apiVersion", kind=str)
        if version != "openslo/v1":
            raise doc.fail(f"apiVersion {version!r} is not supported: use openslo/v1")
    indicators = {d.get("metadata.name", kind=str): d for d in docs if d.get("kind", kind=str) == "SLI"}
    return tuple(_slo(d, indicators) for d in docs if d.get("kind", kind=str) == "SLO")


def load_openslo_files(paths: tuple[Path, ...]) -> tuple[SLO, ...]:
    """The SLOs of every file, refusing one that cannot be read."""
    out: list[SLO] = []
    for path in paths:
        try:
            text = path.read_text()
        except OSError as exc:
            raise ConfigError(f"cannot read SLO file {path}: {exc.strerror or exc}", setting="slo_files") from None
        out.extend(load_openslo(text, source=str(path)))
    return tuple(out)

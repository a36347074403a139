"""Synthetic probes for blackbox_exporter: its modules, its targets, and their scrape jobs.

A :class:`ProbeKind` names one kind of check (the platform's landing page answers 200 with
its creators list; the payment processor accepts TCP connections) with the blackbox
:class:`BlackboxModule` that performs it, the service that owns it and how bad its
failure is. A :class:`Probe` is one kind pointed at one target. ``blackbox_config`` renders
``blackbox.yml`` (every module the probes use) and ``probe_jobs`` one Prometheus scrape job
per module, with the usual relabelling: the target becomes ``?target=``, the exporter's
address becomes ``__address__``, and ``instance`` stays the probed URL.

>>> page = ProbeKind("platform-page", HTTP_2XX, "fanz-platform", Severity.CRITICAL, "the landing page")
>>> Probe(page, "http://127.0.0.1:8300/p/fanz-1/", platform="fanz-1").labels()
{'probe': 'platform-page', 'platform': 'fanz-1'}
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal

from ..core import ConfigError, Severity
from ._output import prom_duration

Prober = Literal["http", "tcp", "dns"]


@dataclass(frozen=True, slots=True)
class BlackboxModule:
    """One module of ``blackbox.yml``: a prober and its checks (blackbox_exporter's own keys)."""

    name: str
    prober: Prober
    checks: dict[str, Any] = field(default_factory=dict)
    timeout: timedelta = timedelta(seconds=5)

    def to_dict(self) -> dict[str, Any]:
        return {"prober": self.prober, "timeout": prom_duration(self.timeout), self.prober: dict(self.checks)}


HTTP_2XX = BlackboxModule(
    "http_2xx",
    "http",
    {"valid_status_codes": [], "method": "GET", "preferred_ip_protocol": "ip4", "follow_redirects": False},
)
"""Any 2xx (blackbox's default for an empty list); HTTPS targets also report their certificate's expiry."""
HTTPS_2XX = BlackboxModule(
    "https_2xx",
    "http",
    {"valid_status_codes": [], "method": "GET", "preferred_ip_protocol": "ip4", "fail_if_not_ssl": True},
)
"""A 2xx over TLS with a certificate valid for the host (``probe_ssl_earliest_cert_expiry``)."""
PLATFORM_PAGE = BlackboxModule(
    "http_platform_page",
    "http",
    {
        "valid_status_codes": [200],
        "method": "GET",
        "preferred_ip_protocol": "ip4",
        "fail_if_body_not_matches_regexp": ["<h1>Creators on "],
    },
)
"""A platform's landing page: 200 *and* the creators list rendered (a 200 error page fails)."""
TCP_CONNECT = BlackboxModule("tcp_connect", "tcp", {"preferred_ip_protocol": "ip4"})


def is_ip_literal(host: str) -> bool:
    """``10.0.0.1``, ``::1`` or ``[::1]``: an address, not a name a resolver can look up."""
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def dns_module(query_name: str) -> BlackboxModule:
    """An A-record lookup of ``query_name`` that must answer NOERROR with at least one record.

    The module's name is the host with ``.`` as ``_`` (``dns_api_fanz_example``); a host with
    any other character (``-``, ``_``) also gets a hash of its exact name
    (``dns_pay_api_example_3f2a91c0``), so ``pay-api.example``, ``pay_api.example`` and
    ``pay.api.example`` get three modules. An IP literal has no A record to look up: ``ConfigError``.
    """
    if not query_name or is_ip_literal(query_name):
        raise ConfigError(
            f"DNS probe: {query_name!r} is not a host name to look up (an IP literal has no A record)",
            setting="probe_urls",
        )
    host = query_name.lower()
    name = "dns_" + re.sub(r"[^0-9a-z]", "_", host)
    if not re.fullmatch(r"[0-9a-z.]+", host):
        name += "_" + hashlib.sha256(host.encode()).hexdigest()[:8]
    return BlackboxModule(
        name,
        "dns",
        {
            "query_name": query_name,
            "query_type": "A",
            "preferred_ip_protocol": "ip4",
            "valid_rcodes": ["NOERROR"],
            "validate_answer_rrs": {"fail_if_none_matches_regexp": [".+"]},
        },
    )


@dataclass(frozen=True, slots=True)
class ProbeKind:
    """What is checked, by which module, who owns a failure and how bad it is."""

    name: str
    module: BlackboxModule
    service: str
    severity: Severity
    what: str


@dataclass(frozen=True, slots=True)
class Probe:
    """One probe: a kind and its target (a URL for HTTP, ``host:port`` for TCP, a resolver for DNS).

    ``module`` overrides the kind's (a DNS probe's module names the queried host).
    """

    kind: ProbeKind
    target: str
    platform: str | None = None
    module_override: BlackboxModule | None = None

    def __post_init__(self) -> None:
        prober = self.module.prober
        if prober == "http" and not self.target.startswith(("http://", "https://")):
            raise ConfigError(f"probe {self.kind.name}: HTTP target {self.target!r} must be a URL", setting="probes")
        if prober != "http" and "://" in self.target:
            raise ConfigError(f"probe {self.kind.name}: {prober} target {self.target!r} is host:port", setting="probes")

    @property
    def module(self) -> BlackboxModule:
        return self.module_override or self.kind.module

    def labels(self) -> dict[str, str]:
        out = {"probe": self.kind.name}
        if self.platform is not None:
            out["platform"] = self.platform
        return out


def blackbox_config(probes: tuple[Probe, ...]) -> dict[str, Any]:
    """``blackbox.yml``: every module the probes use, by name."""
    modules: dict[str, BlackboxModule] = {}
    for probe in probes:
        known = modules.setdefault(probe.module.name, probe.module)
        if known != probe.module:
            raise ConfigError(f"two blackbox modules are named {probe.module.name!r}", setting="probes")
    return {"modules": {name: module.to_dict() for name, module in sorted(modules.items())}}


PROBE_MIN_INTERVAL = timedelta(seconds=5)
"""Probes run at the scrape interval but never more often than this: blackbox_exporter
gives a probe the scrape timeout minus half a second, and a 1 s demo scrape would leave a
landing page 0.5 s (a loaded laptop's page fails that now and then: not an outage)."""


@dataclass(frozen=True, slots=True)
class ProbeJob:
    """The scrape job of one module: Prometheus asks the exporter to probe each target.

    ``interval`` is the job's own scrape interval (its timeout: at most 10 s, at most the
    interval), see ``PROBE_MIN_INTERVAL``.
    """

    module: BlackboxModule
    probes: tuple[Probe, ...]
    exporter: str
    interval: timedelta = PROBE_MIN_INTERVAL

    @property
    def name(self) -> str:
        return f"blackbox-{self.module.name}"

    @property
    def targets(self) -> tuple[str, ...]:
        return tuple(p.target for p in self.probes)

    def to_dict(self) -> dict[str, Any]:
        return {
            "job_name": self.name,
            "scrape_interval": prom_duration(self.interval),
            "scrape_timeout": prom_duration(min(self.interval, timedelta(seconds=10))),
            "metrics_path": "/probe",
            "scheme": "http",
            "params": {"module": [self.module.name]},
            "static_configs": [{"targets": [p.target], "labels": p.labels()} for p in self.probes],
            "relabel_configs": [
                {"source_labels": ["__address__"], "target_label": "__param_target"},
                {"source_labels": ["__param_target"], "target_label": "instance"},
                {"target_label": "__address__", "replacement": self.exporter},
            ],
        }


def probe_jobs(probes: tuple[Probe, ...], exporter: str | None, *, scrape_interval: timedelta) -> tuple[ProbeJob, ...]:
    """One job per module, in the order modules first appear; none without an exporter."""
    if exporter is None:
        return ()
    by_module: dict[str, list[Probe]] = {}
    for probe in probes:
        by_module.setdefault(probe.module.name, []).append(probe)
    interval = max(scrape_interval, PROBE_MIN_INTERVAL)
    return tuple(ProbeJob(group[0].module, tuple(group), exporter, interval) for group in by_module.values())

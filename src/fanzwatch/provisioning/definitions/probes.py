"""FANZ's synthetic probes: what blackbox_exporter checks, built from the stack's targets.

Each kind checks something a user or a payment depends on, from outside the process:

- ``platform-page``: each probed platform's landing page renders its creators list (one
  probe per platform and platform target; the ``probe-availability`` SLO counts these);
- ``platform-ready``: the platform service's readiness endpoint;
- ``processor-health`` and ``processor-tcp``: the payment processor answers HTTP, and
  accepts TCP connections at all (a refused connection and a 503 are different outages);
- ``fanzwatch-live``: the monitoring server itself;
- ``url`` and ``dns``: the extra URLs of the settings (HTTPS ones also report their
  certificate's expiry) and, with a resolver configured, their hosts' A records (hosts
  that are IP literals are not looked up: there is nothing to resolve).

A loopback demo has no TLS and no DNS of its own: those kinds appear only when the
settings name URLs and a resolver.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from ...core import Severity
from ...settings.provisioning import ProvisioningSettings
from ..blackbox import HTTP_2XX, HTTPS_2XX, PLATFORM_PAGE, TCP_CONNECT, Probe, ProbeKind, dns_module, is_ip_literal

PLATFORM_PAGE_PROBE = ProbeKind(
    "platform-page", PLATFORM_PAGE, "fanz-platform", Severity.CRITICAL, "the platform's landing page"
)
PLATFORM_READY_PROBE = ProbeKind(
    "platform-ready", HTTP_2XX, "fanz-platform", Severity.CRITICAL, "the platform service's readiness"
)
PROCESSOR_HEALTH_PROBE = ProbeKind(
    "processor-health", HTTP_2XX, "payments", Severity.CRITICAL, "the payment processor's health endpoint"
)
PROCESSOR_TCP_PROBE = ProbeKind(
    "processor-tcp", TCP_CONNECT, "payments", Severity.CRITICAL, "a TCP connection to the payment processor"
)
FANZWATCH_PROBE = ProbeKind(
    "fanzwatch-live", HTTP_2XX, "monitoring", Severity.WARNING, "the fanzwatch server's liveness"
)
URL_PROBE = ProbeKind("url", HTTP_2XX, "fanz-platform", Severity.WARNING, "a configured URL")
DNS_PROBE = ProbeKind("dns", dns_module("localhost"), "infrastructure", Severity.WARNING, "a configured URL's A record")

PROBE_KINDS = (
    PLATFORM_PAGE_PROBE,
    PLATFORM_READY_PROBE,
    PROCESSOR_HEALTH_PROBE,
    PROCESSOR_TCP_PROBE,
    FANZWATCH_PROBE,
    URL_PROBE,
    DNS_PROBE,
)


def probes(settings: ProvisioningSettings) -> tuple[Probe, ...]:
    """Every probe of the stack described by ``settings``, in a stable order."""
    t = settings.targets
    out: list[Probe] = []
    for addr in t.platforms:
        out.append(Probe(PLATFORM_READY_PROBE, f"http://{addr}/health/ready"))
        out.extend(
            Probe(PLATFORM_PAGE_PROBE, f"http://{addr}/p/{name}/", platform=name) for name in settings.probe_platforms
        )
    for addr in t.payment_processor:
        out.append(Probe(PROCESSOR_HEALTH_PROBE, f"http://{addr}/health"))
        out.append(Probe(PROCESSOR_TCP_PROBE, addr))
    out.append(Probe(FANZWATCH_PROBE, f"http://{t.fanzwatch}/health/live"))
    for url in settings.probe_urls:
        https = url.startswith("https://")
        out.append(Probe(URL_PROBE, url, module_override=HTTPS_2XX if https else None))
    if settings.probe_dns_server is not None:
        hosts = dict.fromkeys(urlsplit(url).hostname or "" for url in settings.probe_urls)
        out.extend(
            Probe(DNS_PROBE, settings.probe_dns_server, module_override=dns_module(host))
            for host in hosts
            if host and not is_ip_literal(host)
        )
    return tuple(out)

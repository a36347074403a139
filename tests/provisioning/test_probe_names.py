"""DNS probes: one blackbox module per looked-up host, and no lookups of IP literals."""

from __future__ import annotations

import pytest
import yaml

from fanzwatch.core import ConfigError
from fanzwatch.provisioning import ProvisioningSettings, render_files
from fanzwatch.provisioning.blackbox import blackbox_config, dns_module, is_ip_literal
from fanzwatch.provisioning.definitions.probes import DNS_PROBE, probes


def test_hosts_that_differ_only_in_punctuation_get_their_own_modules() -> None:
    names = [dns_module(h).name for h in ("pay-api.fanz.test", "pay.api.fanz.test", "pay_api.fanz.test")]
    assert len(set(names)) == 3
    assert names[1] == "dns_pay_api_fanz_test"  # a plain host keeps its readable name
    assert all(n.startswith("dns_pay_api_fanz_test") for n in names)
    assert dns_module("Pay-API.fanz.test").name == names[0]  # names are case-insensitive


@pytest.mark.parametrize("host", ["10.0.0.7", "::1", "[::1]", "2001:db8::5", ""])
def test_an_ip_literal_is_not_a_dns_query_name(host: str) -> None:
    assert is_ip_literal(host) is (host != "")
    with pytest.raises(ConfigError, match="not a host name to look up"):
        dns_module(host)


def test_probe_urls_get_a_lookup_per_named_host_only() -> None:
    settings = ProvisioningSettings(
        probe_urls=(
            "https://pay-api.fanz.test/health",
            "https://pay.api.fanz.test/",
            "https://pay-api.fanz.test/other",  # the same host: one lookup
            "https://10.0.0.7/",
            "http://[2001:db8::5]:8080/",
        ),
        probe_dns_server="10.0.0.53:53",
    )
    found = probes(settings)
    lookups = [(p.target, p.module.checks["query_name"]) for p in found if p.kind is DNS_PROBE]
    assert lookups == [("10.0.0.53:53", "pay-api.fanz.test"), ("10.0.0.53:53", "pay.api.fanz.test")]
    modules = blackbox_config(found)["modules"]  # two hosts, two modules: no "two modules named" error
    assert sorted(m["dns"]["query_name"] for m in modules.values() if m["prober"] == "dns") == [
        "pay-api.fanz.test",
        "pay.api.fanz.test",
    ]
    rendered = yaml.safe_load(render_files(settings)["prometheus.yml"])
    dns_jobs = [j for j in rendered["scrape_configs"] if j["job_name"].startswith("blackbox-dns_")]
    assert len(dns_jobs) == 2

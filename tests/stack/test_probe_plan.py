"""Whether `fanzwatch up` needs blackbox_exporter, and what it starts and renders without one.

Pure planning: no child is started here.
"""

from __future__ import annotations

import stat
import sys
from pathlib import Path

import pytest
import yaml

from fanzwatch.core import DependencyMissingError
from fanzwatch.provisioning import ProvisioningSettings, render_files
from fanzwatch.settings.demo import DemoSettings
from fanzwatch.settings.stack import StackSettings
from fanzwatch.stack import Binaries, Stack, find_binaries, provisioning_settings
from fanzwatch.stack.plan import StackPaths, blackbox_required, probe_children


def _executable(path: Path) -> Path:
    path.write_text(f"#!{sys.executable}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


@pytest.fixture
def three_binaries(tmp_path: Path) -> Path:
    """A PATH with Prometheus, Alertmanager and node_exporter but no blackbox_exporter."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("prometheus", "alertmanager", "node_exporter"):
        _executable(bin_dir / name)
    return bin_dir


def test_a_missing_blackbox_exporter_is_none_when_optional_and_an_error_otherwise(three_binaries: Path) -> None:
    found = find_binaries(search_path=str(three_binaries), optional=frozenset({"blackbox_exporter"}))
    assert found.blackbox_exporter is None and found.prometheus == three_binaries / "prometheus"
    with pytest.raises(DependencyMissingError, match="blackbox_exporter"):
        find_binaries(search_path=str(three_binaries))
    with pytest.raises(DependencyMissingError, match="configured path"):  # an explicit path must exist
        find_binaries(
            search_path=str(three_binaries),
            overrides={"blackbox_exporter": three_binaries / "nope"},
            optional=frozenset({"blackbox_exporter"}),
        )
    with pytest.raises(ValueError, match="only blackbox_exporter"):
        find_binaries(search_path=str(three_binaries), optional=frozenset({"prometheus"}))


@pytest.mark.parametrize(
    ("stack", "base", "required"),
    [
        ({}, None, False),
        ({}, ProvisioningSettings(), False),
        ({"probes": True}, None, True),
        ({"probes": False}, ProvisioningSettings(probe_urls=("https://fanz.test/",)), False),
        ({"blackbox_exporter_binary": Path("/opt/bb/blackbox_exporter")}, None, True),
        ({}, ProvisioningSettings(probe_urls=("https://fanz.test/",)), True),
        ({}, ProvisioningSettings(probe_dns_server="10.0.0.53:53"), True),
    ],
)
def test_blackbox_is_required_only_when_probes_are_asked_for(
    tmp_path: Path, stack: dict[str, object], base: ProvisioningSettings | None, required: bool
) -> None:
    assert blackbox_required(StackSettings(data_dir=tmp_path, **stack), base) is required


def test_without_blackbox_the_stack_starts_no_exporter_and_renders_no_probe_jobs(tmp_path: Path) -> None:
    stack, demo = StackSettings(data_dir=tmp_path), DemoSettings(traffic=False)
    paths = StackPaths(tmp_path)
    none = Binaries(Path("/p"), Path("/a"), Path("/n"), None)
    assert [c.name for c in probe_children(stack, none, paths, demo)] == ["prober"]  # the journey prober is ours
    assert probe_children(stack, none, paths) == []
    some = Binaries(Path("/p"), Path("/a"), Path("/n"), Path("/bb"))
    assert [c.name for c in probe_children(stack, some, paths, demo)] == ["blackbox", "prober"]
    off = StackSettings(data_dir=tmp_path, probes=False)
    assert [c.name for c in probe_children(off, some, paths, demo)] == ["prober"]

    def jobs(probes: bool) -> list[str]:
        rendered = render_files(provisioning_settings(stack, demo, probes=probes))
        return [j["job_name"] for j in yaml.safe_load(rendered["prometheus.yml"])["scrape_configs"]]

    with_probes, without = jobs(True), jobs(False)
    assert any(j.startswith("blackbox-") for j in with_probes)
    assert without == [j for j in with_probes if not j.startswith("blackbox-")] and without  # the rest stays


def test_up_refuses_to_start_without_blackbox_when_probes_are_required(
    tmp_path: Path, three_binaries: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(three_binaries))
    stack = Stack(StackSettings(data_dir=tmp_path / "data", probes=True))
    with pytest.raises(DependencyMissingError, match="blackbox_exporter"):
        stack.start()
    assert not (tmp_path / "data" / "stack.json").exists()  # nothing started


def test_up_refuses_to_start_without_blackbox_when_probe_urls_come_from_the_environment(
    tmp_path: Path, three_binaries: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``fanzwatch up`` passes no provisioning settings: the probes asked for by environment count."""
    monkeypatch.setenv("PATH", str(three_binaries))
    monkeypatch.setenv("FANZWATCH_PROVISIONING_PROBE_URLS", '["https://fanz.test/"]')
    with pytest.raises(DependencyMissingError, match="blackbox_exporter"):
        Stack(StackSettings(data_dir=tmp_path / "data")).start()
    assert not (tmp_path / "data" / "stack.json").exists()

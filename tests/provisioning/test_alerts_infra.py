"""``promtool test rules`` for disk space (node_exporter) and target-down alerts."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from .conftest import PromtoolCase, PromtoolRunner, alert

NODE = 'job="node",instance="10.0.0.9:9100"'


def _fs(mountpoint: str, device: str, fstype: str, avail: int, size: int, readonly: int = 0) -> list[dict[str, str]]:
    labels = f'{NODE},mountpoint="{mountpoint}",device="{device}",fstype="{fstype}"'
    return [
        {"series": f"node_filesystem_avail_bytes{{{labels}}}", "values": f"{avail}x30"},
        {"series": f"node_filesystem_size_bytes{{{labels}}}", "values": f"{size}x30"},
        {"series": f"node_filesystem_readonly{{{labels}}}", "values": f"{readonly}x30"},
    ]


def _disk_alert(severity: str, mountpoint: str, device: str, fstype: str, percent: str) -> dict[str, object]:
    threshold = {"critical": "10%", "warning": "20%"}[severity]
    return alert(
        "LowDiskSpace",
        severity=severity,
        service="infrastructure",
        job="node",
        instance="10.0.0.9:9100",
        mountpoint=mountpoint,
        device=device,
        fstype=fstype,
        summary=f"Less than {threshold} disk space left on 10.0.0.9:9100 {mountpoint}",
        description=f"{mountpoint} ({device}) on 10.0.0.9:9100 has {percent} of its space available.",
    )


def case_low_disk_space_on_real_writable_filesystems() -> PromtoolCase:
    return PromtoolCase(
        {
            "evaluation_interval": "1m",
            "tests": [
                {
                    "interval": "1m",
                    "input_series": [
                        *_fs("/", "/dev/sda1", "ext4", 5, 100),  # 5 % left: critical and warning
                        *_fs("/data", "/dev/sdb1", "xfs", 15, 100),  # 15 % left: warning
                        *_fs("/home", "/dev/sdc1", "ext4", 50, 100),  # fine
                        *_fs("/run", "tmpfs", "tmpfs", 0, 100),  # pseudo filesystem
                        *_fs("/snap/core/1", "/dev/loop0", "squashfs", 0, 100),  # always full by design
                        *_fs("/mnt/iso", "/dev/sr0", "ext4", 0, 100, readonly=1),  # read-only
                    ],
                    "alert_rule_test": [
                        {"eval_time": "4m", "alertname": "LowDiskSpace", "exp_alerts": []},
                        {
                            "eval_time": "5m",
                            "alertname": "LowDiskSpace",
                            "exp_alerts": [_disk_alert("critical", "/", "/dev/sda1", "ext4", "5%")],
                        },
                        {
                            "eval_time": "15m",
                            "alertname": "LowDiskSpace",
                            "exp_alerts": [
                                _disk_alert("critical", "/", "/dev/sda1", "ext4", "5%"),
                                _disk_alert("warning", "/", "/dev/sda1", "ext4", "5%"),
                                _disk_alert("warning", "/data", "/dev/sdb1", "xfs", "15%"),
                            ],
                        },
                    ],
                }
            ],
        }
    )


def _down(job: str, instance: str, severity: str, service: str) -> dict[str, object]:
    return alert(
        "TargetDown",
        severity=severity,
        service=service,
        job=job,
        instance=instance,
        summary=f"Scrape target {job} at {instance} is down",
        description=f"Prometheus could not scrape {job} at {instance} for over a minute: the process is down, "
        "unreachable or not answering /metrics.",
    )


def case_target_down_reaches_the_owner_of_each_job() -> PromtoolCase:
    def up(job: str, instance: str, values: str) -> dict[str, str]:
        return {"series": f'up{{job="{job}",instance="{instance}"}}', "values": values}

    return PromtoolCase(
        {
            "evaluation_interval": "1m",
            "tests": [
                {
                    "interval": "1m",
                    "input_series": [
                        up("fanz-platform", "10.0.0.1:8001", "0x10"),
                        up("fanz-platform", "10.0.0.2:8001", "1x10"),
                        up("payment-processor", "10.0.0.3:8010", "0x10"),
                        up("node", "10.0.0.9:9100", "0x10"),
                        up("alertmanager", "10.0.0.4:9093", "0x10"),
                        up("fanzwatch", "10.0.0.5:8900", "1x10"),
                        up("prometheus", "10.0.0.6:9090", "0x10"),
                        # a blip shorter than the hold does not fire
                        up("fanzwatch", "10.0.0.7:8900", "1 0 1 1 1 1 1 1 1 1 1"),
                    ],
                    "alert_rule_test": [
                        {"eval_time": "30s", "alertname": "TargetDown", "exp_alerts": []},
                        {
                            "eval_time": "2m",
                            "alertname": "TargetDown",
                            "exp_alerts": [
                                _down("fanz-platform", "10.0.0.1:8001", "critical", "fanz-platform"),
                                _down("payment-processor", "10.0.0.3:8010", "critical", "payments"),
                                _down("node", "10.0.0.9:9100", "warning", "infrastructure"),
                                _down("alertmanager", "10.0.0.4:9093", "critical", "monitoring"),
                                _down("prometheus", "10.0.0.6:9090", "warning", "monitoring"),
                            ],
                        },
                    ],
                }
            ],
        },
        rule_files=("infrastructure",),
    )


CASES = (case_low_disk_space_on_real_writable_filesystems, case_target_down_reaches_the_owner_of_each_job)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.__name__.removeprefix("case_"))
def test_promtool(case: Callable[[], PromtoolCase], promtool_test: PromtoolRunner) -> None:
    promtool_test(case())

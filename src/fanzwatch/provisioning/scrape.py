"""Typed Prometheus server configuration: scrape jobs, rule files, Alertmanager targets."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from ..core import Severity
from ._output import prom_duration
from .blackbox import ProbeJob


@dataclass(frozen=True, slots=True)
class ScrapeJob:
    """One scrape job and what it means when its targets are down.

    ``service`` and ``severity_when_down`` feed the job's ``TargetDown`` alert, so the
    payment processor being unreachable pages the payments team, while a node_exporter
    gap only warns.
    """

    name: str
    what: str
    service: str
    severity_when_down: Severity
    targets: tuple[str, ...] = ()
    metrics_path: str = "/metrics"
    scheme: str = "http"
    bearer_token_file: str | None = None  # read by Prometheus at every scrape: the token is never rendered

    def with_targets(self, targets: tuple[str, ...], *, bearer_token_file: str | None = None) -> ScrapeJob:
        return ScrapeJob(
            self.name,
            self.what,
            self.service,
            self.severity_when_down,
            targets,
            self.metrics_path,
            self.scheme,
            bearer_token_file,
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "job_name": self.name,
            "metrics_path": self.metrics_path,
            "scheme": self.scheme,
        }
        if self.bearer_token_file:
            out["authorization"] = {"type": "Bearer", "credentials_file": self.bearer_token_file}
        out["static_configs"] = [{"targets": list(self.targets)}]
        return out


@dataclass(frozen=True, slots=True)
class PrometheusConfig:
    """``prometheus.yml``: global intervals, rule files, Alertmanagers and scrape jobs.

    Jobs without targets are left out of the file (their alert rules stay, silent); the
    blackbox probe jobs come last.
    """

    scrape_interval: timedelta
    evaluation_interval: timedelta
    rule_files: tuple[str, ...]
    alertmanagers: tuple[str, ...]
    jobs: tuple[ScrapeJob, ...]
    external_labels: dict[str, str] = field(default_factory=dict)
    probe_jobs: tuple[ProbeJob, ...] = ()

    @property
    def scrape_timeout(self) -> timedelta:
        """Scrapes time out before the next one is due: at most 10 s, at most the interval."""
        return min(self.scrape_interval, timedelta(seconds=10))

    def to_dict(self) -> dict[str, Any]:
        glob: dict[str, Any] = {
            "scrape_interval": prom_duration(self.scrape_interval),
            "scrape_timeout": prom_duration(self.scrape_timeout),
            "evaluation_interval": prom_duration(self.evaluation_interval),
        }
        if self.external_labels:
            glob["external_labels"] = dict(sorted(self.external_labels.items()))
        return {
            "global": glob,
            "rule_files": list(self.rule_files),
            "alerting": {
                "alertmanagers": [{"scheme": "http", "static_configs": [{"targets": list(self.alertmanagers)}]}]
            },
            "scrape_configs": [job.to_dict() for job in self.jobs if job.targets]
            + [job.to_dict() for job in self.probe_jobs if job.targets],
        }

"""The scrape jobs of a fanzwatch stack and who cares when their targets go down."""

from __future__ import annotations

from ...core import Severity
from ...settings.provisioning import StackTargets
from ..scrape import ScrapeJob

FANZWATCH = ScrapeJob("fanzwatch", "the fanzwatch server", "monitoring", Severity.CRITICAL)
PLATFORM = ScrapeJob("fanz-platform", "a FANZ platform service", "fanz-platform", Severity.CRITICAL)
PAYMENT_PROCESSOR = ScrapeJob("payment-processor", "the payment processor", "payments", Severity.CRITICAL)
NODE = ScrapeJob("node", "a node_exporter", "infrastructure", Severity.WARNING)
ALERTMANAGER = ScrapeJob("alertmanager", "Alertmanager", "monitoring", Severity.CRITICAL)
PROMETHEUS = ScrapeJob("prometheus", "Prometheus", "monitoring", Severity.WARNING)
JOURNEY_PROBER = ScrapeJob("journey-prober", "a journey prober", "monitoring", Severity.WARNING)

VIEWER_TOKEN_FILE = "viewer_token"
"""File, in the secrets directory, of the viewer token Prometheus scrapes fanzwatch with."""

JOBS = (FANZWATCH, PLATFORM, PAYMENT_PROCESSOR, NODE, ALERTMANAGER, PROMETHEUS, JOURNEY_PROBER)


def scrape_jobs(targets: StackTargets, *, fanzwatch_token_file: str | None = None) -> tuple[ScrapeJob, ...]:
    """The jobs with the stack's targets filled in (a job without targets is not scraped).

    The fanzwatch server's ``/metrics`` needs a viewer token: ``fanzwatch_token_file`` is
    the file Prometheus reads it from.
    """
    by_job = {
        FANZWATCH.name: (targets.fanzwatch,),
        PLATFORM.name: targets.platforms,
        PAYMENT_PROCESSOR.name: targets.payment_processor,
        NODE.name: targets.node_exporter,
        ALERTMANAGER.name: (targets.alertmanager,),
        PROMETHEUS.name: (targets.prometheus,),
        JOURNEY_PROBER.name: targets.journey_probers,
    }
    return tuple(
        job.with_targets(by_job[job.name], bearer_token_file=fanzwatch_token_file if job is FANZWATCH else None)
        for job in JOBS
    )

"""Synthetic probes of our own: the journey prober of the money flows.

blackbox_exporter's configuration is rendered by ``fanzwatch.provisioning`` (modules and
targets from the definitions); this package walks what blackbox cannot: a fan's whole
money journey (sign in, subscribe, tip, unlock pay-per-view), each step timed, checked and
traced. See docs/slos.md.
"""

from .journey import JOURNEY, JourneyProber, JourneyResult, StepFailedError, StepResult
from .service import JourneyProberConfig, run_prober, serve_prober

__all__ = [
    "JOURNEY",
    "JourneyProber",
    "JourneyProberConfig",
    "JourneyResult",
    "StepFailedError",
    "StepResult",
    "run_prober",
    "serve_prober",
]

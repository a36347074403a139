"""Synthetic probes: what blackbox_exporter answers, and what the journey prober records.

blackbox_exporter's series carry the labels its scrape job gives each target: ``probe``
(the probe's name in the provisioning definitions) and, for per-platform probes,
``platform``. The journey prober walks the money flows of a platform (sign in, subscribe,
tip, unlock pay-per-view) from one ``location``; several locations run it and the alert
needs a quorum of them.
"""

from __future__ import annotations

from ._spec import PLATFORM, Label, MetricKind, MetricSpec, Source

PROBE = Label("probe", "name of the probe in the provisioning definitions (platform-page, processor-health, ...)")
_JOB = Label("job", "blackbox scrape job: blackbox-<module>")
_INSTANCE = Label("instance", "the probed URL or host:port")
_BLACKBOX = (_JOB, _INSTANCE, PROBE, PLATFORM)

JOURNEY_STEPS = ("sign_in", "subscribe", "tip", "unlock_ppv")
"""The money journey's steps, in order (``fanzwatch.probes.journey``)."""
JOURNEY = Label("journey", "the journey walked (money: sign in, subscribe, tip, unlock PPV)", ("money",))
STEP = Label("step", "one step of the journey", JOURNEY_STEPS)
LOCATION = Label("location", "where the prober runs (its --location; a few per deployment)")
JOURNEY_RESULTS = ("success", "failure")

PROBE_SUCCESS = MetricSpec(
    name="probe_success",
    kind=MetricKind.GAUGE,
    unit="boolean",
    help="1 when blackbox_exporter's probe of the target passed every check of its module.",
    labels=_BLACKBOX,
    source=Source.EXTERNAL,
)
PROBE_DURATION = MetricSpec(
    name="probe_duration_seconds",
    kind=MetricKind.GAUGE,
    unit="seconds",
    help="How long blackbox_exporter's last probe of the target took.",
    labels=_BLACKBOX,
    source=Source.EXTERNAL,
)
PROBE_HTTP_STATUS_CODE = MetricSpec(
    name="probe_http_status_code",
    kind=MetricKind.GAUGE,
    unit="code",
    help="HTTP status code of the last probe (0 when no response).",
    labels=_BLACKBOX,
    source=Source.EXTERNAL,
)
PROBE_SSL_EARLIEST_CERT_EXPIRY = MetricSpec(
    name="probe_ssl_earliest_cert_expiry",
    kind=MetricKind.GAUGE,
    unit="timestamp_seconds",
    help="Unix time the first certificate of the probed TLS chain expires (HTTPS probes only).",
    labels=_BLACKBOX,
    source=Source.EXTERNAL,
)
JOURNEY_STEP_DURATION = MetricSpec(
    name="fanz_journey_step_duration_seconds",
    kind=MetricKind.HISTOGRAM,
    unit="seconds",
    help="Time each step of a synthetic journey took, passed or failed.",
    labels=(JOURNEY, STEP, PLATFORM, LOCATION),
    source=Source.PROBER,
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0),
)
JOURNEY_STEP_FAILURES = MetricSpec(
    name="fanz_journey_step_failures",
    kind=MetricKind.COUNTER,
    unit="failures",
    help="Journey steps that failed their check (wrong status, body or timeout); the journey stops there.",
    labels=(JOURNEY, STEP, PLATFORM, LOCATION),
    source=Source.PROBER,
)
JOURNEY_RUNS = MetricSpec(
    name="fanz_journey_runs",
    kind=MetricKind.COUNTER,
    unit="runs",
    help="Synthetic journeys walked, by result (success: every step passed).",
    labels=(JOURNEY, PLATFORM, LOCATION, Label("result", "success or failure", JOURNEY_RESULTS)),
    source=Source.PROBER,
)
JOURNEY_SUCCESS = MetricSpec(
    name="fanz_journey_success",
    kind=MetricKind.GAUGE,
    unit="boolean",
    help="1 when the last journey from this location passed every step, 0 when a step failed.",
    labels=(JOURNEY, PLATFORM, LOCATION),
    source=Source.PROBER,
)
JOURNEY_QUORUM_FAILING = MetricSpec(
    name="platform:fanz_journey_quorum_failing:bool",
    kind=MetricKind.GAUGE,
    unit="boolean",
    help="1 while a quorum of the locations' last journeys failed on the platform (what JourneyFailing "
    "and the journey SLO count), else 0.",
    labels=(JOURNEY, PLATFORM),
    source=Source.PROMETHEUS,
)

METRICS = (
    PROBE_SUCCESS,
    PROBE_DURATION,
    PROBE_HTTP_STATUS_CODE,
    PROBE_SSL_EARLIEST_CERT_EXPIRY,
    JOURNEY_STEP_DURATION,
    JOURNEY_STEP_FAILURES,
    JOURNEY_RUNS,
    JOURNEY_SUCCESS,
    JOURNEY_QUORUM_FAILING,
)

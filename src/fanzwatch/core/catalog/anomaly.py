"""Metrics of the anomaly engine: what it sees per watched series, and its own health.

Per series (``metric`` = one of the six watched signals, ``platform``): the latest anomaly
score, the expected band (FanzDash draws it around the actual value), whether an anomaly
is firing and how far behind real time the series' newest evaluated point is. For the
engine itself: up (1 when it can read Prometheus, 0 when its judgement is unknown), its
state, failed queries and failed Alertmanager posts.
"""

from __future__ import annotations

from ._spec import PLATFORM, Label, MetricKind, MetricSpec, Source

# The guide's six signals, per platform. The engine's watch-list builds one PromQL
# expression per signal from the catalog; these keys are its ``metric`` label values.
WATCHED_SIGNALS = (
    "request_rate",
    "latency_p95",
    "error_ratio",
    "registrations",
    "payment_success_ratio",
    "active_users",
)
ENGINE_STATES = ("pass", "warn", "fail", "unknown")
SERIES_STATES = ("watching", "learning", "idle", "stale")

SIGNAL = Label("metric", "the watched signal", WATCHED_SIGNALS)

ANOMALY_SCORE = MetricSpec(
    name="fanz_anomaly_score",
    kind=MetricKind.GAUGE,
    unit="score 0-1",
    help="Anomaly score of the newest evaluated point of the series (0 normal, 1 certainly anomalous).",
    labels=(SIGNAL, PLATFORM),
    source=Source.SERVER,
    guide_name="AnomalyAlert.confidence",
    guide_note="a detector score in [0, 1] per series, from a seasonal robust model",
)
ANOMALY_EXPECTED_LOWER = MetricSpec(
    name="fanz_anomaly_expected_lower",
    kind=MetricKind.GAUGE,
    unit="signal unit",
    help="Lower edge of the expected range of the series' newest point (NaN while warming up).",
    labels=(SIGNAL, PLATFORM),
    source=Source.SERVER,
    guide_name="AnomalyAlert.expected_range",
    guide_note="split into _lower and _upper gauges so dashboards can draw the band",
)
ANOMALY_EXPECTED_UPPER = MetricSpec(
    name="fanz_anomaly_expected_upper",
    kind=MetricKind.GAUGE,
    unit="signal unit",
    help="Upper edge of the expected range of the series' newest point (NaN while warming up).",
    labels=(SIGNAL, PLATFORM),
    source=Source.SERVER,
)
ANOMALY_ACTIVE = MetricSpec(
    name="fanz_anomaly_active",
    kind=MetricKind.GAUGE,
    unit="boolean",
    help="1 while a MetricAnomaly alert is firing for the series, else 0.",
    labels=(SIGNAL, PLATFORM),
    source=Source.SERVER,
)
ANOMALY_LAG = MetricSpec(
    name="fanz_anomaly_lag_seconds",
    kind=MetricKind.GAUGE,
    unit="seconds",
    help="How far the series' newest evaluated point is behind now (grows while data is missing).",
    labels=(SIGNAL, PLATFORM),
    source=Source.SERVER,
)
ENGINE_UP = MetricSpec(
    name="fanz_anomaly_engine_up",
    kind=MetricKind.GAUGE,
    unit="boolean",
    help="1 when the engine's last evaluation read Prometheus, 0 when its judgement is unknown.",
    labels=(),
    source=Source.SERVER,
)
ENGINE_STATE = MetricSpec(
    name="fanz_anomaly_engine_state",
    kind=MetricKind.GAUGE,
    unit="state",
    help="1 for the engine's current status, 0 for the others (a state set over pass/warn/fail/unknown).",
    labels=(Label("state", "engine status", ENGINE_STATES),),
    source=Source.SERVER,
)
QUERY_FAILURES = MetricSpec(
    name="fanz_anomaly_query_failures",
    kind=MetricKind.COUNTER,
    unit="queries",
    help="Prometheus query_range calls of the watch-list that failed (unreachable, timeout, error answer).",
    labels=(SIGNAL,),
    source=Source.SERVER,
)
ALERT_POST_FAILURES = MetricSpec(
    name="fanz_anomaly_alert_post_failures",
    kind=MetricKind.COUNTER,
    unit="posts",
    help="Posts of anomaly alerts to Alertmanager that failed; they are retried on the next evaluation.",
    labels=(),
    source=Source.SERVER,
)
ALERTS_POSTED = MetricSpec(
    name="fanz_anomaly_alerts_posted",
    kind=MetricKind.COUNTER,
    unit="alerts",
    help="Anomaly alerts accepted by Alertmanager, firing (first sends and re-sends) or resolved.",
    labels=(Label("state", "what was posted", ("firing", "resolved")),),
    source=Source.SERVER,
)

SERIES_STALE = MetricSpec(
    name="fanz_anomaly_series_stale",
    kind=MetricKind.GAUGE,
    unit="boolean",
    help="1 while a watched series has had no data for the stale period (the engine cannot watch it), else 0.",
    labels=(SIGNAL, PLATFORM),
    source=Source.SERVER,
)
SERIES_BY_STATE = MetricSpec(
    name="fanz_anomaly_series",
    kind=MetricKind.GAUGE,
    unit="series",
    help="Series the engine knows, by state: watching, learning (too little history), idle (no traffic), stale.",
    labels=(Label("state", "series state", SERIES_STATES),),
    source=Source.SERVER,
)
LAST_EVALUATION = MetricSpec(
    name="fanz_anomaly_last_evaluation_timestamp_seconds",
    kind=MetricKind.GAUGE,
    unit="seconds",
    help="Unix time of the engine's last evaluation that read Prometheus (stops moving when it is blind or stopped).",
    labels=(),
    source=Source.SERVER,
)
CLOCK_OFFSET = MetricSpec(
    name="fanz_anomaly_clock_offset_seconds",
    kind=MetricKind.GAUGE,
    unit="seconds",
    help="The server's clock minus Prometheus's, as of the last evaluation (the engine follows Prometheus's).",
    labels=(),
    source=Source.SERVER,
)

METRICS = (
    ANOMALY_SCORE,
    ANOMALY_EXPECTED_LOWER,
    ANOMALY_EXPECTED_UPPER,
    ANOMALY_ACTIVE,
    ANOMALY_LAG,
    ENGINE_UP,
    ENGINE_STATE,
    QUERY_FAILURES,
    ALERT_POST_FAILURES,
    ALERTS_POSTED,
    SERIES_STALE,
    SERIES_BY_STATE,
    LAST_EVALUATION,
    CLOCK_OFFSET,
)

"""Metrics of the traces and logs pipeline: the OTLP receiver, its queue and spool, its writes to the store.

Emitted by the fanzwatch server (``fanzwatch.telemetry``). A request is counted once, by
the answer it got (``fanz_otlp_requests``); the spans and log records of a request whose
body was decoded are counted by what became of them (``fanz_otlp_records``). A request
refused before its body is read (401, 415, 413 on ``Content-Length``, 503 while the store
is down) has no record count, only a request count. Refused records are counted again each
time an exporter retries them.
"""

from __future__ import annotations

from ._spec import Label, MetricKind, MetricSpec, Source

SIGNALS = ("traces", "logs")
ACCEPTED = "accepted"
UNAUTHORIZED = "unauthorized"
UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
TOO_LARGE = "too_large"
MALFORMED = "malformed"
BACK_PRESSURE = "back_pressure"
STORE_UNAVAILABLE = "store_unavailable"
NOT_READY = "not_ready"
INVALID = "invalid"
REQUEST_OUTCOMES = (
    ACCEPTED,
    UNAUTHORIZED,
    UNSUPPORTED_MEDIA_TYPE,
    TOO_LARGE,
    MALFORMED,
    BACK_PRESSURE,
    STORE_UNAVAILABLE,
    NOT_READY,
)
"""The answer: 200; 401; 415; 413; 400; 503 queue full; 503 store down; 503 receiver not started or stopping."""
RECORD_OUTCOMES = (ACCEPTED, INVALID, BACK_PRESSURE, STORE_UNAVAILABLE, NOT_READY)
"""Queued for the store; rejected in a partial success (malformed trace or span id); or in a 503 answer."""
REFUSALS = (BACK_PRESSURE, STORE_UNAVAILABLE, NOT_READY)
"""The outcomes answered 503 ``Retry-After``: the exporter keeps the data and retries."""
WRITE_ERRORS = ("unavailable", "refused", "error")
"""A store write that failed: store unreachable, erroring or too slow (retried); batch refused as invalid
(dropped, see ``fanz_otlp_dropped_records``); anything else (retried)."""

SIGNAL = Label("signal", "which OTLP route: /v1/traces or /v1/logs", SIGNALS)

OTLP_REQUESTS = MetricSpec(
    name="fanz_otlp_requests",
    kind=MetricKind.COUNTER,
    unit="requests",
    help="OTLP/HTTP export requests by signal and the answer they got (accepted, or why not).",
    labels=(SIGNAL, Label("outcome", "accepted, or why the request was refused", REQUEST_OUTCOMES)),
    source=Source.SERVER,
)
OTLP_RECORDS = MetricSpec(
    name="fanz_otlp_records",
    kind=MetricKind.COUNTER,
    unit="records",
    help="Spans and log records of decoded requests, by what became of them (queued for the store, or why not).",
    labels=(SIGNAL, Label("outcome", "accepted (queued), or why not", RECORD_OUTCOMES)),
    source=Source.SERVER,
)
OTLP_QUEUED_RECORDS = MetricSpec(
    name="fanz_otlp_queued_records",
    kind=MetricKind.GAUGE,
    unit="records",
    help="Accepted spans and log records waiting for the store (the batch being written included).",
    labels=(SIGNAL,),
    source=Source.SERVER,
)
OTLP_QUEUE_CAPACITY = MetricSpec(
    name="fanz_otlp_queue_capacity_records",
    kind=MetricKind.GAUGE,
    unit="records",
    help="Records the queue holds before the receiver answers 503 (otlp.queue_rows, for both signals).",
    labels=(),
    source=Source.SERVER,
)
OTLP_STORED_RECORDS = MetricSpec(
    name="fanz_otlp_stored_records",
    kind=MetricKind.COUNTER,
    unit="records",
    help="Spans and log records the store process confirmed written.",
    labels=(SIGNAL,),
    source=Source.SERVER,
)
OTLP_DROPPED_RECORDS = MetricSpec(
    name="fanz_otlp_dropped_records",
    kind=MetricKind.COUNTER,
    unit="records",
    help="Accepted records lost: in a batch the store refused as invalid (never retried; logged).",
    labels=(SIGNAL,),
    source=Source.SERVER,
)
OTLP_STORE_UP = MetricSpec(
    name="fanz_otlp_store_up",
    kind=MetricKind.GAUGE,
    unit="boolean",
    help="1 while the store process takes writes, 0 while it is unreachable or failing (the receiver answers 503).",
    labels=(),
    source=Source.SERVER,
)
OTLP_STORE_WRITE_ERRORS = MetricSpec(
    name="fanz_otlp_store_write_errors",
    kind=MetricKind.COUNTER,
    unit="writes",
    help="Batch writes to the store process that failed, by why; the batch is kept and retried unless refused.",
    labels=(SIGNAL, Label("error", "why the write failed", WRITE_ERRORS)),
    source=Source.SERVER,
)
OTLP_STORE_WRITE_DURATION = MetricSpec(
    name="fanz_otlp_store_write_duration_seconds",
    kind=MetricKind.HISTOGRAM,
    unit="seconds",
    help="Time of each successful batch write to the store process (up to otlp.batch_rows records).",
    labels=(SIGNAL,),
    source=Source.SERVER,
    # A batch of up to 20,000 rows takes tens of milliseconds on an idle store and seconds on a
    # busy one; the store client gives up after telemetry_store.timeout_seconds (10 s by default).
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
OTLP_SPOOL_FILES = MetricSpec(
    name="fanz_otlp_spool_files",
    kind=MetricKind.GAUGE,
    unit="files",
    help="Spooled batches on disk (written when a server stopped with the store away), waiting for replay.",
    labels=(),
    source=Source.SERVER,
)
OTLP_SPOOL_BYTES = MetricSpec(
    name="fanz_otlp_spool_bytes",
    kind=MetricKind.GAUGE,
    unit="bytes",
    help="Bytes of the spooled batches on disk, waiting for replay.",
    labels=(),
    source=Source.SERVER,
)

METRICS: tuple[MetricSpec, ...] = (
    OTLP_REQUESTS,
    OTLP_RECORDS,
    OTLP_QUEUED_RECORDS,
    OTLP_QUEUE_CAPACITY,
    OTLP_STORED_RECORDS,
    OTLP_DROPPED_RECORDS,
    OTLP_STORE_UP,
    OTLP_STORE_WRITE_ERRORS,
    OTLP_STORE_WRITE_DURATION,
    OTLP_SPOOL_FILES,
    OTLP_SPOOL_BYTES,
)

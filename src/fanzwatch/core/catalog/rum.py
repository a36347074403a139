"""Real User Monitoring metrics, recorded by the fanzwatch server from browser beacons.

Vitals are histograms in seconds (CLS is unitless) whose buckets include the
web.dev "good" and "poor" thresholds, so the share of good page views is
``bucket{le=<good>} / count`` with no interpolation error.
"""

from __future__ import annotations

from ._spec import PLATFORM, Label, MetricKind, MetricSpec, Source

DEVICE_CLASSES = ("mobile", "tablet", "desktop")
INTERACTION_KINDS = ("click", "submit")
ERROR_KINDS = ("error", "unhandledrejection")
EVENT_TYPES = ("vital", "page_load", "interaction", "error")
BEACON_ENDPOINTS = ("rum", "page-load", "interaction", "error", "batch", "other")
BEACON_OUTCOMES = (
    "accepted",
    "bot",
    "not_found",
    "method_not_allowed",
    "forbidden_origin",
    "unauthorized",
    "rate_limited",
    "unsupported_media_type",
    "too_large",
    "bad_encoding",
    "invalid",
    "unavailable",
    "error",
)

# (good, poor) thresholds per vital, in the unit of the histogram (seconds; CLS unitless).
VITAL_THRESHOLDS: dict[str, tuple[float, float]] = {
    "LCP": (2.5, 4.0),
    "INP": (0.2, 0.5),
    "CLS": (0.1, 0.25),
    "FCP": (1.8, 3.0),
    "TTFB": (0.8, 1.8),
}

PAGE_TEMPLATE = Label(
    "page_template",
    "the page's URL path as a template (/creator/:id/posts/:id); bounded by rum.max_page_templates, then 'other'",
)
DEVICE_CLASS = Label("device_class", "from the user agent", DEVICE_CLASSES)
PAGE_LABELS = (PLATFORM, PAGE_TEMPLATE, DEVICE_CLASS)


def _vital(
    name: str,
    unit: str,
    help_: str,
    buckets: tuple[float, ...],
    *,
    guide_name: str | None = None,
    guide_note: str = "",
) -> MetricSpec:
    return MetricSpec(
        name=name,
        kind=MetricKind.HISTOGRAM,
        unit=unit,
        help=help_,
        labels=PAGE_LABELS,
        source=Source.SERVER,
        buckets=buckets,
        guide_name=guide_name,
        guide_note=guide_note,
    )


RUM_LCP = _vital(
    "fanz_rum_lcp_seconds",
    "seconds",
    "Largest Contentful Paint per page view (good <= 2.5 s, poor > 4 s).",
    (0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 7.5, 10.0, 20.0),
    guide_name="largestContentfulPaint",
    guide_note="seconds; measured by the web-vitals library (the last LCP entry before input or hide)",
)
RUM_INP = _vital(
    "fanz_rum_inp_seconds",
    "seconds",
    "Interaction to Next Paint per page view (good <= 200 ms, poor > 500 ms).",
    (0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.0, 5.0),
    guide_name="firstInputDelay",
    guide_note="FID is no longer a Core Web Vital: INP replaced it in March 2024",
)
RUM_CLS = _vital(
    "fanz_rum_cls",
    "score (unitless)",
    "Cumulative Layout Shift per page view, largest session window (good <= 0.1, poor > 0.25).",
    (0.01, 0.05, 0.1, 0.15, 0.2, 0.25, 0.4, 0.6, 1.0, 2.0),
    guide_name="cumulativeLayoutShift",
    guide_note="largest 5 s session window (web-vitals), not a sum per observer callback",
)
RUM_FCP = _vital(
    "fanz_rum_fcp_seconds",
    "seconds",
    "First Contentful Paint per page view (good <= 1.8 s, poor > 3 s).",
    (0.5, 1.0, 1.5, 1.8, 2.4, 3.0, 4.0, 6.0, 10.0, 20.0),
    guide_name="firstContentfulPaint",
    guide_note="seconds; from web-vitals with attribution",
)
RUM_TTFB = _vital(
    "fanz_rum_ttfb_seconds",
    "seconds",
    "Time to First Byte of the page's document (good <= 0.8 s, poor > 1.8 s).",
    (0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.4, 1.8, 2.5, 4.0, 8.0),
)
RUM_PAGE_LOAD = _vital(
    "fanz_rum_page_load_seconds",
    "seconds",
    "Navigation start to the end of the load event (PerformanceNavigationTiming.loadEventEnd).",
    (0.5, 1.0, 2.0, 3.0, 4.0, 5.0, 7.5, 10.0, 15.0, 20.0, 30.0, 60.0),
    guide_name="pageLoadTime",
    guide_note="loadEventEnd relative to the entry's startTime: PerformanceNavigationTiming has no navigationStart",
)

RUM_JS_ERRORS = MetricSpec(
    name="fanz_rum_js_errors",
    kind=MetricKind.COUNTER,
    unit="errors",
    help="Uncaught JavaScript errors and unhandled rejections reported by browsers, by fingerprint.",
    labels=(
        PLATFORM,
        Label("kind", "what the browser reported", ERROR_KINDS),
        Label(
            "fingerprint",
            "12 hex digits of a hash of the error's normalised message and top stack frame; "
            "bounded by rum.max_error_fingerprints, then 'other'",
        ),
    ),
    source=Source.SERVER,
    guide_name="reportError",
    guide_note="counted by fingerprint with a bounded label set; one batched beacon, not one fetch per error",
)
RUM_INTERACTIONS = MetricSpec(
    name="fanz_rum_interactions",
    kind=MetricKind.COUNTER,
    unit="interactions",
    help="Sampled clicks and form submits (divide by the script's interactionSampleRate for totals).",
    labels=(PLATFORM, PAGE_TEMPLATE, Label("kind", "interaction type", INTERACTION_KINDS)),
    source=Source.SERVER,
    guide_name="reportUserInteraction",
    guide_note="sampled; element identity only (tag, id, data-rum, selector), never text or form values",
)
RUM_BEACONS = MetricSpec(
    name="fanz_rum_beacons",
    kind=MetricKind.COUNTER,
    unit="requests",
    help="Beacon requests by endpoint and outcome; platform is 'other' when rejected before the body was read.",
    labels=(
        PLATFORM,
        Label("endpoint", "the ingestion endpoint", BEACON_ENDPOINTS),
        Label("outcome", "accepted, or why not", BEACON_OUTCOMES),
    ),
    source=Source.SERVER,
)
RUM_EVENTS = MetricSpec(
    name="fanz_rum_events",
    kind=MetricKind.COUNTER,
    unit="events",
    help="Events accepted from beacons, by type.",
    labels=(PLATFORM, Label("type", "event type", EVENT_TYPES)),
    source=Source.SERVER,
)
RUM_QUEUED_EVENTS = MetricSpec(
    name="fanz_rum_queued_events",
    kind=MetricKind.GAUGE,
    unit="events",
    help="Accepted events waiting to be written to the store.",
    labels=(PLATFORM,),
    source=Source.SERVER,
)
RUM_STORED_EVENTS = MetricSpec(
    name="fanz_rum_stored_events",
    kind=MetricKind.COUNTER,
    unit="events",
    help="Events written to the store.",
    labels=(PLATFORM,),
    source=Source.SERVER,
)
RUM_STORE_ERRORS = MetricSpec(
    name="fanz_rum_store_errors",
    kind=MetricKind.COUNTER,
    unit="events",
    help="Events in a store write that failed; they stay queued and are retried.",
    labels=(PLATFORM,),
    source=Source.SERVER,
)
RUM_LOST_EVENTS = MetricSpec(
    name="fanz_rum_lost_events",
    kind=MetricKind.COUNTER,
    unit="events",
    help="Accepted events that could not be stored before shutdown (logged, never silent).",
    labels=(PLATFORM,),
    source=Source.SERVER,
)
RUM_DEAD_LETTER_EVENTS = MetricSpec(
    name="fanz_rum_dead_letter_events",
    kind=MetricKind.COUNTER,
    unit="events",
    help="Events the store refused (a value it cannot hold); kept in rum_dead_letters with the reason.",
    labels=(PLATFORM,),
    source=Source.SERVER,
)

VITAL_METRICS: dict[str, MetricSpec] = {
    "LCP": RUM_LCP,
    "INP": RUM_INP,
    "CLS": RUM_CLS,
    "FCP": RUM_FCP,
    "TTFB": RUM_TTFB,
}

METRICS: tuple[MetricSpec, ...] = (
    RUM_LCP,
    RUM_INP,
    RUM_CLS,
    RUM_FCP,
    RUM_TTFB,
    RUM_PAGE_LOAD,
    RUM_JS_ERRORS,
    RUM_INTERACTIONS,
    RUM_BEACONS,
    RUM_EVENTS,
    RUM_QUEUED_EVENTS,
    RUM_STORED_EVENTS,
    RUM_STORE_ERRORS,
    RUM_LOST_EVENTS,
    RUM_DEAD_LETTER_EVENTS,
)

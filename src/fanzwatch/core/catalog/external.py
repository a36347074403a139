"""Metrics we do not emit but query: Prometheus's own, process collector, node_exporter."""

from __future__ import annotations

from ._spec import Label, MetricKind, MetricSpec, Source

UP = MetricSpec(
    name="up",
    kind=MetricKind.GAUGE,
    unit="boolean",
    help="1 when Prometheus's last scrape of the target succeeded.",
    labels=(Label("job", "scrape job"), Label("instance", "scrape target")),
    source=Source.PROMETHEUS,
)
PROCESS_RESIDENT_MEMORY = MetricSpec(
    name="process_resident_memory_bytes",
    kind=MetricKind.GAUGE,
    unit="bytes",
    help="Resident set size of the process (prometheus_client process collector).",
    labels=(),
    source=Source.EXTERNAL,
)
NODE_FILESYSTEM_AVAIL = MetricSpec(
    name="node_filesystem_avail_bytes",
    kind=MetricKind.GAUGE,
    unit="bytes",
    help="Filesystem space available to non-root users (node_exporter).",
    labels=(Label("mountpoint", "mount point"), Label("fstype", "filesystem type"), Label("device", "device")),
    source=Source.EXTERNAL,
)
NODE_FILESYSTEM_SIZE = MetricSpec(
    name="node_filesystem_size_bytes",
    kind=MetricKind.GAUGE,
    unit="bytes",
    help="Filesystem size (node_exporter).",
    labels=(Label("mountpoint", "mount point"), Label("fstype", "filesystem type"), Label("device", "device")),
    source=Source.EXTERNAL,
)
NODE_FILESYSTEM_READONLY = MetricSpec(
    name="node_filesystem_readonly",
    kind=MetricKind.GAUGE,
    unit="boolean",
    help="1 when the filesystem is read-only (node_exporter).",
    labels=(Label("mountpoint", "mount point"), Label("fstype", "filesystem type"), Label("device", "device")),
    source=Source.EXTERNAL,
)

METRICS = (UP, PROCESS_RESIDENT_MEMORY, NODE_FILESYSTEM_AVAIL, NODE_FILESYSTEM_SIZE, NODE_FILESYSTEM_READONLY)

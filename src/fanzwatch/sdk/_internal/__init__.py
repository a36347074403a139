"""Implementation of ``fanzwatch.sdk``; import from ``fanzwatch.sdk`` instead."""

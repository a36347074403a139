"""Seeded, realistic creator-platform data for BI: a backfill for the demo, the tests, the benchmark.

Writes straight into the demo platform's tables (``fanzwatch.schema`` plus the platform's
private ones) on SQLite or PostgreSQL, with bulk inserts: users and creators with their
countries and prices, content, subscriptions with renewals, tips and pay-per-view in eight
currencies with daily exchange-rate histories, declined and failed attempts, refunds and
chargebacks landing days or weeks later, missing (NULL) fees, sessions, views, likes,
comments and shares. Traffic follows the simulator's seasonal model
(``demo.simulator.seasonality``). See docs/demo.md ("Generated history").

>>> from datetime import UTC, datetime, timedelta
>>> end = datetime(2026, 3, 1, tzinfo=UTC)
>>> summary = generate_platform_data(  # doctest: +SKIP
...     "sqlite:///platform.db", start=end - timedelta(days=90), end=end, platforms=("fanz-1",), seed=1
... )
"""

from ._model import VOLUMES, Volumes
from ._run import GenerationError, GenerationProgress, GenerationSummary, generate_platform_data

__all__ = ["VOLUMES", "GenerationError", "GenerationProgress", "GenerationSummary", "Volumes", "generate_platform_data"]

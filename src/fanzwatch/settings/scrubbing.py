"""Settings of the personal-data scrubber (``FANZWATCH_SCRUB_*``).

A ``ScrubSettings`` *is* a ``fanzwatch.core.scrubbing.ScrubRules``, read from the
environment, so the server passes it straight to every feature that stores text from
outside (RUM, alert annotations, incident notes):

    FANZWATCH_SCRUB_IPS=true
    FANZWATCH_SCRUB_PHONE_REGION=GB
    FANZWATCH_SCRUB_EXTRA_PATTERNS='["\\\\bFANZ-\\\\d{6}\\\\b"]'

>>> ScrubSettings(ips=True).ips
True
"""

from __future__ import annotations

from ..core.scrubbing import ScrubRules
from ._base import ComponentSettings, component_config


class ScrubSettings(ScrubRules, ComponentSettings):
    """What is removed from free text before it is stored; everything but IPs by default."""

    model_config = component_config("scrub")

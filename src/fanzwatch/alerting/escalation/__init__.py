"""Escalation: policies snapshotted per incident, on-call rotations, the escalator."""

from .escalator import Escalator
from .policy import EscalationSnapshot, Recipient, Step, resolve_targets
from .schedules import next_handover, on_call

__all__ = ["EscalationSnapshot", "Escalator", "Recipient", "Step", "next_handover", "on_call", "resolve_targets"]

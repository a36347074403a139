"""The fake payment processor of the demo: primary and backup endpoints, fraud check, faults."""

from .app import ProcessorConfig, create_processor_app
from .fraud import FraudScorer
from .models import (
    Charge,
    ChargeRequest,
    ChargeStatus,
    Endpoint,
    FaultConfig,
    FraudCheckRequest,
    FraudCheckResult,
    FraudDecision,
)

__all__ = [
    "Charge",
    "ChargeRequest",
    "ChargeStatus",
    "Endpoint",
    "FaultConfig",
    "FraudCheckRequest",
    "FraudCheckResult",
    "FraudDecision",
    "FraudScorer",
    "ProcessorConfig",
    "create_processor_app",
]

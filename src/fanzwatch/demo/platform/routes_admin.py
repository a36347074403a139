"""Operator endpoints: which processor endpoint is active, and injected platform faults.

``PUT /admin/payment-processor`` is the remediation lever for a processor outage
(switch to ``backup``); ``/admin/faults`` is how incidents other than the processor's are
injected. Both are unauthenticated: the platform listens on loopback only.
"""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict

from ..processor.models import Endpoint
from .faults import PlatformFaults, PlatformFaultsPatch
from .runtime import Runtime

router = APIRouter(prefix="/admin", tags=["admin"])


class ProcessorChoice(BaseModel):
    model_config = ConfigDict(extra="forbid")

    active: Endpoint


class ProcessorStatus(BaseModel):
    active: Endpoint
    primary_healthy: bool
    backup_healthy: bool


@router.get("/payment-processor")
async def processor_status(rt: Runtime) -> ProcessorStatus:
    return ProcessorStatus(
        active=rt.processor.active,
        primary_healthy=await rt.processor.healthy(Endpoint.PRIMARY),
        backup_healthy=await rt.processor.healthy(Endpoint.BACKUP),
    )


@router.put("/payment-processor")
async def switch_processor(rt: Runtime, body: ProcessorChoice) -> ProcessorChoice:
    """Charge through ``body.active`` from now on."""
    rt.processor.active = body.active
    return ProcessorChoice(active=rt.processor.active)


@router.get("/faults")
async def get_faults(rt: Runtime) -> PlatformFaults:
    return rt.faults.current


@router.patch("/faults")
async def patch_faults(rt: Runtime, body: PlatformFaultsPatch) -> PlatformFaults:
    """Change only the faults given; the others stay as they are."""
    return rt.faults.apply(body)


@router.delete("/faults")
async def clear_faults(rt: Runtime) -> PlatformFaults:
    rt.faults.current = PlatformFaults()
    return rt.faults.current

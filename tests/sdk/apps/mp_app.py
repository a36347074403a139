"""A FANZ-like service for the multi-worker test: run by uvicorn --workers 2 in a subprocess.

Configured only through the environment (FANZWATCH_TELEMETRY_*, PROMETHEUS_MULTIPROC_DIR,
MP_DB_URL), as a real deployment would be.
"""

from __future__ import annotations

import os
from decimal import Decimal

from fastapi import FastAPI, Request
from sqlalchemy import create_engine, text

from fanzwatch.sdk import TelemetryMiddleware, init_telemetry, instrument_db_pool, record_payment

telemetry = init_telemetry()
engine = create_engine(os.environ["MP_DB_URL"], pool_size=3, max_overflow=2)
instrument_db_pool(engine, pool_name="main")

app = FastAPI()


@app.post("/pay/{n}")
def pay(n: int, request: Request) -> dict[str, int]:
    """One business action: a payment, completed for even n, declined for odd n."""
    record_payment(
        amount=Decimal("2.50"), currency="EUR", payment_type="tip", status="completed" if n % 2 == 0 else "declined"
    )
    request.state.user_id = f"user-{n % 7}"
    with engine.connect() as conn:
        conn.execute(text("select 1"))
    return {"pid": os.getpid()}


@app.get("/health/live")
def live() -> dict[str, str]:
    return {"status": "pass"}


app.add_middleware(TelemetryMiddleware, telemetry=telemetry)

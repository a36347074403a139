"""The demo creator platform, its fake payment processor and the traffic simulator.

Three separate services, each its own process under ``fanzwatch up --demo``:

- ``fanzwatch.demo.platform``: a small FANZ-like platform (FastAPI + SQLAlchemy on the
  shared ``fanzwatch.schema``), instrumented only through the public ``fanzwatch.sdk``;
- ``fanzwatch.demo.processor``: a fake card processor with primary and backup endpoints,
  a fraud check and runtime fault injection;
- ``fanzwatch.demo.simulator``: seasonal fan and creator traffic with incident injection.

The demo imports only ``fanzwatch.sdk``, ``fanzwatch.health`` and ``fanzwatch.schema``:
it is what a real FANZ service looks like from the outside.
"""

"""Incidents: the state machine fed by alerts, what people do to them, and reading them."""

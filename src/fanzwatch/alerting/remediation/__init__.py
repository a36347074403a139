"""Remediation: playbooks matched to alerts, safety rules, actions, verification, audit."""

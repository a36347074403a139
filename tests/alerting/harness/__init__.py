"""Replicas in their own processes, for tests of several replicas on one store."""

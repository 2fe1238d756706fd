"""Simulated national services (one package per mock, shaped like a `moto` service)."""

"""Referencing scenarios of the DSR (next round: engine, steps, expected exchanges)."""

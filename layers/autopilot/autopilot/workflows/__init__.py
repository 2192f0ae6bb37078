"""Use cases: gather facts through adapters, decide with pure domain code, act, record."""

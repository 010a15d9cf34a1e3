"""Contract cases, one module per family (see tests/contract.py)."""

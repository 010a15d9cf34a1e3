"""Figures of the families, one module per family (matplotlib, Agg backend)."""

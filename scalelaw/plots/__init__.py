"""Figures of the families, one module per family (scalelaw.plotting holds the shared helpers)."""

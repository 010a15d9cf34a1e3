"""Imported once by the job processes' fork server, so that each fit starts with the library loaded."""

import matplotlib

matplotlib.use("Agg")

import scalelaw.cli  # noqa: E402,F401  (every command module, and through them the families)
import scalelaw.families.loss  # noqa: E402,F401
import scalelaw.protocol  # noqa: E402,F401

"""Imported once by the job processes' fork server, so that each fit starts with the library loaded."""

import scalelaw.cli  # noqa: F401  (every command module, and through them the families)
import scalelaw.families.loss  # noqa: F401
import scalelaw.protocol  # noqa: F401

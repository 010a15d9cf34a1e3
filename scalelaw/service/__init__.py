"""``scalelaw serve``: an HTTP API over a registry of fits, with jobs, tokens and limits.

The service sits on top of the library: fits run the CLI's own fit commands (:mod:`scalelaw.cli.invoke`)
in worker processes, answers come from :mod:`scalelaw.answers`, and every artifact is stored and served
through the result protocol (``to_json`` / :func:`scalelaw.load`), never through family-specific code.
"""

from scalelaw.service.config import Limits, ServiceConfig

__all__ = ["Limits", "ServiceConfig", "create_app"]


def create_app(config: ServiceConfig):
    """The FastAPI application for ``config`` (imports FastAPI on first use)."""
    from scalelaw.service.app import create_app as make

    return make(config)

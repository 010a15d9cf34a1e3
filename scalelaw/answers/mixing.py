"""The answer of a fitted mixing law: ``optimal``, the best mixture on the simplex."""

from __future__ import annotations

from scalelaw.answers.common import Answer, flag, real
from scalelaw.io import values
from scalelaw.result import FitResult

LAWS = ("transport.mixing_law", "transport.linear_mixing")


def is_mixing(result: object) -> bool:
    """Whether ``result`` is a fitted mixing law (``mix fit``)."""
    return isinstance(result, FitResult) and result.law.name in LAWS


def optimal(fit: FitResult, *, cap=None, max_share=None, maximize: bool = False) -> Answer:
    """The mixture that minimises (``maximize``: maximises) the fitted target, each domain's share at
    most its ``cap`` (``{"domain": 0.2}`` or ``"domain=0.2"`` texts) or ``max_share``; the result is the
    :class:`~scalelaw.families.transport.mixing.Optimum`."""
    from scalelaw.families.transport import mixing as family

    caps = values.shares("cap=", cap) or {}
    share = real("max_share=", max_share)
    if share is not None:
        caps = {d: caps.get(d, share) for d in family.domains_of(fit.law)}
    best = family.optimize(fit, caps=caps or None, maximize=flag("maximize=", maximize))
    return Answer(best.record() | {"target": fit.law.target, "law": fit.law.name, "warnings": list(best.warnings)},
                  best)

"""The family contract: cases that every result class of every family must pass.

A family registers cases in a module of ``tests/contract_cases/`` (one module per family)::

    from contract import case
    case("loss.allocation", lambda **s: loss.allocate(FIT, **s), flops=[1e21, 1e22],
         bad=lambda: loss.allocate(FIT, flops=[-1.0]))

``make(**settings)`` builds the result from the family's inputs (bound in the closure);
``bad()`` must raise a ScalelawError.  ``tests/test_contract_families.py`` runs every check on every
case, and fails when a registered result class (``scalelaw.protocol.SCHEMAS``) has no case.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Case:
    name: str
    make: Callable[..., object]
    settings: dict = field(default_factory=dict)
    bad: Callable[[], object] | None = None

    def __str__(self) -> str:
        return self.name


CASES: list[Case] = []


def case(name: str, make: Callable[..., object], *, bad: Callable[[], object] | None = None, **settings) -> Case:
    """Register a contract case: ``make(**settings)`` gives the result, ``bad()`` raises."""
    if any(c.name == name for c in CASES):
        raise ValueError(f"contract case {name!r} is registered twice")
    registered = Case(name, make, dict(settings), bad)
    CASES.append(registered)
    return registered

"""Generated hostile input through every target (:mod:`fuzz.targets`): each call is answered or refused with
one ScalelawError line (exit 2, one line on stderr, nothing written), never anything else."""

from __future__ import annotations

import pytest
from hypothesis import given

from fuzz.budget import budget
from fuzz.targets import TARGETS


@pytest.mark.parametrize("name", list(TARGETS))
def test_every_case_is_answered_or_refused(name):
    target = TARGETS[name]

    @budget(target.examples)
    @given(case=target.strategy())
    def run(case):
        for kind, call in target.run(case):
            assert kind in ("ok", "refused"), f"{call}: {kind}\ncase: {case!r}"[:3000]

    run()

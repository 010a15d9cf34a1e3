"""What the fuzz suite found, one regression test each."""

from __future__ import annotations

import pytest

from scalelaw.expression import ConstantError, parse
from scalelaw.laws import get_law

from support import DATA, assert_user_error


@pytest.mark.parametrize("text", ["9" * 400, "E + A/N**alpha * " + "9" * 309])
def test_an_integer_beyond_the_largest_float_is_refused_with_its_column(text):
    with pytest.raises(ConstantError, match=r"\(column \d+\) overflows \(\|value\| > 1.8e308\); write a finite"):
        parse(text)
    with pytest.raises(ConstantError, match="overflows"):
        get_law(text)


def test_the_command_line_refuses_it_in_one_line(cli):
    formula = "E + A/N**alpha + " + "9" * 400
    run = cli("fit", "loss", DATA / "loss" / "epoch_chinchilla_svg_extracted.csv", "--law", formula)
    assert_user_error(run, "overflows (|value| > 1.8e308)")

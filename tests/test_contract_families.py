"""Every result of every family follows the result protocol (see tests/contract.py)."""

from __future__ import annotations

import functools
import importlib
import pkgutil
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from contract import CASES  # noqa: E402

import scalelaw  # noqa: E402
from scalelaw import protocol  # noqa: E402
from scalelaw.errors import ScalelawError  # noqa: E402

from support import comparable  # noqa: E402

for _module in pkgutil.iter_modules([str(Path(__file__).parent / "contract_cases")]):
    importlib.import_module(f"contract_cases.{_module.name}")
for _module in protocol.MODULES.values():
    importlib.import_module(_module)

@functools.cache
def built(name: str):
    case = next(c for c in CASES if c.name == name)
    return case.make(**case.settings)


def cases(*, with_bad: bool = False):
    chosen = [c for c in CASES if c.bad is not None] if with_bad else CASES
    return pytest.mark.parametrize("case", chosen, ids=str)


def test_every_result_class_has_a_case():
    covered = {type(built(c.name)).__name__ for c in CASES}
    covered |= {type(m).__name__ for c in CASES if isinstance(built(c.name), scalelaw.FitGroup)
                for m in built(c.name).values()}
    missing = sorted(cls.__name__ for cls in protocol.SCHEMAS.values())
    assert [m for m in missing if m not in covered] == []


@cases()
def test_artifact_round_trip_through_load(case, tmp_path):
    result = built(case.name)
    assert isinstance(result, protocol.Result)
    assert result.SCHEMA.startswith(f"scalelaw.{result.FAMILY}.{result.KIND}/")
    path = tmp_path / "result.json"
    result.to_json(path)
    again = scalelaw.load(path)
    assert type(again) is type(result)
    assert comparable(again.to_dict()) == comparable(result.to_dict())
    assert protocol.load(result.to_json()).to_json() == again.to_json()


@cases()
def test_summary_report_plot(case):
    result = built(case.name)
    frame = result.summary()
    assert isinstance(frame, pd.DataFrame) and not frame.empty and len(frame.columns) > 0
    assert result.report().strip()
    assert isinstance(result.warnings, tuple) and all(isinstance(w, str) for w in result.warnings)
    figure = result.plot()
    assert isinstance(figure, matplotlib.figure.Figure) and figure.axes
    plt.close(figure)
    fig, ax = plt.subplots()
    assert result.plot(ax=ax) is fig
    plt.close(fig)


@cases()
def test_settings_replay(case):
    result = built(case.name)
    settings = dict(result.settings)
    assert isinstance(result.settings, protocol.FrozenDict) or not hasattr(result.settings, "__setitem__")
    again = case.make(**settings)
    assert comparable(again.to_dict()) == comparable(result.to_dict())


@cases(with_bad=True)
def test_bad_input_is_a_user_error(case):
    with pytest.raises(ScalelawError):
        case.bad()

"""scalelaw.data: the shipped data beside the package or under $SCALELAW_DATA; shared data only
under $SCALELAW_SHARED_DATA."""

from __future__ import annotations

import pytest

import scalelaw
from scalelaw import data
from scalelaw.errors import InputError

from support import DATA


def test_path_finds_the_shipped_data_from_any_working_directory(tmp_path, monkeypatch):
    monkeypatch.delenv("SCALELAW_DATA", raising=False)
    monkeypatch.chdir(tmp_path)
    found = scalelaw.data.path("loss/epoch_chinchilla_svg_extracted.csv")
    assert found == DATA / "loss" / "epoch_chinchilla_svg_extracted.csv"
    assert found.read_bytes() == (DATA / "loss" / "epoch_chinchilla_svg_extracted.csv").read_bytes()


def test_scalelaw_data_points_elsewhere(tmp_path, monkeypatch):
    (tmp_path / "loss").mkdir()
    (tmp_path / "loss" / "runs.csv").write_text("params,tokens,loss\n1e8,2e9,3.1\n")
    monkeypatch.setenv("SCALELAW_DATA", str(tmp_path))
    assert data.path("loss/runs.csv") == tmp_path / "loss" / "runs.csv"
    with pytest.raises(InputError, match=r"absent from \$SCALELAW_DATA"):
        data.path("loss/epoch_chinchilla_svg_extracted.csv")


def test_shared_data_is_only_where_the_variable_says(tmp_path, monkeypatch):
    monkeypatch.delenv("SCALELAW_SHARED_DATA", raising=False)
    with pytest.raises(InputError, match="set SCALELAW_SHARED_DATA"):
        data.shared("hparams/dense_lr_bs_loss.csv")
    (tmp_path / "hparams").mkdir()
    monkeypatch.setenv("SCALELAW_SHARED_DATA", str(tmp_path))
    assert data.shared("hparams") == tmp_path / "hparams"
    with pytest.raises(InputError, match=r"absent from \$SCALELAW_SHARED_DATA"):
        data.shared("hparams/dense_lr_bs_loss.csv")

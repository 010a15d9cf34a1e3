"""A group fit's artifact written member by member has the bytes of its whole text, and stays atomic."""

from __future__ import annotations

import warnings

import pytest
from test_groups import _obsscaling

import scalelaw
from scalelaw import artifact
from scalelaw.result import FitGroup

from support import DATA, run_cli


@pytest.fixture(scope="module")
def group():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return scalelaw.fit(scalelaw.get_law("saturating_power_law"), _obsscaling(), by="task", bootstrap=5, seed=1)


def test_the_pieces_are_the_whole_text(group, tmp_path):
    text = group.to_json()
    pieces = list(group.json_chunks())
    assert len(pieces) > len(group) and "".join(pieces) == text
    assert group.write_json(tmp_path / "g.json").read_bytes() == text.encode()
    assert scalelaw.load(tmp_path / "g.json").to_json() == text
    empty = FitGroup("core", "groups", {}, key="task")
    assert "".join(empty.json_chunks()) == empty.to_json()


def test_the_command_line_writes_the_bytes_of_to_json(tmp_path):
    out = tmp_path / "fit.json"
    run = run_cli("fit", "loss", str(DATA / "loss" / "porian_isoflop_points.csv"), "--by", "dataset", "--bootstrap",
                  "3", "--out", str(out))
    assert run.code == 0, run.stderr
    written = out.read_text()
    assert list(scalelaw.load(out)) == ["rw", "owt2"] and scalelaw.load(out).to_json() == written


def test_a_write_that_fails_midway_leaves_no_file(tmp_path):
    def pieces():
        yield "{\n"
        raise RuntimeError("stopped")

    with pytest.raises(RuntimeError):
        artifact.write_atomic(tmp_path / "a.json", pieces())
    assert list(tmp_path.iterdir()) == []

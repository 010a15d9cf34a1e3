"""Written files get the user's umask mode, are written atomically and leave nothing behind on failure."""

from __future__ import annotations

import os
import stat
from contextlib import contextmanager

import pytest

from scalelaw import artifact

from support import DATA


@contextmanager
def umask(mask: int):
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.mark.parametrize(("mask", "mode"), [(0o022, 0o644), (0o027, 0o640), (0o077, 0o600), (0o002, 0o664)])
@pytest.mark.parametrize("content", ["text ü\n", b"\x89PNG\r\n"])
def test_written_file_gets_the_umask_mode(tmp_path, mask, mode, content):
    target = tmp_path / "sub" / "fit.json"
    with umask(mask):
        assert artifact.write_atomic(target, content) == target
    assert _mode(target) == mode
    assert target.read_bytes() == (content.encode() if isinstance(content, str) else content)
    assert sorted(p.name for p in target.parent.iterdir()) == ["fit.json"]


def test_rewriting_a_file_replaces_it_whole_with_the_umask_mode(tmp_path):
    target = tmp_path / "fit.json"
    target.write_text("old")
    target.chmod(0o600)
    with umask(0o022):
        artifact.write_atomic(target, "new")
    assert target.read_text() == "new" and _mode(target) == 0o644


def test_a_failed_write_leaves_no_file(tmp_path):
    target = tmp_path / "fit.json"
    with pytest.raises(TypeError):
        artifact.write_atomic(target, 12.5)  # neither text nor bytes: the write itself fails
    assert list(tmp_path.iterdir()) == []


def test_a_failed_write_keeps_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "fit.json"
    target.write_text("old")

    def refuse(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(artifact.os, "replace", refuse)
    with pytest.raises(OSError, match="disk full"):
        artifact.write_atomic(target, "new")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["fit.json"]


def test_cli_artifact_and_figure_get_the_umask_mode(tmp_path, cli):
    out, plot = tmp_path / "fit.json", tmp_path / "fit.png"
    with umask(0o027):
        run = cli("fit", "loss", DATA / "loss" / "epoch_chinchilla_svg_extracted.csv", "--exclude-highest", "5",
                  "--out", out, "--plot", plot)
    assert run.code == 0, run.stderr
    assert (_mode(out), _mode(plot)) == (0o640, 0o640)

"""Outputs that cannot destroy anything: every output path is checked before any work (one line, exit 2,
the input untouched, no file made), all outputs are written or none, and Ctrl-C or kill -9 during a long
fit leave no output behind."""

from __future__ import annotations

import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hparams_sweeps import sweep_frame, write

from scalelaw import artifact, outputs
from scalelaw.errors import InputError

from support import DATA, assert_user_error, run_cli

CHINCHILLA = DATA / "loss" / "epoch_chinchilla_svg_extracted.csv"
ROOT_USER = os.geteuid() == 0 if hasattr(os, "geteuid") else False


def _copy(source: Path, folder: Path) -> Path:
    return Path(shutil.copy(source, folder / source.name))


def _pair(folder: Path) -> tuple[Path, Path]:
    rng = np.random.default_rng(0)
    a, b = folder / "a.csv", folder / "b.csv"
    pd.DataFrame({"x": rng.normal(size=30)}).to_csv(a, index=False)
    pd.DataFrame({"x": rng.normal(size=30) + 1}).to_csv(b, index=False)
    return a, b


def _fit(folder: Path) -> Path:
    path = folder / "fit.json"
    assert run_cli("fit", "loss", CHINCHILLA, "--out", path).code == 0
    return path


def _mix(folder: Path) -> tuple[list, Path]:
    mixtures, losses = (_copy(DATA / "mixture" / name, folder) for name in
                        ("train_mixture_1m.csv", "train_pile_loss_1m.csv"))
    return ["mix", "fit", mixtures, losses, "--target", "metric/the_pile_pile_cc_val_loss"], losses


def _transport(folder: Path) -> tuple[list, Path]:
    a, b = _pair(folder)
    return ["transport", "distance", a, b], b


def _hparams(folder: Path) -> tuple[list, Path]:
    sweep = write(folder / "sweep.csv", sweep_frame())
    return ["hparams", "fit", sweep], sweep


def _one(words: list, source: Path):
    return lambda folder: ([*words[:2], _copy(source, folder), *words[2:]], folder / source.name)


#: Command -> a function of a folder giving the command line (without outputs) and the input to protect.
COMMANDS = {
    "fit loss": _one(["fit", "loss"], CHINCHILLA),
    "fit isoflop": _one(["fit", "isoflop", "--where", "dataset=rw", "--where", "hparams=tuned"],
                        DATA / "loss" / "porian_isoflop_points.csv"),
    "validate loss": _one(["validate", "loss"], CHINCHILLA),
    "sampling fit": _one(["sampling", "fit"], DATA / "sampling" / "llmonkeys_pythia_math_per_problem.csv"),
    "hparams fit": _hparams,
    "mix fit": _mix,
    "transport distance": _transport,
    "downstream observational": _one(["downstream", "observational", "--target", "GSM8K", "--cutoff-flops",
                                      "8.4e22"], DATA / "downstream" / "obsscaling" / "base_llm_benchmark_eval.csv"),
    "optimal": lambda folder: (["optimal", _fit(folder), "--flops", "1e21"], folder / "fit.json"),
}


def _device(folder: Path) -> Path:
    """A device node to write onto: /dev/null, or (as root, who could replace it) a node of our own."""
    if not ROOT_USER:
        return Path(os.devnull)
    node = folder / "null"
    try:
        os.mknod(node, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    except (PermissionError, OSError):
        os.mkfifo(node)  # no right to make devices: a FIFO is as special a file
    return node


def _unwritable(folder: Path) -> Path:
    """A folder this process cannot write in: mode 0o500, or (as root, whom mode bits do not stop) /sys."""
    if ROOT_USER:
        return Path("/sys")
    locked = folder / "locked"
    locked.mkdir(mode=0o500)
    return locked


#: Case -> (the options naming the outputs, given the folder and the input; a fragment of the message).
CASES = {
    "out is the input": (lambda f, source: ["--out", source], "is the input file"),
    "out is a device": (lambda f, source: ["--out", _device(f)], "is not a regular file"),
    "out is the plot": (lambda f, source: ["--out", f / "same.png", "--plot", f / "same.png"], "is also --out"),
    "folder not writable": (lambda f, source: ["--out", _unwritable(f) / "fit.json"], "cannot write in the folder"),
    "folder missing": (lambda f, source: ["--out", f / "nowhere" / "fit.json"], "does not exist"),
    "out is a link": (lambda f, source: ["--out", _link(f / "link.json", source)], "is a symbolic link"),
}


def _link(link: Path, target: Path) -> Path:
    link.symlink_to(target)
    return link


def _state(folder: Path) -> dict:
    """Every entry of the folder, by name: its bytes, a link's target, or its kind."""
    found = {}
    for entry in sorted(folder.iterdir()):
        if entry.is_symlink():
            found[entry.name] = f"-> {os.readlink(entry)}"
        elif entry.is_file():
            found[entry.name] = entry.read_bytes()
        else:
            found[entry.name] = stat.S_IFMT(entry.lstat().st_mode)
    return found


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_an_output_that_could_destroy_a_file_is_refused_before_any_work(tmp_path, command, case):
    words, source = COMMANDS[command](tmp_path)
    options, fragment = CASES[case]
    given = options(tmp_path, source)
    before = _state(tmp_path)
    device = next((p for p in given if isinstance(p, Path) and p.name == "null"), None)
    kind = stat.S_IFMT(os.lstat(device).st_mode) if device else None
    started = time.perf_counter()
    run = run_cli(*words, *given)
    assert_user_error(run, fragment)
    assert _state(tmp_path) == before  # the input byte for byte, and no new file (nor temporary)
    assert time.perf_counter() - started < 30  # refused up front, not after the work
    if device is not None:
        assert stat.S_IFMT(os.lstat(device).st_mode) == kind != stat.S_IFREG


def test_outputs_are_checked_before_the_input_is_read(tmp_path):
    run = run_cli("fit", "loss", tmp_path / "absent.csv", "--out", tmp_path / "nowhere" / "fit.json")
    assert_user_error(run, "--out", "the folder", "does not exist")


def test_an_argument_naming_a_file_is_an_input(tmp_path):
    fit = _fit(tmp_path)
    text = fit.read_bytes()
    run = run_cli("hparams", "recommend", "--params", "7B", "--tokens", "1.4T", "--law", fit, "--out", fit)
    assert_user_error(run, "is the input file")
    assert fit.read_bytes() == text


def test_an_existing_file_inside_an_input_folder_is_refused(tmp_path):
    ladder = Path(shutil.copytree(DATA / "downstream" / "olmo_ladder", tmp_path / "ladder"))
    before = (ladder / "final.json").read_bytes()
    run = run_cli("downstream", "ladder", ladder, "--format", "olmo-ladder", "--task", "mmlu",
                  "--out", ladder / "final.json")
    assert_user_error(run, "inside the input folder")
    assert (ladder / "final.json").read_bytes() == before


def test_writability_is_what_the_folder_allows_this_process_not_its_mode_bits(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    try:
        (locked / "probe").touch()
    except PermissionError:
        writable = False
    else:
        (locked / "probe").unlink()
        writable = True
    assert writable == ROOT_USER
    if writable:
        assert outputs.check({"out": locked / "fit.json"}) == [locked / "fit.json"]
        assert list(locked.iterdir()) == []  # the probe is gone
    else:
        with pytest.raises(InputError, match="out='.*fit.json': cannot write in the folder"):
            outputs.check({"out": locked / "fit.json"})


def test_the_check_sees_through_spellings_and_hard_links(tmp_path):
    source = _copy(CHINCHILLA, tmp_path)
    os.link(source, tmp_path / "hard.csv")
    with pytest.raises(InputError, match="out='.*hard.csv' is the input file"):
        outputs.check({"out": tmp_path / "hard.csv"}, [source])
    (tmp_path / "sub").mkdir()
    with pytest.raises(InputError, match=r"plot='.*/sub/\.\./x.png' is also out="):
        outputs.check({"out": tmp_path / "x.png", "plot": tmp_path / "sub" / ".." / "x.png"})
    os.mkfifo(tmp_path / "pipe")
    with pytest.raises(InputError, match="is not a regular file"):
        outputs.check({"out": tmp_path / "pipe"})
    (tmp_path / "dangling").symlink_to(tmp_path / "absent.json")
    with pytest.raises(InputError, match="is a symbolic link"):
        outputs.check({"out": tmp_path / "dangling"})
    assert not (tmp_path / "absent.json").exists()


def test_a_read_only_output_is_refused(tmp_path, monkeypatch):
    kept = tmp_path / "fit.json"
    kept.write_text("kept")
    kept.chmod(0o444)
    if ROOT_USER:  # root may write any file: the file is read-only to everyone else, as to this check
        real = os.access
        monkeypatch.setattr(os, "access", lambda path, mode, **kw: False if Path(path) == kept and mode == os.W_OK
                            else real(path, mode, **kw))
    with pytest.raises(InputError, match="is read-only"):
        outputs.check({"out": kept})


def test_the_python_writer_refuses_a_special_file_and_a_link(tmp_path):
    node = _device(tmp_path)
    kind = stat.S_IFMT(os.lstat(node).st_mode)
    with pytest.raises(InputError, match="is not a regular file"):
        artifact.write_atomic(node, "{}")
    assert stat.S_IFMT(os.lstat(node).st_mode) == kind
    (tmp_path / "link.json").symlink_to(tmp_path / "elsewhere.json")
    with pytest.raises(InputError, match="is a symbolic link"):
        artifact.write_atomic(tmp_path / "link.json", "{}")
    assert not (tmp_path / "elsewhere.json").exists()


@pytest.mark.parametrize("stage", ["staging", "renaming"])
def test_a_failure_on_the_plot_leaves_no_artifact_either(tmp_path, monkeypatch, stage):
    """The figure fails to be written after the artifact was rendered (and, renaming, put in place)."""
    if stage == "staging":
        made, calls = outputs.new_temporary, []

        def new_temporary(path):
            calls.append(path)
            if path.suffix == ".png" and calls.count(path) > 1:  # the probe of the check passes
                raise OSError(28, "No space left on device")
            return made(path)

        monkeypatch.setattr(outputs, "new_temporary", new_temporary)
    else:
        replace = os.replace

        def failing(source, target):
            if str(target).endswith(".png"):
                raise OSError(28, "No space left on device")
            replace(source, target)

        monkeypatch.setattr(outputs.os, "replace", failing)
    source = _copy(CHINCHILLA, tmp_path)
    run = run_cli("fit", "loss", source, "--out", tmp_path / "fit.json", "--plot", tmp_path / "fit.png")
    assert_user_error(run, "fit.png: cannot be written (No space left on device); no output was written")
    assert sorted(p.name for p in tmp_path.iterdir()) == [source.name]


def test_a_temporary_is_hidden_random_and_ignored_by_folder_readers(tmp_path):
    from scalelaw.families.transport.distance import read_sources

    a, b = _pair(tmp_path)
    fd, tmp = outputs.new_temporary(tmp_path / "c.csv")
    os.write(fd, b"x\n1\n")
    os.close(fd)
    assert tmp.name.startswith(".c.csv.") and tmp.name.endswith(".tmp") and len(tmp.name) == len(".c.csv..tmp") + 12
    assert [s.name for s in read_sources(tmp_path)] == ["a", "b"]


def _start(tmp_path: Path, *args) -> subprocess.Popen:
    """``scalelaw ARGS`` in a new process that is past its imports and reading or fitting (bounded waits)."""
    process = subprocess.Popen([sys.executable, "-c", "from scalelaw.cli import main; main()", *map(str, args)],
                               cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    maps, deadline = Path(f"/proc/{process.pid}/maps"), time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None and "pandas" not in maps.read_text():
        time.sleep(0.05)
    time.sleep(1.0)
    assert process.poll() is None, process.communicate()
    return process


LONG = ("fit", "loss", CHINCHILLA.name, "--bootstrap", "20000", "--out", "fit.json")  # minutes of work


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="needs /proc to see the process at work")
def test_ctrl_c_stops_a_long_fit_within_a_second_and_writes_nothing(tmp_path):
    _copy(CHINCHILLA, tmp_path)
    process = _start(tmp_path, *LONG)
    sent = time.monotonic()
    process.send_signal(signal.SIGINT)
    try:
        out, err = process.communicate(timeout=10)
    finally:
        process.kill()
    stopped = time.monotonic() - sent
    assert process.returncode == 130, err
    assert err == "error: interrupted; nothing written\n" and out == ""
    assert stopped < 1.0, stopped
    assert sorted(p.name for p in tmp_path.iterdir()) == [CHINCHILLA.name]


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="needs /proc to see the process at work")
def test_kill_9_during_a_long_fit_leaves_no_output_and_a_rerun_succeeds(tmp_path):
    _copy(CHINCHILLA, tmp_path)
    process = _start(tmp_path, *LONG)
    process.kill()
    process.communicate(timeout=10)
    assert process.returncode == -signal.SIGKILL
    left = sorted(p.name for p in tmp_path.iterdir() if p.name != CHINCHILLA.name)
    assert all(name.startswith(".fit.json.") and name.endswith(".tmp") for name in left), left
    rerun = run_cli("fit", "loss", tmp_path / CHINCHILLA.name, "--out", tmp_path / "fit.json")
    assert rerun.code == 0, rerun.stderr
    assert artifact.load(tmp_path / "fit.json")["params"]["E"] == pytest.approx(1.89134, abs=1e-5)

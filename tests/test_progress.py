"""Progress of the slow steps: a ``progress(done, total)`` callback in Python, a bar on a terminal's
stderr in the CLI, none with --quiet; progress is never a setting."""

from __future__ import annotations

import pytest

from scalelaw.families import datastore as ds
from scalelaw.families import sampling
from scalelaw.families.transport import demo

from support import DATA

PER_PROBLEM = DATA / "sampling" / "llmonkeys_pythia_math_per_problem.csv"


class Calls(list):
    def __call__(self, done: int, total: int) -> None:
        self.append((done, total))

    def check(self) -> None:
        assert self, "progress was never called"
        done = [d for d, _ in self]
        assert done == sorted(done) and len({t for _, t in self}) == 1
        assert self[-1][0] == self[-1][1]



def test_beta_binomial_fit_reports_each_model_and_stage(small):
    tidy, _ = sampling.read_counts(small)
    calls = Calls()
    result = sampling.fit_coverage(tidy, method="beta-binomial", bootstrap=20, progress=calls)
    calls.check()
    assert calls[-1] == (4, 4)  # 2 models x (fit, bootstrap)
    quiet = sampling.fit_coverage(tidy, method="beta-binomial", bootstrap=20)
    assert "progress" not in result.settings
    assert quiet.summary().equals(result.summary())


def test_powerlaw_fit_reports_each_model(small):
    tidy, _ = sampling.read_counts(small)
    calls = Calls()
    sampling.fit_coverage(tidy, bootstrap=0, progress=calls)
    assert calls == [(1, 2), (2, 2)]


def test_per_reader_datastore_fit_reports_each_reader():
    measurements = ds.read(DATA / "datastore" / "massiveds_simulated.csv")
    calls = Calls()
    result = ds.fit_datastore(measurements, progress=calls)
    calls.check()
    assert calls[-1][1] == len(result.readers.fits)
    assert "progress" not in result.settings


def test_transport_demo_counts_every_training_run():
    calls = Calls()
    result = demo.demonstrate(step=0.25, repeats=1, eval_step=0.5, eval_repeats=1, pilot_sizes=(40, 80),
                              iterations=5, progress=calls)
    calls.check()
    # 15 mixtures x 2 sizes of pilots, 6 evaluated mixtures, the selected and the uniform mixture
    assert calls[-1] == (15 * 2 + 6 + 2, 38)
    assert len(calls) == 38
    assert "progress" not in result.settings


def test_cli_shows_progress_on_a_terminal_and_not_with_quiet(cli, small):
    args = ("sampling", "fit", small, "--method", "beta-binomial", "--bootstrap", "20")
    shown = cli(*args, terminal=True)
    assert shown.code == 0, shown.stderr
    assert "fitting" in shown.stderr
    quiet = cli(*args, "--quiet", terminal=True)
    assert quiet.code == 0, quiet.stderr
    assert "fitting" not in quiet.stderr
    assert quiet.stdout == shown.stdout


@pytest.mark.parametrize("command", [("fit", "loss"), ("hparams", "fit"), ("datastore", "fit"),
                                     ("sampling", "fit"), ("transport", "demo")])
def test_slow_commands_take_quiet(cli, command):
    run = cli(*command, "--help")
    assert run.code == 0 and "--quiet" in run.stdout

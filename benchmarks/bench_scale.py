"""Wall time and peak memory of four commands as the table grows from 1e3 to 1e6 rows.

Each command runs in a subprocess of its own per table size, which reports its own peak resident
memory (RSS, VmHWM of /proc/self/status at exit): ``scalelaw fit loss`` on Chinchilla-shaped runs
(L = E + A/N^alpha + B/D^beta with 1% log-normal noise) and ``scalelaw validate loss`` on the same
runs, ``scalelaw sampling passk`` on per-problem sample counts of ten models, and ``scalelaw hparams
fit`` on a learning-rate x batch-size sweep over (N, D) groups.  The tables are synthetic and seeded
(seed 0), written as CSV before the timing starts.

Goal: 1e6 rows within 2 GB peak RSS, and time linear in rows (the 1e6 time within 1.5x of 10x
the 1e5 time).  Prints one table; ``--markdown`` prints it as the table of docs/scaling.md.

    .venv/bin/python benchmarks/bench_scale.py [--sizes 1e3,1e4,1e5,1e6]
        [--commands fit-loss,validate-loss,passk,hparams]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

GOAL_MB = 2048
LINEAR = 1.5


def loss_runs(rows: int, rng: np.random.Generator) -> pd.DataFrame:
    """Chinchilla-shaped runs: N in [1e7, 1e10], D in [1e9, 1e12], Hoffmann's fitted law, 1% noise."""
    n = 10 ** rng.uniform(7, 10, rows)
    d = 10 ** rng.uniform(9, 12, rows)
    loss = (1.69 + 406.4 / n**0.34 + 410.7 / d**0.28) * np.exp(rng.normal(0, 0.01, rows))
    return pd.DataFrame({"params": n, "tokens": d, "loss": loss})


def sample_counts(rows: int, rng: np.random.Generator) -> pd.DataFrame:
    """Ten models, rows / 10 problems each, 100 samples per problem, Beta-distributed success rates."""
    models = np.repeat([f"model-{i}" for i in range(10)], -(-rows // 10))[:rows]
    rate = rng.beta(0.3, 2.0, rows)
    return pd.DataFrame({"model": models, "problem_idx": np.arange(rows) % -(-rows // 10),
                         "n_samples": 100, "n_correct": rng.binomial(100, rate)})


def sweep(rows: int, rng: np.random.Generator) -> pd.DataFrame:
    """An lr x batch sweep: 20 (N, D) groups, rows / 20 runs each, loss quadratic in log lr and log bs
    around Step Law's optimum, 0.5% noise."""
    groups = 20
    n = np.repeat(np.geomspace(6e7, 1e9, 5), 4)
    d = np.tile([2e10, 4e10, 8e10, 1.6e11], 5)
    g = np.arange(rows) % groups
    n, d = n[g], d[g]
    lr_opt = 1.79 * n**-0.713 * d**0.307
    bs_opt = 0.58 * d**0.571
    lr = lr_opt * np.exp(rng.uniform(-1.5, 1.5, rows))
    bs = np.round(bs_opt * np.exp(rng.uniform(-1.5, 1.5, rows)))
    base = 1.8 + 400 / n**0.34 + 400 / d**0.28
    loss = base * (1 + 0.02 * np.log(lr / lr_opt) ** 2 + 0.01 * np.log(bs / bs_opt) ** 2)
    loss *= np.exp(rng.normal(0, 0.005, rows))
    return pd.DataFrame({"N": n, "D": d, "lr": lr, "bs": bs, "loss": loss})


COMMANDS = {
    "fit-loss": (loss_runs, ["fit", "loss"]),
    "validate-loss": (loss_runs, ["validate", "loss"]),
    "passk": (sample_counts, ["sampling", "passk"]),
    "hparams": (sweep, ["hparams", "fit", "--batch-unit", "tokens"]),
}


# Runs the CLI and writes the process's own peak RSS (VmHWM, in kB) to the file named last: the
# child's rusage would also count the benchmark's memory, inherited at fork.
LAUNCH = """import atexit, sys
out = sys.argv.pop()
def peak():
    with open("/proc/self/status") as f, open(out, "w") as o:
        o.write(next(line.split()[1] for line in f if line.startswith("VmHWM")))
atexit.register(peak)
from scalelaw.cli import main
sys.argv[0] = "scalelaw"
main()
"""


def measure(args: list[str], folder: str) -> tuple[float, float, int]:
    """Wall seconds, peak RSS in MB and exit code of one ``scalelaw`` run in a subprocess."""
    peak = Path(folder) / "peak"
    clock = time.perf_counter()
    child = subprocess.run([sys.executable, "-c", LAUNCH, *args, str(peak)], stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - clock
    if child.returncode:
        print(child.stderr.strip().splitlines()[-1:], file=sys.stderr)
    return wall, int(peak.read_text()) / 1024, child.returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1e3,1e4,1e5,1e6", help="Row counts, comma-separated.")
    parser.add_argument("--commands", default=",".join(COMMANDS), help="Of " + ", ".join(COMMANDS) + ".")
    parser.add_argument("--markdown", action="store_true", help="Print the table as Markdown.")
    options = parser.parse_args()
    sizes = [int(float(s)) for s in options.sizes.split(",")]
    rows_out, ok = [], True
    with tempfile.TemporaryDirectory() as folder:
        for name in options.commands.split(","):
            make, command = COMMANDS[name]
            times = {}
            for rows in sizes:
                path = Path(folder) / f"{name}-{rows}.csv"
                make(rows, np.random.default_rng(0)).to_csv(path, index=False)
                wall, rss, code = measure([*command, str(path), "--json"], folder)
                times[rows] = wall
                ok &= code == 0 and (rows < 1_000_000 or rss <= GOAL_MB)
                ratio = wall / (10 * times[rows // 10]) if rows // 10 in times else float("nan")
                ok &= not ratio > LINEAR
                rows_out.append((name, rows, wall, rss, ratio, code))
                print(f"{name:9s} {rows:>9,} rows  {wall:8.2f} s  {rss:8.0f} MB  "
                      f"t/(10 t_prev) {ratio:5.2f}  exit {code}", file=sys.stderr, flush=True)
    if options.markdown:
        print("| command | rows | wall time (s) | peak RSS (MB) | time / (10 x previous) |")
        print("|---|---:|---:|---:|---:|")
        for name, rows, wall, rss, ratio, code in rows_out:
            shown = "" if ratio != ratio else f"{ratio:.2f}"
            print(f"| `{' '.join(COMMANDS[name][1][:2])}` | {rows:,} | {wall:.2f} | {rss:.0f} | {shown} |"
                  + ("" if code == 0 else f" exit {code} |"))
    else:
        print(f"{'command':10s} {'rows':>10s} {'wall s':>9s} {'peak MB':>9s} {'t/(10 t_prev)':>14s}")
        for name, rows, wall, rss, ratio, _ in rows_out:
            print(f"{name:10s} {rows:>10,} {wall:9.2f} {rss:9.0f} {ratio:14.2f}")
    print(f"goal (1e6 rows within {GOAL_MB} MB, time within {LINEAR}x of linear): "
          f"{'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())

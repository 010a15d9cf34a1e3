"""Start-up time of the command line against a bare typer app with the same top-level commands.

The reference is what any typer CLI pays before it does any work: a typer app with scalelaw's eight
command groups (fit, validate, datastore, downstream, hparams, transport, mix, sampling) and its three
top-level commands (predict, optimal, laws), each with an empty command, printing its ``--help``.
scalelaw's ``--help`` and ``laws`` (which loads the law catalogue, so numpy) are timed against it.
Every run is a fresh subprocess; the runs of the three commands are interleaved, so a busy machine
slows all of them alike, and the medians are compared.  The subprocesses may write bytecode (as an
installed package has it), whatever PYTHONDONTWRITEBYTECODE says: compiling the sources on every start
is not what a user's command line pays.

    .venv/bin/python benchmarks/bench_cli.py [--repeats 15]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

GROUPS = ("fit", "validate", "datastore", "downstream", "hparams", "transport", "mix", "sampling")
COMMANDS = ("predict", "optimal", "laws")

REFERENCE = f'''
import typer

app = typer.Typer(name="scalelaw", help="A bare typer app.", no_args_is_help=True, rich_markup_mode="rich")
for name in {GROUPS!r}:
    group = typer.Typer(help=f"The {{name}} commands.", no_args_is_help=True)
    group.command("run", help="An empty command.")(lambda: None)
    app.add_typer(group, name=name)
for name in {COMMANDS!r}:
    app.command(name, help="An empty command.")(lambda: None)
app(prog_name="scalelaw")
'''

SCALELAW = "from scalelaw.cli import main; main()"


def run_once(code: str, args: list[str]) -> float:
    """Wall time (s) of one fresh interpreter running ``code`` with ``args``; fails loudly on an error."""
    start = time.perf_counter()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{args}: exit {done.returncode}\n{done.stderr}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15, help="runs of each command (median)")
    args = parser.parse_args()

    cases = {"bare typer app --help": (REFERENCE, ["--help"]),
             "scalelaw --help": (SCALELAW, ["--help"]),
             "scalelaw laws": (SCALELAW, ["laws"])}
    for code, argv in cases.values():  # warm the file cache and the bytecode once
        run_once(code, argv)
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(args.repeats):
        for name, (code, argv) in cases.items():
            times[name].append(run_once(code, argv))
    medians = {name: statistics.median(values) for name, values in times.items()}
    reference = medians["bare typer app --help"]
    print(f"start-up time, median of {args.repeats} fresh processes each (interleaved)", flush=True)
    for name, value in medians.items():
        print(f"  {name:22s}: {value:6.3f} s   {value / reference:4.2f}x the bare app", flush=True)


if __name__ == "__main__":
    main()

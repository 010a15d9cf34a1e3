"""Held-out extrapolation error of three estimators on every shipped loss set with at least 4 scales.

Each set is split as ``scalelaw validate loss`` splits it: the runs with the largest 20% of FLOPs are
held out, the law is fitted on the rest.  Estimators:

* ``hoffmann``: the Chinchilla law, Huber (delta 1e-3) on log loss, Hoffmann et al.'s 4,500-point grid
  of starts (Approach 3 as published);
* ``asymmetric``: the Chinchilla law with the lower-envelope loss of the ``chinchilla`` package
  (``loss="asymmetric"``), same starts;
* ``auto``: ``fit_loss(frame, "auto")``, the catalogue's loss laws with the huber, squared and
  asymmetric losses, weighted by rolling-origin error over FLOPs scales.

For each: held-out MAPE (%) and max |error| (loss units), and the share of held-out runs inside the
80% and 95% prediction intervals (``p80``, ``p95``: bootstrap parameters, residual scatter from each
fit's noise model, and for ``auto`` the law form too) and inside the 95% bootstrap confidence interval
(``c95``: parameters only, which a single run is not expected to fall in at nominal rate).

Sets: the 240 Chinchilla runs (Hoffmann's 245 less the 5 highest losses), the chinchilla package's
234-run subset, the Open-Athena extraction snapped to 9 budgets (from ../shared/data, skipped when
absent) and each of Porian et al.'s 15 isoFLOP configurations.  The OLMo checkpoint losses are left
out: each loss column holds one model size, so no law of N and D can be identified on them.

    .venv/bin/python benchmarks/bench_extrapolation.py [--bootstrap 100] [--sets chinchilla,porian]
"""

from __future__ import annotations

import argparse
import json
import os
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from scalelaw import engine, get_law
from scalelaw.families import loss

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data" / "loss"
SHARED = Path(os.environ.get("SCALELAW_SHARED_DATA", ROOT.parent / "shared" / "data")) / "loss"
PORIAN_KEYS = ["dataset", "hparams", "warmup", "decay", "param_count", "loss_split"]


def sets(chosen: set[str]) -> dict[str, pd.DataFrame]:
    """Name -> prepared (params, tokens, flops, loss) table."""
    out = {}
    if "chinchilla" in chosen:
        table = pd.read_csv(DATA / "epoch_chinchilla_svg_extracted.csv").rename(
            columns={"Model Size": "params", "Training FLOP": "flops"})
        out["chinchilla-240"] = loss.prepare(table[["params", "flops", "loss"]], exclude_highest=5)[0]
        kyo = pd.read_csv(DATA / "kyotakano_chinchilla_examples_llm_df.csv").rename(
            columns={"N": "params", "D": "tokens", "C": "flops"})
        out["chinchilla-pkg-234"] = loss.prepare(kyo[["params", "tokens", "flops", "loss"]])[0]
        athena = SHARED / "openathena_extract_ml_scalefit_chinchilla.csv"
        if athena.exists():
            frame = pd.read_csv(athena)
            out["openathena-124"] = loss.prepare(frame[["params", "tokens", "loss"]])[0]
    if "porian" in chosen:
        porian = pd.read_csv(DATA / "porian_isoflop_points.csv")
        for key, group in porian.groupby(PORIAN_KEYS):
            out["porian:" + "/".join(key)] = loss.prepare(group[["params", "tokens", "flops", "loss"]])[0]
    return out


def coverage(actual: np.ndarray, interval) -> float:
    _, lo, hi = interval
    return float(100 * np.mean((actual >= lo) & (actual <= hi)))


def estimate(name: str, train: pd.DataFrame, test: pd.DataFrame, bootstrap: int) -> dict:
    clock = time.perf_counter()
    if name == "auto":
        result = loss.fit_loss(train, "auto", bootstrap=bootstrap, seed=0)
    else:
        result = engine.fit(get_law("chinchilla"), train, loss="huber" if name == "hoffmann" else "asymmetric",
                            starts="hoffmann", bootstrap=bootstrap, seed=0)
    predicted = result.predict(test, warn=False)
    actual = test["loss"].to_numpy(dtype=float)
    error = predicted - actual
    row = {"estimator": name, "mape": float(100 * np.mean(np.abs(error / actual))),
           "max_abs_error": float(np.max(np.abs(error)))}
    if bootstrap:
        for kind, level in (("prediction", 0.8), ("prediction", 0.95), ("confidence", 0.95)):
            row[f"{kind[0]}{int(100 * level)}"] = coverage(
                actual, result.predict_interval(test, level, interval=kind, warn=False))
    row["seconds"] = time.perf_counter() - clock
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bootstrap", type=int, default=100, help="bootstrap replicates per fit (0: no coverage)")
    parser.add_argument("--sets", default="chinchilla,porian", help="comma-separated: chinchilla, porian")
    parser.add_argument("--json", type=Path, default=None, help="also write the rows to this JSON file")
    args = parser.parse_args()
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # extrapolation warnings: holding out the largest runs is the point
        for set_name, frame in sets(set(args.sets.split(","))).items():
            held = loss.holdout_mask(frame, top_frac=0.2, order_by="flops")
            train, test = frame.loc[~held], frame.loc[held]
            found = {}
            for name in ("hoffmann", "asymmetric", "auto"):
                found[name] = estimate(name, train, test, args.bootstrap)
                rows.append({"set": set_name, "train": len(train), "held_out": len(test), **found[name]})
            best = min(found["hoffmann"]["mape"], found["asymmetric"]["mape"])
            rows[-1]["auto_at_or_below_best"] = bool(found["auto"]["mape"] <= best + 1e-12)
    table = pd.DataFrame(rows)
    with pd.option_context("display.width", 200, "display.max_rows", 200):
        print(table.drop(columns=["seconds"]).to_string(index=False, float_format=lambda v: f"{v:.3g}"))
    auto = table[table.estimator == "auto"]
    print(f"\nauto at or below the best single estimator's held-out MAPE on {int(auto.auto_at_or_below_best.sum())} "
          f"of {len(auto)} sets; total {table.seconds.sum():.0f} s")
    if args.bootstrap:
        print("mean coverage of held-out runs (%): "
              + "; ".join(f"{e}: prediction 80% {g.p80.mean():.0f}, 95% {g.p95.mean():.0f}, confidence 95% "
                          f"{g.c95.mean():.0f}" for e, g in table.groupby("estimator", sort=False)))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
